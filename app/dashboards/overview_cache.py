"""The organisers' dashboard's figures, kept a few seconds for every worker and app server, and dropped by every
write to what they are worked out from.

One row (`dashboard_cache`) holds a generation and, beside it, the figures as last worked out and the generation
they were worked out at. Triggers in the database on every table the figures read add one to the generation in
the transaction of the change itself (on PostgreSQL as it commits), whatever wrote it: a web request, the CLI,
an import, the mail worker, the anonymiser, a bulk UPDATE; and they empty the stored figures with it, so nothing
a change took away (an erased person's name) is kept. A view uses the stored figures only while their
generation is the current one and they are younger than DASHBOARD_CACHE_SECONDS; otherwise it works them out
again and stores them, unless a write came in between. So a change is on the very next view, on every server,
and nothing the triggers can't see (the day turning, say) is shown older than those few seconds.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import CheckConstraint, Connection, Integer, Table, Text, event, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, db, utcnow
from app.dashboards import organiser_page
from app.dashboards.organiser_page import Bounce, Breakdown, ChampionRow, Day, FringeRow, Overview
from invitations import waitlist
from invitations.models import InvitationState

# Every table the overview reads (organiser_page.organiser_overview); a write to any of them is a new generation.
WATCHED = ("invitation", "registration", "attendance", "fringe_event", "fringe_signup", "leader_note", "user", "summit")


class DashboardCache(Base):
    __tablename__ = "dashboard_cache"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cached_generation: Mapped[int | None] = mapped_column(Integer)
    cached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload: Mapped[str | None] = mapped_column(Text)


def _sqlite_triggers(table: str) -> list[str]:
    # Not INSERT OR IGNORE: a trigger fired by a foreign key's action (ON DELETE SET NULL, deleting an invitation
    # another was sent in place of) runs under that action's conflict rule, which overrides the IGNORE.
    return [
        f'CREATE TRIGGER IF NOT EXISTS dashboard_generation_{table}_{op.lower()} AFTER {op} ON "{table}" BEGIN '
        "INSERT INTO dashboard_cache (id, generation) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM dashboard_cache); "
        "UPDATE dashboard_cache SET generation = generation + 1, cached_generation = NULL, payload = NULL "
        "WHERE id = 1; END"
        for op in ("INSERT", "UPDATE", "DELETE")
    ]


# At the commit (a deferred trigger), once a transaction: the row is locked only from the commit's start to its
# end, after every other lock the transaction took, so a writer waits at most for another's commit on it, and
# the holder waits for nothing else (no deadlock can pass through it).
POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION dashboard_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('newhorizons.dashboard_bumped', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('newhorizons.dashboard_bumped', txid_current()::text, true);
        INSERT INTO dashboard_cache (id, generation) VALUES (1, 1)
            ON CONFLICT (id) DO UPDATE
            SET generation = dashboard_cache.generation + 1, cached_generation = NULL, payload = NULL;
    END IF;
    RETURN NULL;
END $$
"""


def _postgresql_triggers(table: str) -> list[str]:
    name = f"dashboard_generation_{table}"
    return [
        f'DROP TRIGGER IF EXISTS {name} ON "{table}"',
        f'CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON "{table}" '
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dashboard_generation_bump()",
    ]


def trigger_statements(dialect: str) -> list[str]:
    """The DDL that keeps the generation (migration 0018 holds the same)."""
    if dialect == "postgresql":
        return [POSTGRESQL_FUNCTION] + [s for table in WATCHED for s in _postgresql_triggers(table)]
    return [s for table in WATCHED for s in _sqlite_triggers(table)]


@event.listens_for(Base.metadata, "after_create")
def _install_triggers(metadata, connection: Connection, **_kw) -> None:
    """create_all (the tests, the benchmarks) makes the triggers too, as the migration does."""
    for statement in trigger_statements(connection.dialect.name):
        connection.execute(text(statement))


# --- the stored figures --------------------------------------------------------------------------------------


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def dumps(overview: Overview) -> str:
    """The overview as JSON (everything but the summit, which each view reads afresh)."""
    return json.dumps(
        {
            "states": {state.value: n for state, n in overview.states.items()},
            "funnel": overview.funnel,
            "days": [[d.day.isoformat(), d.new, d.total] for d in overview.days],
            "organisations": [asdict(row) for row in overview.organisations],
            "organisation_total": overview.organisation_total,
            "sectors": [asdict(row) for row in overview.sectors],
            "sector_total": overview.sector_total,
            "champions": [asdict(row) | {"last_activity": _stamp(row.last_activity)} for row in overview.champions],
            "leader_total": overview.leader_total,
            "fringe": [asdict(row) | {"starts_at": _stamp(row.starts_at)} for row in overview.fringe],
            "bounces": [asdict(row) | {"bounced_at": _stamp(row.bounced_at)} for row in overview.bounces],
            "bounce_total": overview.bounce_total,
        },
        separators=(",", ":"),
    )


def loads(payload: str, summit) -> Overview:
    data = json.loads(payload)
    return Overview(
        summit=summit,
        states={InvitationState(state): n for state, n in data["states"].items()},
        funnel=data["funnel"],
        days=[Day(date.fromisoformat(day), new, total) for day, new, total in data["days"]],
        organisations=[Breakdown(**row) for row in data["organisations"]],
        organisation_total=data["organisation_total"],
        sectors=[Breakdown(**row) for row in data["sectors"]],
        sector_total=data["sector_total"],
        champions=[ChampionRow(**row | {"last_activity": _when(row["last_activity"])}) for row in data["champions"]],
        leader_total=data["leader_total"],
        fringe=[FringeRow(**row | {"starts_at": _when(row["starts_at"])}) for row in data["fringe"]],
        bounces=[Bounce(**row | {"bounced_at": _when(row["bounced_at"])}) for row in data["bounces"]],
        bounce_total=data["bounce_total"],
    )


def organiser_overview(summit) -> Overview:
    """The dashboard's figures: the stored ones while no write has come since they were worked out and they are
    younger than DASHBOARD_CACHE_SECONDS (one statement, and one more for the offers that have run out since),
    otherwise worked out afresh and stored."""
    seconds = current_app.config.get("DASHBOARD_CACHE_SECONDS", 0)
    if seconds <= 0:
        return organiser_page.organiser_overview(summit)
    now = utcnow()
    row = db.session.execute(
        select(
            DashboardCache.generation,
            DashboardCache.cached_generation,
            DashboardCache.cached_at,
            DashboardCache.payload,
        ).where(DashboardCache.id == 1)
    ).first()
    generation = row.generation if row else 0
    if row and row.payload and row.cached_generation == generation and row.cached_at:  # noqa: SIM102
        if now - timedelta(seconds=seconds) < row.cached_at <= now:  # younger than the setting (and not ahead)
            overview = loads(row.payload, summit)
            # Offers run out with the clock, not with a write: counted afresh at each view (one statement).
            overview.offers_lapsed = waitlist.lapsed_offers(now)
            return overview
    overview = organiser_page.organiser_overview(summit, now)
    _store(generation, now, dumps(overview))
    return overview


def _store(generation: int, now: datetime, payload: str) -> None:
    """Keep the figures worked out at `generation`, unless a write has moved it on since (then the next view
    works them out again). In a transaction of its own: the request's own stays a read. On SQLite, only if the
    write lock is free (on PostgreSQL the row is locked only for the moment a writer commits)."""
    dialect = db.engine.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = DashboardCache.__table__
    assert isinstance(table, Table)
    values = dict(id=1, generation=generation, cached_generation=generation, cached_at=now, payload=payload)
    statement = insert(table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.id],
        set_={"cached_generation": generation, "cached_at": now, "payload": payload},
        where=table.c.generation == generation,
    )
    try:
        with db.writing_apart(wait=False) as connection:
            connection.execute(statement)
    except OperationalError as error:
        if "locked" not in str(error):
            raise
        # A writer holds SQLite's lock: pages that read never queue behind writers, and this one has its figures.
        # The next view works them out again.
