"""Fixtures: an app on SQLite (always) or PostgreSQL, its client, CLI runner and session; the run's order.

The helpers they use, and every helper a test imports, are in tests/support/ (apps.py builds the apps).
"""

from __future__ import annotations

import pytest

from app.core.db import db
from app.core.mail import backends as mail_backends
from tests.support.apps import FreshSessionClient, finish_session, make_app

pytest_plugins = ["tests.support.skip_summary"]


# The tests that take longest (about 5-30 s each on a quiet 2-core machine, from --durations), longest first,
# named by the start of their ids. `make test` runs the suite in several processes, handing out one test at a
# time, in collection order, to whichever process is free (-n 2 --maxschedchunk 1): these go first, so that no
# process is left with a long one while the others have finished.
LONGEST_FIRST = (
    "tests/e2e/test_accessibility.py::",
    "tests/e2e/test_decoder_frames.py::",
    "tests/integration/test_person_races.py::test_every_pair",
    "tests/e2e/test_scanner.py::test_camera_green",
    "tests/integration/test_two_app_servers.py::",
    "tests/e2e/test_scanner.py::test_offline_scans_wait",
    "tests/integration/test_person_races.py::",
    "tests/integration/test_capacity_race.py::test_race_grants",
    "tests/integration/test_shared_rate_limits.py::",
    "tests/integration/test_behind_nginx.py::",
)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        return next((n for n, start in enumerate(LONGEST_FIRST) if item.nodeid.startswith(start)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest as they were found


def pytest_sessionfinish(session):
    finish_session()


@pytest.fixture(params=["sqlite"])
def app(request, tmp_path):
    """The app on SQLite; parametrize with `both_databases` to run on PostgreSQL as well."""
    application = make_app(request.param, tmp_path, shared_engine=True)
    application.test_client_class = FreshSessionClient
    mail_backends.SENT_IN_MEMORY.clear()
    with application.app_context():
        yield application
    with application.app_context():
        db.engine.dispose()


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
