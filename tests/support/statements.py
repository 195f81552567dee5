"""Counting the SQL statements one request sends, so that a hot path's cost can be asserted and can't creep back."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from app.core.db import db


@contextmanager
def statements():
    """Yields the list of statements sent to the database while the block runs (BEGIN and COMMIT included)."""
    seen: list[str] = []
    engine = db.engine

    def on_execute(conn, cursor, statement, *args):
        seen.append(statement)

    def on_begin(conn):
        seen.append("BEGIN")

    def on_commit(conn):
        seen.append("COMMIT")

    def on_rollback(conn):
        seen.append("ROLLBACK")

    listeners = [
        ("before_cursor_execute", on_execute),
        ("begin", on_begin),
        ("commit", on_commit),
        ("rollback", on_rollback),
    ]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)
