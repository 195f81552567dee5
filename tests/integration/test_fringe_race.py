"""Invariant 1 for fringe events: many invitees racing for few places never overbook, on both databases.

Each worker thread has its own app context, session and connection, against a real SQLite file or PostgreSQL
server. A control run with the guard removed shows the race is real.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select, update

from app.core.db import db
from fringe_events import signups
from fringe_events import signups as fringe_signups
from fringe_events.models import FringeEvent, FringeSignup, SignupState
from invitations import people as invitation_people
from invitations.models import Invitation
from tests.support import StartLine, both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import make_app
from tests.support.checks import assert_summit_check_clean

WORKERS = 12
CAPACITY = 30
PEOPLE = 3 * CAPACITY


def _invitees(count: int) -> list[int]:
    ids = [
        invitation_people.create_invitation(
            invitation_people.InviteeData(
                email=f"fringe-racer{i}@example.org", name=f"Racer {i}", organisation="Suffolk"
            )
        ).id
        for i in range(count)
    ]
    db.session.commit()
    return ids


def _sign_up(app, invitation_id: int, event_id: int, start: StartLine) -> str:
    with app.app_context():
        invitation = db.session.get(Invitation, invitation_id)
        event = db.session.get(FringeEvent, event_id)
        db.session.commit()  # end the read so the race starts from a clean transaction
        start.wait()
        try:
            fringe_signups.sign_up(invitation, event)
            db.session.commit()
            return "signed up"
        except fringe_signups.FringeFull:
            db.session.rollback()
            return "full"
        except Exception as error:
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def run_race(app, event_id: int, people: int = PEOPLE, workers: int = WORKERS):
    ids = _invitees(people)
    random.Random(11).shuffle(ids)
    start = StartLine(min(workers, len(ids)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_sign_up, app, i, event_id, start) for i in ids]
        start.start_when_ready()  # every worker has loaded its rows
        started = time.perf_counter()
        outcomes = [future.result() for future in futures]
    elapsed = time.perf_counter() - started
    return Counter(o if not o.startswith("error") else "error" for o in outcomes), elapsed, outcomes


def confirmed(event_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(FringeSignup)
        .where(FringeSignup.fringe_event_id == event_id, FringeSignup.state == SignupState.CONFIRMED)
    )


@both_databases
def test_race_signs_up_exactly_capacity_and_turns_the_rest_away(app):
    f.summit()
    event = ff.event("High demand families", capacity=CAPACITY)
    counts, elapsed, outcomes = run_race(app, event.id)
    db.session.expire_all()
    print(
        f"\n[{db.engine.dialect.name}] {PEOPLE} people, {WORKERS} threads, {CAPACITY} places: {counts} "
        f"in {elapsed:.2f}s"
    )
    assert [o for o in outcomes if o.startswith("error")] == []
    assert counts["signed up"] == CAPACITY and counts["full"] == PEOPLE - CAPACITY
    assert confirmed(event.id) == CAPACITY
    assert db.session.get(FringeEvent, event.id).places_taken == CAPACITY
    assert len(ff.messages("fringe_signed_up")) == CAPACITY  # a confirmation for each place, none for a refusal
    assert_summit_check_clean(app)


@both_databases
def test_cancellations_racing_sign_ups_give_every_place_back_exactly_once(app):
    f.summit()
    event = ff.event("SLIC open studio", capacity=10)
    holders = _invitees(10)
    for invitation_id in holders:
        fringe_signups.sign_up(db.session.get(Invitation, invitation_id), event)
    db.session.commit()
    newcomers = [i for i in _invitees_named("newcomer", 20)]
    start = StartLine(WORKERS)

    def cancel_twice(invitation_id: int) -> str:
        with app.app_context():
            invitation = db.session.get(Invitation, invitation_id)
            fringe_event = db.session.get(FringeEvent, event.id)
            db.session.commit()
            start.wait()
            results = []
            for _ in range(2):  # a double tap: the second must give nothing back
                try:
                    results.append(fringe_signups.cancel_signup(invitation, fringe_event))
                    db.session.commit()
                except Exception as error:
                    db.session.rollback()
                    return f"error: {type(error).__name__}: {error}"
            return "cancelled" if results == [True, False] else f"error: {results}"

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(cancel_twice, i) for i in holders]
        futures += [pool.submit(_sign_up, app, i, event.id, start) for i in newcomers]
        start.start_when_ready()
        outcomes = Counter(future.result() for future in futures)
    db.session.expire_all()
    print(f"\n[{db.engine.dialect.name}] cancel/sign-up race: {dict(outcomes)}")
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes["cancelled"] == 10
    taken = db.session.get(FringeEvent, event.id).places_taken
    assert taken == confirmed(event.id) == outcomes["signed up"] <= 10
    assert_summit_check_clean(app)


def _invitees_named(prefix: str, count: int) -> list[int]:
    ids = [
        invitation_people.create_invitation(
            invitation_people.InviteeData(
                email=f"{prefix}{i}@example.org", name=f"{prefix} {i}", organisation="Suffolk"
            )
        ).id
        for i in range(count)
    ]
    db.session.commit()
    return ids


def _naive_take_place(event_id: int) -> bool:
    """Check-then-write: read the count, decide, write the new value (what the conditional UPDATE prevents)."""
    taken, capacity = db.session.execute(
        select(FringeEvent.places_taken, FringeEvent.capacity).where(FringeEvent.id == event_id)
    ).one()
    if capacity is not None and taken >= capacity:
        return False
    time.sleep(0.002)  # the gap between check and write that a busy server has anyway
    db.session.execute(update(FringeEvent).where(FringeEvent.id == event_id).values(places_taken=taken + 1))
    return True


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_control_without_the_guard_the_race_is_real(kind, tmp_path, monkeypatch):
    # On SQLite the guard is also BEGIN IMMEDIATE, so the control takes both away.
    app = make_app(kind, tmp_path, SQLITE_BEGIN="DEFERRED", PERSON_LOCK=False)
    monkeypatch.setattr(signups, "take_place", _naive_take_place)
    with app.app_context():
        f.summit()
        event = ff.event("Control", capacity=10)
        counts, _, outcomes = run_race(app, event.id, people=60)
        db.session.expire_all()
        overbooked = confirmed(event.id) - 10
        print(
            f"\n[{kind} control] {counts}; signed up beyond capacity: {overbooked}; "
            f"sample error: {next((o for o in outcomes if o.startswith('error')), None)}"
        )
        # Without the guard, either places are oversold (lost updates) or sign-ups fail outright.
        assert overbooked > 0 or counts["error"] > 0
        db.engine.dispose()
