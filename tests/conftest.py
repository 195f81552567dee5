"""Fixtures: an app on SQLite (always) or PostgreSQL (when TEST_POSTGRES_URL is set), client, runner, login helpers."""
from __future__ import annotations

import os
import re

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from app.db import Base, db
from app.mail import backends as mail_backends
from config import TestingConfig, normalise_database_url

import app.audit  # noqa: F401  (load every model onto Base.metadata)
import app.checkin.models  # noqa: F401
import app.mail.models  # noqa: F401
import fringe_events.models  # noqa: F401
import invitations.models  # noqa: F401

PG_URL = os.environ.get("TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"


def postgres_url_or_skip() -> str:
    if not PG_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL")
    url = normalise_database_url(PG_URL)
    try:
        with create_engine(url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001  (any failure to connect means the same thing here)
        if REQUIRE_POSTGRES:
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    return url


def database_url(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    if kind == "postgres":
        return postgres_url_or_skip()
    raise ValueError(kind)


def make_app(kind: str, tmp_path, **overrides):
    config = {k: getattr(TestingConfig, k) for k in dir(TestingConfig) if k.isupper()}
    config.update(DATABASE_URL=database_url(kind, tmp_path), MAIL_FILE_DIR=str(tmp_path / "outbox"), **overrides)
    application = create_app(config)
    with application.app_context():
        if kind == "postgres":
            # One shared test database: start every test from an empty schema.
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
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
