"""Counting the SQL statements one request sends, so that a hot path's cost can be asserted and can't creep back."""

from __future__ import annotations

import html as html_lib
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


@contextmanager
def query_plans():
    """Yields {statement: SQLite's EXPLAIN QUERY PLAN rows (id, parent, notused, detail)} for every read sent while
    the block runs; `plan_text` puts one statement's plan on a line."""
    plans: dict[str, list[tuple]] = {}
    engine = db.engine

    def explain(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            plans[statement] = [
                tuple(row) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            ]

    event.listen(engine, "before_cursor_execute", explain)
    try:
        yield plans
    finally:
        event.remove(engine, "before_cursor_execute", explain)


def plan_text(rows: list[tuple]) -> str:
    return " / ".join(str(row[-1]) for row in rows)


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def writes(seen: list[str]) -> list[str]:
    """Writes, and a lock taken to write (SQLite's BEGIN IMMEDIATE, PostgreSQL's FOR UPDATE)."""
    return [s for s in seen if s.lstrip().upper().startswith(WRITES) or s == "BEGIN IMMEDIATE" or "FOR UPDATE" in s]


def view(client, path: str) -> tuple[str, list[str]]:
    """A page's words (entities unescaped) and the statements its request sent."""
    with statements() as seen:
        response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return html_lib.unescape(response.get_data(as_text=True)), seen
