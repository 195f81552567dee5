"""Server time of the leader's page and the organisers' dashboard with many invitations, as JSON.

    .venv/bin/python bench/dashboards.py                       # SQLite in a temporary file
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/nh_bench .venv/bin/python bench/dashboards.py --reset

Seeds 10,000 invitations and 100 leaders with bulk inserts (states, registrations, fringe sign-ups and
attendance, leaders' notes, bounces), then times ~30 requests of each page through the Flask test client,
after a few warm-up requests. Prints figures; never passes or fails on time. --reset empties the database
first (it refuses to seed into one that already has invitations).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, insert, select, text
from werkzeug.security import generate_password_hash

from app.core.db import utcnow

PASSWORD = "bench-password-1"
ORGANISATIONS = [
    f"{place} {kind}"
    for place in (
        "Ipswich",
        "Babergh",
        "Mid Suffolk",
        "Waveney",
        "Forest Heath",
        "St Edmundsbury",
        "Suffolk Coastal",
        "Lowestoft",
        "Sudbury",
        "Bury",
    )
    for kind in (
        "Borough Council",
        "District Council",
        "Primary Care Trust",
        "Police",
        "Housing Trust",
        "Voluntary Network",
        "College",
        "Chamber of Commerce",
    )
]
SECTORS = ["Local government", "Health", "Police and fire", "Voluntary and community", "Education", "Business"]

# (kind, weight) for a realistic spread: most invitees still to answer, registrations near the target.
REALISTIC = [
    ("unsent", 3),
    ("sent", 30),
    ("opened", 20),
    ("declined", 14),
    ("registered", 2.2),
    ("warm", 0.6),
    ("arrived", 0.4),
    ("waitlisted", 0.5),
    ("offered", 0.05),
    ("bounced", 2),
]
# Every kind, in turn: a small seed still exercises every branch of every query.
CYCLE = ["unsent", "sent", "opened", "declined", "registered", "warm", "arrived", "waitlisted", "offered", "bounced"]


def seed_summit_and_staff(leaders: int) -> list[int]:
    """The summit (350 places), `leaders` leaders and one organiser, all with PASSWORD; returns the leaders'
    ids. Needs an app context; commits."""

    from app.core.auth.models import Role, User
    from app.core.db import db
    from invitations import summit_changes

    summit_changes.configure_summit(capacity=350, target=300)
    password_hash = generate_password_hash(PASSWORD)  # one hash for all: hashing is slow on purpose
    staff = [
        dict(
            email=f"leader{k}@bench.example.org",
            name=f"Leader {k:03d}",
            role="leader",
            password_hash=password_hash,
            organisation=ORGANISATIONS[k % len(ORGANISATIONS)],
        )
        for k in range(leaders)
    ]
    staff.append(
        dict(email="organiser@bench.example.org", name="Organiser", role="organiser", password_hash=password_hash)
    )
    db.session.execute(insert(User), staff)
    leader_ids = list(db.session.scalars(select(User.id).where(User.role == Role.LEADER).order_by(User.id)))
    db.session.commit()
    return leader_ids


def seed_invitations(
    n: int, leader_ids: list[int], *, start: int = 0, rng: random.Random | None = None, realistic: bool = False
) -> int:
    """Bulk-insert n invitations (emails bench{start+i}@…) championed round-robin by leader_ids, with
    registrations, waiting-list entries, fringe sign-ups and attendance, notes and bounces to match.
    Needs an app context; commits. Returns how many were inserted."""
    from app.core.db import db
    from app.core.security import new_badge_code, new_link_selector
    from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, FringeEvent, FringeSignup
    from invitations.models import Invitation, LeaderNote, NoteKind, Registration, WaitlistEntry, WaitlistState

    rng = rng or random.Random(2009)
    now = utcnow()
    events = db.session.scalars(select(FringeEvent).order_by(FringeEvent.id)).all()
    if not events:
        for k in range(12):
            db.session.add(
                FringeEvent(
                    slug=f"bench-fringe-{k}",
                    title=f"Fringe event {k + 1}",
                    venue="Ipswich Town Hall",
                    starts_at=now - timedelta(days=30 - 2 * k),
                    ends_at=now - timedelta(days=30 - 2 * k) + timedelta(hours=2),
                    capacity=60,
                )
            )
        db.session.flush()
        events = db.session.scalars(select(FringeEvent).order_by(FringeEvent.id)).all()

    kinds, weights = zip(*REALISTIC)
    rows, plan = [], {}
    for i in range(start, start + n):
        kind = rng.choices(kinds, weights)[0] if realistic else CYCLE[i % len(CYCLE)]
        sent = now - timedelta(days=rng.randint(3, 40), hours=rng.randint(0, 23))
        email = f"bench{i}@example.org"
        row = dict(
            email=email,
            name=f"Person {i:05d}",
            organisation=ORGANISATIONS[i % len(ORGANISATIONS)],
            job_title="Officer",
            sector=SECTORS[i % len(SECTORS)],
            champion_id=leader_ids[i % len(leader_ids)] if leader_ids else None,
            state="invited",
            link_selector=new_link_selector(),
            code=new_badge_code(),
            created_at=sent,
            sent_at=None if kind == "unsent" else sent,
            last_contact_at=None if kind == "unsent" else sent,
            opened_at=None,
            responded_at=None,
            decline_reason="",
            dont_chase=(i % 23 == 0),
            bounced_at=sent + timedelta(hours=1) if kind == "bounced" else None,
            bounce_reason="550 mailbox unavailable" if kind == "bounced" else "",
        )
        if kind not in ("unsent", "sent", "bounced"):
            row["opened_at"] = sent + timedelta(hours=rng.randint(1, 72))
        if kind in ("declined", "registered", "warm", "arrived", "waitlisted", "offered"):
            row["responded_at"] = row["opened_at"] + timedelta(hours=rng.randint(1, 48))
            row["state"] = {"declined": "declined", "waitlisted": "waitlisted", "offered": "offered"}.get(
                kind, "registered"
            )
        if kind == "declined":
            row["decline_reason"] = rng.choice(["", "Away that week.", "Council meeting the same day."])
        rows.append(row)
        plan[email] = kind
    for chunk in range(0, len(rows), 1000):
        db.session.execute(insert(Invitation), rows[chunk : chunk + 1000])
    emails, ids = list(plan), {}
    for chunk in range(0, len(emails), 500):
        ids.update(
            db.session.execute(
                select(Invitation.email, Invitation.id).where(Invitation.email.in_(emails[chunk : chunk + 500]))
            ).all()
        )

    registrations, waiting, signups, attendance, notes = [], [], [], [], []
    taken = defaultdict(int)
    taken.update(
        db.session.execute(
            select(FringeSignup.fringe_event_id, func.count()).group_by(FringeSignup.fringe_event_id)
        ).all()
    )
    for row in rows:
        kind, inv_id = plan[row["email"]], ids[row["email"]]
        if kind in ("registered", "warm", "arrived"):
            registrations.append(
                dict(
                    invitation_id=inv_id,
                    state="confirmed",
                    registered_at=row["responded_at"],
                    consent_at=row["responded_at"],
                    dietary=rng.choice(["", "", "Vegetarian", "Vegan"]),
                    access_needs=rng.choice(["", "", "", "Step-free access"]),
                )
            )
        if kind in ("waitlisted", "offered"):
            waiting.append(
                dict(
                    invitation_id=inv_id,
                    state=WaitlistState.OFFERED.value if kind == "offered" else "waiting",
                    joined_at=row["responded_at"],
                    offer_expires_at=now + timedelta(hours=24) if kind == "offered" else None,
                )
            )
        if kind in ("registered", "warm", "arrived", "opened"):
            event_ = events[inv_id % len(events)]
            if taken[event_.id] < (event_.capacity or n):  # confirmed sign-ups never pass an event's capacity
                taken[event_.id] += 1
                signups.append(dict(invitation_id=inv_id, fringe_event_id=event_.id, state="confirmed"))
            if kind in ("warm", "arrived"):
                attendance.append(
                    dict(
                        invitation_id=inv_id,
                        event_key=f"fringe:{event_.id}",
                        fringe_event_id=event_.id,
                        checked_in_at=event_.starts_at + timedelta(minutes=10),
                        method="handheld",
                        walk_in=False,
                    )
                )
        if kind == "arrived":
            attendance.append(
                dict(
                    invitation_id=inv_id,
                    event_key=SUMMIT_EVENT_KEY,
                    fringe_event_id=None,
                    checked_in_at=now - timedelta(hours=2),
                    method="camera",
                    walk_in=False,
                )
            )
        if row["champion_id"] and inv_id % 5 == 0:
            notes.append(
                dict(
                    invitation_id=inv_id,
                    leader_id=row["champion_id"],
                    kind=NoteKind.NOTE.value,
                    text="Phoned: will register",
                    at=now - timedelta(days=1),
                )
            )
        if row["champion_id"] and inv_id % 7 == 0 and kind in ("sent", "opened"):
            notes.append(
                dict(
                    invitation_id=inv_id,
                    leader_id=row["champion_id"],
                    kind=NoteKind.NUDGE.value,
                    text="Please come",
                    at=now - timedelta(days=5),
                )
            )
    for model, batch in (
        (Registration, registrations),
        (WaitlistEntry, waiting),
        (FringeSignup, signups),
        (Attendance, attendance),
        (LeaderNote, notes),
    ):
        for chunk in range(0, len(batch), 1000):
            if batch[chunk : chunk + 1000]:
                db.session.execute(insert(model), batch[chunk : chunk + 1000])
    db.session.commit()
    return n


def _reset(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def timed(client, url: str, runs: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:2000])
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    times.sort()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], 1),
        "min_ms": round(times[0], 1),
        "runs": runs,
        "bytes": len(response.get_data()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invitations", type=int, default=10_000)
    parser.add_argument("--leaders", type=int, default=100)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--reset", action="store_true", help="empty the (PostgreSQL) database first")
    args = parser.parse_args()

    from config import TestingConfig, normalise_database_url, settings_of

    url = os.environ.get("DATABASE_URL")
    if url:
        url = normalise_database_url(url)
        if args.reset and url.startswith("postgresql"):
            _reset(url)
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='nh-bench-')) / 'bench.sqlite3'}"

    from app.core.auth.models import User
    from app.core.db import Base, db
    from app.factory import create_app
    from invitations.models import Invitation

    config = settings_of(TestingConfig)
    config.update(DATABASE_URL=url, TESTING=False, MAIL_BACKEND="memory")
    application = create_app(config)
    with application.app_context():
        Base.metadata.create_all(db.engine)
        if db.session.scalar(select(func.count()).select_from(Invitation)):
            sys.exit("The database already has invitations: use an empty one, or --reset (PostgreSQL).")
        started = time.perf_counter()
        leader_ids = seed_summit_and_staff(args.leaders)
        seed_invitations(args.invitations, leader_ids, realistic=True)
        seeded = time.perf_counter() - started
        leader_email = "leader0@bench.example.org"
        invitees = db.session.scalar(
            select(func.count())
            .select_from(Invitation)
            .join(User, User.id == Invitation.champion_id)
            .where(User.email == leader_email)
        )
        engine = db.engine
        dialect = engine.dialect.name

    statements = {"n": 0}

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args):
        statements["n"] += 1

    def queries_for(client, url_: str) -> int:
        statements["n"] = 0
        client.get(url_)
        return statements["n"]

    # Requests run outside any app context, each in its own, as under gunicorn.
    results = {
        "database": dialect,
        "invitations": args.invitations,
        "leaders": args.leaders,
        "seed_seconds": round(seeded, 1),
    }
    for key, email, url_ in (
        ("leader_page", leader_email, "/leader"),
        ("organiser_dashboard", "organiser@bench.example.org", "/organiser/"),
    ):
        client = application.test_client()
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        results[key] = {**timed(client, url_, args.requests), "queries": queries_for(client, url_)}
    results["leader_page"]["invitees"] = invitees
    engine.dispose()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
