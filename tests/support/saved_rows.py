"""A start state made through the services once, then put back as rows: the same world for a fraction of the time.

Save every table's rows after making the state; put them back (with their own ids) into empty tables later. The
dashboard's kept figures are left to the triggers that keep them: every row put back moves their generation on.
"""

from __future__ import annotations

from sqlalchemy import Integer, exists, or_, select, text

from app.core.db import Base, db

Rows = dict[str, list[dict]]
LEFT_TO_TRIGGERS = frozenset({"dashboard_cache"})


def rows_of_every_table(skip: frozenset[str] = LEFT_TO_TRIGGERS) -> Rows:
    """Every table's rows (but `skip`'s), by table name, in primary-key order."""
    return {
        table.name: [dict(row) for row in db.session.execute(select(table).order_by(*table.primary_key)).mappings()]
        for table in Base.metadata.sorted_tables
        if table.name not in skip
    }


def every_table_empty(skip: frozenset[str] = LEFT_TO_TRIGGERS) -> bool:
    """Whether the database holds no rows (but `skip`'s): saved rows can go back in as they were."""
    tables = [table for table in Base.metadata.sorted_tables if table.name not in skip]
    return not db.session.scalar(select(or_(*(exists().select_from(table) for table in tables))))


def put_back(rows: Rows) -> None:
    """Insert saved rows with their own ids, parents first; on PostgreSQL each id sequence then goes on from the
    largest id put back, so the next row made gets a new one (SQLite's ids go on from the largest by themselves)."""
    for table in Base.metadata.sorted_tables:
        if rows.get(table.name):
            db.session.execute(table.insert(), rows[table.name])
    if db.engine.dialect.name == "postgresql":
        for table in Base.metadata.sorted_tables:
            keys = list(table.primary_key)
            if rows.get(table.name) and len(keys) == 1 and isinstance(keys[0].type, Integer):
                key = keys[0].name
                db.session.execute(
                    text("SELECT setval(pg_get_serial_sequence(:table, :key), :largest)"),
                    {"table": f'"{table.name}"', "key": key, "largest": max(row[key] for row in rows[table.name])},
                )
    db.session.commit()
