"""On SQLite, a request that only reads takes no write lock, so it never queues behind a writer; a request
that writes takes the lock up front (BEGIN IMMEDIATE) and reads what it decides on under it."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from flask import Flask
from sqlalchemy import select

from app.core.auth.models import Role
from app.core.db import WriteInReadOnlyRequest, db
from invitations.models import Invitation
from tests.support import PATIENCE_SECONDS
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.checkin import scan, steward_token
from tests.support.factories import link


def sqlite_file(app: Flask) -> str:
    return db.engine.url.database or ""


class WriteLockHeld:
    """Another process's writer, in the middle of a long transaction: it holds SQLite's write lock."""

    def __init__(self, path: str):
        self.connection = sqlite3.connect(path, isolation_level=None, timeout=0.1)

    def __enter__(self):
        db.session.commit()  # the test's own transaction, if it has one, ends first
        self.connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *exc):
        self.connection.execute("COMMIT")
        self.connection.close()


def in_thread(fn) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(fn()), daemon=True)
    thread.start()
    return thread, result


@pytest.fixture
def door_app(tmp_path):
    app = make_app("sqlite", tmp_path)
    with app.app_context():
        f.summit()
        token = steward_token()
        ada = f.registered(name="Ada Lovelace")
        organiser = f.user(role=Role.ORGANISER)
        db.session.commit()
        yield app, token, ada, organiser
        db.engine.dispose()


def test_pages_that_only_read_answer_while_a_writer_holds_the_lock(door_app):
    app, token, ada, organiser = door_app
    organiser_client, delegate_client, door = app.test_client(), app.test_client(), app.test_client()
    f.sign_in(organiser_client, organiser)
    delegate_link, code = link(ada), ada.code
    delegate_client.get(delegate_link)  # the first opening is written now, not under the held lock
    door.get("/api/v1/checkin/events", headers={"Authorization": f"Bearer {token}"})  # so is the token's first use
    reads = [
        lambda: organiser_client.get("/organiser/").status_code,
        lambda: delegate_client.get(delegate_link).status_code,
        lambda: door.get("/api/v1/checkin/events", headers={"Authorization": f"Bearer {token}"}).status_code,
        lambda: (
            door.get("/api/v1/checkin/counts?event=summit", headers={"Authorization": f"Bearer {token}"}).status_code
        ),
    ]
    with WriteLockHeld(sqlite_file(app)):
        for read in reads:
            thread, result = in_thread(read)
            thread.join(PATIENCE_SECONDS)
            assert not thread.is_alive(), "a page that only reads waited for the write lock"
            assert result == [200]
        # A write does wait for the lock, and goes through once it is free.
        writer, outcome = in_thread(lambda: scan(door, token, code).get_json()["status"])
        writer.join(0.5)
        assert writer.is_alive(), "a check-in wrote while another writer held the lock"
    writer.join(PATIENCE_SECONDS)
    assert outcome == ["ok"]


def test_a_page_that_writes_once_says_so_and_takes_the_lock(door_app):
    app, token, ada, organiser = door_app
    client = app.test_client()
    assert ada.opened_at is None
    delegate_link, ada_id = link(ada), ada.id
    with WriteLockHeld(sqlite_file(app)):
        first_opening, result = in_thread(lambda: client.get(delegate_link).status_code)
        first_opening.join(0.5)
        assert first_opening.is_alive()  # writing opened_at: it waits for the lock like any writer
    first_opening.join(PATIENCE_SECONDS)
    assert result == [200]
    db.session.expire_all()
    assert db.session.get(Invitation, ada_id).opened_at is not None


def test_a_write_in_a_reading_request_that_did_not_say_so_is_refused(tmp_path):
    app = make_app("sqlite", tmp_path)

    @app.get("/sneaky-write")
    def sneaky_write():
        for invitation in db.session.scalars(select(Invitation)):
            invitation.name = "Changed by a GET"
        db.session.commit()
        return "written"

    @app.get("/declared-write")
    def declared_write():
        db.will_write()
        for invitation in db.session.scalars(select(Invitation)):
            invitation.name = "Changed, as declared"
        db.session.commit()
        return "written"

    refused: list[Exception] = []

    def refuse(error):
        refused.append(error)
        db.session.rollback()
        return "refused", 500

    app.register_error_handler(WriteInReadOnlyRequest, refuse)
    with app.app_context():
        f.invitation(name="Ada")
        db.session.commit()
        client = app.test_client()
        assert client.get("/sneaky-write").status_code == 500
        assert "UPDATE in a request that only reads" in str(refused[0])
        assert db.session.scalars(select(Invitation.name)).all() == ["Ada"]
        assert client.get("/declared-write").status_code == 200
        db.session.expire_all()
        assert db.session.scalars(select(Invitation.name)).all() == ["Changed, as declared"]
        db.engine.dispose()
