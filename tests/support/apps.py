"""Apps for tests: the testing app on SQLite or PostgreSQL, each test starting from empty tables, built cheaply.

PostgreSQL tests run on TEST_POSTGRES_URL when it is set; otherwise, when a PostgreSQL server answers at
127.0.0.1:5432 as user postgres, on a database this run makes for itself and drops at its end. When the suite
runs in several processes (pytest-xdist, `-n`), each process makes a database of its own, beside
TEST_POSTGRES_URL's when it is set, and drops it at its end.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, QueuePool, create_engine, exists, literal, make_url, or_, select, text
from werkzeug.routing import Rule

import app.core.db as core_db
import app.models  # noqa: F401  (every table registered before create_all)
from app.core.db import SQLITE_BUSY_MS, Base, _configure_sqlite, db, make_engine
from app.factory import create_app
from config import TestingConfig, normalise_database_url, settings_of

GIVEN_PG_URL = os.environ.get("TEST_POSTGRES_URL")
WORKER = os.environ.get("PYTEST_XDIST_WORKER")  # "gw0", "gw1", … in a run of several processes
# Where the PostgreSQL tests run: the given database, unless this run makes its own (postgres_url_or_skip()).
PG_URL = None if WORKER else GIVEN_PG_URL
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
THROWAWAY_DATABASE = (
    f"{make_url(GIVEN_PG_URL).database}_{WORKER}" if GIVEN_PG_URL and WORKER else f"newhorizons_test_{os.getpid()}"
)
_throwaway: dict[str, str] = {}  # "url" once made, or "problem": why it couldn't be
_reachable: set[str] = set()


def _first_line(error: Exception) -> str:
    """The error's first line, without SQLAlchemy's "(psycopg.OperationalError) " in front."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return re.sub(r"^\([\w.]+\) ", "", line)


def _server_url(database: str) -> str:
    """`database` on the server of TEST_POSTGRES_URL, or else on the local one."""
    if GIVEN_PG_URL:
        return make_url(normalise_database_url(GIVEN_PG_URL)).set(database=database).render_as_string(False)
    return normalise_database_url(f"{LOCAL_POSTGRES}/{database}")


def _server_shown() -> str:
    url = make_url(_server_url("postgres"))
    return f"{url.host}:{url.port or 5432}"


def _server_engine():
    return create_engine(
        _server_url(make_url(GIVEN_PG_URL).database if GIVEN_PG_URL else "postgres"),
        isolation_level="AUTOCOMMIT",
        connect_args={"connect_timeout": 10},
    )


def _throwaway_database_url() -> str | None:
    """This process's own database, made on first use (pytest_sessionfinish drops it)."""
    if not _throwaway:
        engine = _server_engine()
        try:
            with engine.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{THROWAWAY_DATABASE}"'))
                connection.execute(text(f'CREATE DATABASE "{THROWAWAY_DATABASE}"'))
        except Exception as error:
            _throwaway["problem"] = _first_line(error)
        else:
            _throwaway["url"] = _server_url(THROWAWAY_DATABASE)
        finally:
            engine.dispose()
    return _throwaway.get("url")


def _drop_throwaway_database() -> None:
    from tests.support.skip_summary import NOTES  # the plugin named in pytest_plugins, imported by pytest first

    engine = _server_engine()
    try:
        with engine.connect() as connection:  # FORCE: a connection a test left open must not keep it alive
            connection.execute(text(f'DROP DATABASE IF EXISTS "{THROWAWAY_DATABASE}" WITH (FORCE)'))
        NOTES.append(
            f"PostgreSQL tests ran on {THROWAWAY_DATABASE}, a database made for this run on {_server_shown()} "
            "and dropped at its end"
            + (" (one for each test process)." if GIVEN_PG_URL else " (TEST_POSTGRES_URL was not set).")
        )
    except Exception as error:
        NOTES.append(
            f"PostgreSQL tests ran on {THROWAWAY_DATABASE} on {_server_shown()}, which could not be "
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
                f"PostgreSQL could not make {THROWAWAY_DATABASE} beside TEST_POSTGRES_URL's database, one for "
                f"this test process ({_throwaway['problem']})"
                if GIVEN_PG_URL
                else "PostgreSQL is not answering at 127.0.0.1:5432 as user postgres and TEST_POSTGRES_URL is "
                f"not set ({_throwaway['problem']})"
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


class _TestEngines:
    """One engine for each kind of database, shared by the apps the `app` fixture makes one test after another.

    An engine keeps its statements compiled (SQLAlchemy's cache is the engine's own), so a test on a new engine
    compiles every statement it sends afresh: about a third of a short test's time. The fixture's app uses the
    process's engine for its kind of database instead. On SQLite each test still has its own file: the engine
    opens whichever file the current test's app is on (its pool is emptied when the test ends, and again before
    it moves to another file). Other apps a test makes get engines of their own, as in production."""

    def __init__(self) -> None:
        self.engines: dict[tuple, Engine] = {}
        self.sqlite_file = ""

    def _connect_sqlite(self) -> sqlite3.Connection:
        return sqlite3.connect(self.sqlite_file, timeout=SQLITE_BUSY_MS / 1000, check_same_thread=False)

    def engine(self, url: str, echo: bool = False, sqlite_begin: str = "IMMEDIATE") -> Engine:
        if not url.startswith("sqlite"):
            key: tuple = (url, echo)
            if key not in self.engines:
                self.engines[key] = make_engine(url, echo=echo)
            return self.engines[key]
        key = ("sqlite", echo, sqlite_begin)
        if key not in self.engines:
            engine = create_engine("sqlite://", echo=echo, creator=self._connect_sqlite, poolclass=QueuePool)
            _configure_sqlite(engine, sqlite_begin)
            self.engines[key] = engine
        engine = self.engines[key]
        file = make_url(url).database or ""
        if file != self.sqlite_file:
            for each in self.engines.values():  # nothing stays connected to the last test's file
                if each.dialect.name == "sqlite":
                    each.dispose()
            self.sqlite_file = file
        return engine

    @contextmanager
    def in_use(self) -> Iterator[None]:
        """Apps made in this block take the shared engines."""
        core_db.make_engine = self.engine
        try:
            yield
        finally:
            core_db.make_engine = make_engine


_test_engines = _TestEngines()


def make_app(kind: str, tmp_path, shared_engine: bool = False, **overrides):
    """The testing app on a database of `kind` at `tmp_path` (its tables empty unless a file is already there),
    with `overrides` in its settings. `shared_engine`: the process's engine for that kind (the `app` fixture)."""
    config = settings_of(TestingConfig)
    config.update(DATABASE_URL=database_url(kind, tmp_path), MAIL_FILE_DIR=str(tmp_path / "outbox"), **overrides)
    sqlite_file = tmp_path / "test.sqlite3"
    fresh_sqlite = kind == "sqlite" and not sqlite_file.exists()  # a second app on the same file sees its rows
    if fresh_sqlite:
        _copy_of_an_empty_sqlite_database(sqlite_file)
    if shared_engine:
        with _test_engines.in_use():
            application = create_app(config)
    else:
        application = create_app(config)
    application.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with application.app_context():
        if kind == "postgres":
            _empty_postgres_tables(config["DATABASE_URL"])
        elif not fresh_sqlite:
            Base.metadata.create_all(db.engine)
    return application


# The PostgreSQL schema's make-up (relations, columns, constraints, types): after a test that changed it (a
# migration test, a control that drops a constraint), it no longer matches what create_all made.
_SCHEMA_SHAPE = text(
    """SELECT
    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'),
    (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND a.attnum > 0 AND NOT a.attisdropped),
    (SELECT count(*) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname = 'public'),
    (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public')"""
)
_RESTART_SEQUENCES = text(
    "SELECT setval(c.oid::regclass, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'S' AND n.nspname = 'public'"
)
_made_shape: dict[str, tuple] = {}  # database URL -> its schema's make-up just after create_all made it
# Rows in one table beyond which the tables are truncated rather than deleted from (see _empty_postgres_tables).
_MANY_ROWS = 500


def _empty_postgres_tables(url: str) -> None:
    """Start the test from empty tables on the shared test database. While the schema is as create_all made it,
    emptying every table (its ids starting again at 1) is enough, and far cheaper than making the schema again."""
    with db.engine.begin() as connection:
        if _made_shape.get(url) == tuple(connection.execute(_SCHEMA_SHAPE).one()):
            tables = Base.metadata.sorted_tables
            if connection.scalar(_any_table_beyond(tables, _MANY_ROWS)):
                # After an import or a bulk test: DELETE would run every foreign key's action and check row by row,
                # where TRUNCATE takes a tenth of a second whatever the rows.
                names = ", ".join(connection.dialect.identifier_preparer.format_table(table) for table in tables)
                connection.execute(text(f"TRUNCATE {names}"))
            else:
                # DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE makes every table's files anew.
                for table in reversed(tables):
                    connection.execute(table.delete())
            connection.execute(_RESTART_SEQUENCES)
            return
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(db.engine)
    with db.engine.connect() as connection:
        _made_shape[url] = tuple(connection.execute(_SCHEMA_SHAPE).one())


def _any_table_beyond(tables, rows: int):
    """Whether any of the tables holds more than `rows` rows (without counting them all)."""
    return select(or_(*(exists(select(literal(1)).select_from(table).offset(rows)) for table in tables)))


class FreshSessionClient(FlaskClient):
    """Each request starts from what the database holds, and from its own signed-in user, as in production.
    (Here requests share the test's app context, so its session and Flask-Login's cached user on `g`.)"""

    def open(self, *args, **kwargs):
        if has_app_context():  # a thread of its own has nothing cached to forget
            db.session.expire_all()
            g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def finish_session() -> None:
    """At the run's end: remove the empty SQLite database and drop this process's PostgreSQL database."""
    for engine in _test_engines.engines.values():
        engine.dispose()
    for made in _empty_sqlite:
        shutil.rmtree(made.parent, ignore_errors=True)
    if "url" in _throwaway:
        _drop_throwaway_database()


# The newest migration, as the CLI names it ("0005" for 0005_outbox_params.py).
LATEST = max(p.name[:4] for p in (Path(__file__).resolve().parents[2] / "migrations" / "versions").glob("0*.py"))
