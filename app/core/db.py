"""Database wiring: the declarative Base, one engine per app, one session per request, SQLite pragmas."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import (
    Connection,
    CursorResult,
    DateTime,
    Engine,
    Enum,
    FromClause,
    MetaData,
    Result,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def enum_column(cls) -> Enum:
    """A portable enum column that stores the members' values and is checked by a constraint."""
    return Enum(
        cls,
        native_enum=False,
        length=20,
        validate_strings=True,
        create_constraint=True,
        values_callable=lambda members: [m.value for m in members],
    )


def changed(result: Result) -> int:
    """How many rows an UPDATE or DELETE changed: 1 means a conditional write won, 0 that it lost."""
    assert isinstance(result, CursorResult)
    return result.rowcount


_PREPARED_INSERTS: dict[tuple[str, str], Any] = {}  # (dialect, table) -> statement


def insert_returning_id(table: FromClause, values: dict, connection: Connection | None = None) -> int | None:
    """One `INSERT … ON CONFLICT DO NOTHING RETURNING id` on `connection` (else the session's), the statement
    built once per table and dialect (for hot paths): the new row's id, or None if a unique constraint already
    held the row. `values` name the table's columns."""
    connection = connection or db.session.connection()
    dialect = connection.dialect.name
    key = (dialect, table.description)
    statement = _PREPARED_INSERTS.get(key)
    if statement is None:
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(table).on_conflict_do_nothing().returning(table.c.id)  # type: ignore[arg-type]
        _PREPARED_INSERTS[key] = statement
    return connection.execute(statement, values).scalar()


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC everywhere and always hands back aware UTC datetimes (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a zone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


SQLITE_BUSY_MS = 20  # SQLite's own wait, kept short: _on_begin does the waiting
SQLITE_LOCK_WAIT_SECONDS = 30


def make_engine(url: str, echo: bool = False, sqlite_begin: str = "IMMEDIATE") -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False}
        )
        _configure_sqlite(engine, sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _configure_sqlite(engine: Engine, begin: str) -> None:
    if begin not in ("IMMEDIATE", "DEFERRED"):
        raise ValueError(f"SQLITE_BEGIN must be IMMEDIATE or DEFERRED, not {begin!r}")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # We issue BEGIN ourselves so that every transaction takes the write lock up front:
        # a deferred transaction that reads then writes fails with "database is locked" under load.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A request that only reads takes no write lock (WAL lets it read beside a writer); everything else
        # takes the write lock up front, so what it decides on can't change under it.
        apart = connection.get_execution_options().get("writes_apart", False)
        mode = "DEFERRED" if begin == "DEFERRED" or (reading_request() and not apart) else "IMMEDIATE"
        connection.info["sqlite_begin"] = mode
        if mode == "DEFERRED":
            connection.exec_driver_sql("BEGIN DEFERRED")  # takes no lock: nothing to wait for
            return
        # SQLite's own busy handler backs off to 100 ms naps, so under contention the lock sits idle
        # while waiters sleep. Polling briefly ourselves hands it over in about a millisecond.
        waits = connection.get_execution_options().get("lock_wait", True)
        deadline = time.monotonic() + (SQLITE_LOCK_WAIT_SECONDS if waits else 0)
        nap = 0.0005
        while True:
            try:
                connection.exec_driver_sql(f"BEGIN {mode}")
                return
            except OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(nap * (0.5 + random.random()))
                nap = min(nap * 1.5, 0.004)

    if begin == "IMMEDIATE":

        @event.listens_for(engine, "before_cursor_execute")
        def _no_write_in_a_read(connection, cursor, statement, parameters, context, executemany):
            if connection.info.get("sqlite_begin") == "DEFERRED" and _WRITES.match(statement):
                raise WriteInReadOnlyRequest(
                    f"{statement.split()[0]} in a request that only reads: call db.will_write() before the "
                    "first change, so that the write lock is taken and what the change depends on is read again"
                )


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class WriteInReadOnlyRequest(RuntimeError):
    """A request that only reads (GET) tried to write without saying so first (db.will_write())."""


def reading_request() -> bool:
    """True in a GET (or HEAD) request that hasn't said it will write: on SQLite its transactions are deferred."""
    return has_request_context() and request.method in _SAFE_METHODS and not g.get("_will_write", False)


@dataclass
class _State:
    engine: Engine
    session: scoped_session


class Database:
    """Reach the current app's engine and request-scoped session as `db.engine` and `db.session`."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(
            app.config["DATABASE_URL"],
            echo=app.config.get("SQL_ECHO", False),
            sqlite_begin=app.config.get("SQLITE_BEGIN", "IMMEDIATE"),
        )
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        app.extensions["db"] = _State(engine=engine, session=scoped_session(factory))

        @app.teardown_request
        def _end_a_read(exc):
            # A reading request's deferred transaction ends with it. (Each request's own app context ends it
            # anyway; where requests share one, as in the tests, it must not carry on into a write.)
            session = app.extensions["db"].session()
            unchanged = not (session.new or session.dirty or session.deleted)
            if session.in_transaction() and unchanged and session.connection().info.get("sqlite_begin") == "DEFERRED":
                session.rollback()
            g.pop("_will_write", None)  # this request's word only, where requests share an app context

        # Roll back whatever a failed request left open, then hand the connection back.
        @app.teardown_appcontext
        def _remove_session(exc):
            state: _State = app.extensions["db"]
            if exc is not None:
                state.session.rollback()
            state.session.remove()

    @property
    def _state(self) -> _State:
        return current_app.extensions["db"]

    @property
    def engine(self) -> Engine:
        return self._state.engine

    @property
    def session(self) -> Session:
        return self._state.session()

    def will_write(self) -> None:
        """Say that this request is about to change something. Outside a GET it changes nothing. In a GET on
        SQLite the transaction so far only read, without the write lock: it is ended (every object read is
        expired) and the next statement begins one that takes the lock, so what the change depends on is read
        again under it. Call it before the first change, never after."""
        if not reading_request():
            return
        g._will_write = True
        session = self.session
        if session.new or session.dirty or session.deleted:
            raise WriteInReadOnlyRequest("db.will_write() must come before the first change, not after it")
        if self.engine.dialect.name == "sqlite" and session.in_transaction():
            session.rollback()

    def commit_if_written(self) -> None:
        """End a GET that may have written (e.g. a token's last use, after db.will_write()): commit then, and only
        then. A request that only read sends no COMMIT (its transaction ends with the request)."""
        if not reading_request():
            self.session.commit()

    @contextmanager
    def writing_apart(self, *, wait: bool = True) -> Iterator[Connection]:
        """A connection and transaction of their own that may write, even in a GET, committed at the block's end:
        for keeping what a reading request worked out (the dashboard's figures), never for a change its rules
        depend on. On SQLite it takes the write lock beside the request's own read, which it leaves as it is;
        with `wait=False` it doesn't queue for the lock behind a writer (SQLite's own few milliseconds aside)
        but raises OperationalError ("database is locked") at once, for what can as well be left undone."""
        with self.engine.connect() as connection:
            connection.execution_options(writes_apart=True, lock_wait=wait)
            with connection.begin():
                yield connection

    def create_all(self) -> None:
        Base.metadata.create_all(self.engine)

    def drop_all(self) -> None:
        Base.metadata.drop_all(self.engine)


db = Database()
