"""Fixtures: an app on SQLite (always) or PostgreSQL, client, runner, login helpers.

PostgreSQL tests run on TEST_POSTGRES_URL when it is set; otherwise, when a PostgreSQL server answers at
127.0.0.1:5432 as user postgres, on a database this run makes for itself and drops at its end.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import create_engine, make_url, text
from werkzeug.routing import Rule

# Every model module, so that Base.metadata holds every table.
import app.audit
import app.checkin.models
import app.mail.models
import fringe_events.models  # noqa: F401
import invitations.models  # noqa: F401
from app import create_app
from app.db import Base, db, make_engine
from app.mail import backends as mail_backends
from config import TestingConfig, normalise_database_url

PG_URL = os.environ.get("TEST_POSTGRES_URL")  # with none set, postgres_url_or_skip() puts the throwaway database here
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
THROWAWAY_DATABASE = f"newhorizons_test_{os.getpid()}"
_throwaway: dict[str, str] = {}  # "url" once made, or "problem": why it couldn't be
_reachable: set[str] = set()

pytest_plugins = ["tests.skip_summary"]


def _first_line(error: Exception) -> str:
    """The error's first line, without SQLAlchemy's "(psycopg.OperationalError) " in front."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return re.sub(r"^\([\w.]+\) ", "", line)


def _server_engine():
    return create_engine(
        normalise_database_url(f"{LOCAL_POSTGRES}/postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 10},
    )


def _throwaway_database_url() -> str | None:
    """This run's own database on the local server, made on first use (pytest_sessionfinish drops it)."""
    if not _throwaway:
        engine = _server_engine()
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{THROWAWAY_DATABASE}"'))
                connection.execute(text(f'CREATE DATABASE "{THROWAWAY_DATABASE}"'))
        except Exception as error:
            _throwaway["problem"] = _first_line(error)
        else:
            _throwaway["url"] = f"{LOCAL_POSTGRES}/{THROWAWAY_DATABASE}"
        finally:
            engine.dispose()
    return _throwaway.get("url")


def pytest_sessionfinish(session):
    for made in _empty_sqlite:
        shutil.rmtree(made.parent, ignore_errors=True)
    if "url" in _throwaway:
        _drop_throwaway_database()


def _drop_throwaway_database() -> None:
    from tests.skip_summary import NOTES  # the plugin named in pytest_plugins, imported by pytest first

    engine = _server_engine()
    try:
        with engine.connect() as connection:  # FORCE: a connection a test left open must not keep it alive
            connection.execute(text(f'DROP DATABASE IF EXISTS "{THROWAWAY_DATABASE}" WITH (FORCE)'))
        NOTES.append(
            f"PostgreSQL tests ran on {THROWAWAY_DATABASE}, a database made for this run on "
            "127.0.0.1:5432 and dropped at its end (TEST_POSTGRES_URL was not set)."
        )
    except Exception as error:
        NOTES.append(
            f"PostgreSQL tests ran on {THROWAWAY_DATABASE} on 127.0.0.1:5432, which could not be "
            f"dropped ({_first_line(error)}): drop it with `psql -h 127.0.0.1 -U postgres -c "
            f"'DROP DATABASE {THROWAWAY_DATABASE}'`."
        )
    finally:
        engine.dispose()


def _postgres_unavailable(message: str) -> NoReturn:
    if REQUIRE_POSTGRES:
        pytest.fail(f"REQUIRE_POSTGRES=1 but {message}")
    pytest.skip(message)


def postgres_url_or_skip() -> str:
    global PG_URL
    if not PG_URL:
        PG_URL = _throwaway_database_url()
        if not PG_URL:
            _postgres_unavailable(
                "PostgreSQL is not answering at 127.0.0.1:5432 as user postgres and TEST_POSTGRES_URL is not set "
                f"({_throwaway['problem']})"
            )
    url = normalise_database_url(PG_URL)
    if url not in _reachable:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as error:
            shown = make_url(url).render_as_string(hide_password=True)
            _postgres_unavailable(f"PostgreSQL unreachable at {shown}: {_first_line(error)}")
        finally:
            engine.dispose()
        _reachable.add(url)
    return url


def database_url(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if kind == "postgres":
        return postgres_url_or_skip()
    raise ValueError(kind)


class SharedTemplateCache(BytecodeCache):
    """Compiled templates shared by every app the tests make: each new app would compile them all again, which
    costs more than most tests. Jinja checks each entry against the template's source before using it."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self._code:
            bucket.bytecode_from_string(self._code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedTemplateCache()

# Every app the tests make compiles the same URL rules into the same builder functions, and that is most of
# create_app's time. A builder is made from the rule's text, parts and defaults alone (Rule._compile_builder in
# werkzeug/routing/rules.py) and is bound to its rule afterwards, so apps share them here.
# tests/unit/test_shared_url_builders.py checks each shared one is the code Werkzeug would compile afresh.
compile_url_builder_afresh = Rule._compile_builder
_url_builders: dict[tuple, Callable] = {}


def url_builder_key(rule: Rule, append_unknown: bool) -> tuple:
    defaults = rule.defaults or {}
    folded = tuple(
        rule._converters[name].to_url(defaults[name]) for dynamic, name in rule._trace if dynamic and name in defaults
    )
    return (
        rule.rule,
        tuple(rule._trace),
        repr(sorted(defaults.items(), key=lambda item: item[0])),
        folded,
        append_unknown,
    )


def _shared_url_builder(rule: Rule, append_unknown: bool = True) -> Callable:
    key = url_builder_key(rule, append_unknown)
    if key not in _url_builders:
        _url_builders[key] = compile_url_builder_afresh(rule, append_unknown)
    return _url_builders[key]


Rule._compile_builder = _shared_url_builder

_empty_sqlite: list[Path] = []  # a database file with every table made and no rows, made once


def _copy_of_an_empty_sqlite_database(path: Path) -> None:
    """Put a file with every table (and no rows) at `path`: a copy costs far less than creating the tables."""
    if not _empty_sqlite:
        made = Path(tempfile.mkdtemp(prefix="newhorizons-schema-")) / "empty.sqlite3"
        engine = make_engine(f"sqlite:///{made}")
        Base.metadata.create_all(engine)
        engine.dispose()  # the last connection closing folds the write-ahead log into the file
        _empty_sqlite.append(made)
    shutil.copyfile(_empty_sqlite[0], path)


def make_app(kind: str, tmp_path, **overrides):
    config = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    config.update(DATABASE_URL=database_url(kind, tmp_path), MAIL_FILE_DIR=str(tmp_path / "outbox"), **overrides)
    sqlite_file = tmp_path / "test.sqlite3"
    fresh_sqlite = kind == "sqlite" and not sqlite_file.exists()  # a second app on the same file sees its rows
    if fresh_sqlite:
        _copy_of_an_empty_sqlite_database(sqlite_file)
    application = create_app(config)
    application.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with application.app_context():
        if kind == "postgres":
            # One shared test database: start every test from an empty schema.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        if not fresh_sqlite:
            Base.metadata.create_all(db.engine)
    return application


@pytest.fixture(params=["sqlite"])
def app(request, tmp_path):
    """The app on SQLite; parametrize with `both_databases` to run on PostgreSQL as well."""
    application = make_app(request.param, tmp_path)
    application.test_client_class = FreshSessionClient
    mail_backends.SENT_IN_MEMORY.clear()
    with application.app_context():
        yield application
    with application.app_context():
        db.engine.dispose()


class FreshSessionClient(FlaskClient):
    """Each request starts from what the database holds, and from its own signed-in user, as in production.
    (Here requests share the test's app context, so its session and Flask-Login's cached user on `g`.)"""

    def open(self, *args, **kwargs):
        if has_app_context():  # a thread of its own has nothing cached to forget
            db.session.expire_all()
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshSessionClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    return db.session


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)
