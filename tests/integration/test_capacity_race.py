"""Invariant 1 under concurrency: many registrants racing for few places never overbook, on both databases.

Each worker thread has its own app context, session and connection, against a real SQLite file or
PostgreSQL server. A control run with the guard removed shows the race is real.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.db import db, utcnow
from app.core.errors import InvalidState, SummitFull
from app.core.summit import capacity as summit_capacity
from app.core.summit.models import Summit
from invitations import journey, people, waitlist
from invitations.models import Invitation, InvitationState, Registration, RegistrationState
from tests.support import PATIENCE_SECONDS, StartLine, both_databases
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.checks import assert_summit_check_clean
from tests.support.factories import bulk_invitations

WORKERS = 16
CAPACITY = 100
REGISTRANTS = 3 * CAPACITY


def _register_or_wait(app, invitation_id: int, start: StartLine) -> str:
    with app.app_context():
        inv = db.session.get(Invitation, invitation_id)
        db.session.commit()  # end the read so the race starts from a clean transaction
        start.wait()
        try:
            journey.register(inv, f.details(name=inv.name))
            db.session.commit()
            return "registered"
        except SummitFull:
            db.session.rollback()
        except Exception as error:
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"
        try:
            journey.join_waitlist(inv)
            db.session.commit()
            return "waitlisted"
        except Exception as error:
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def run_race(app, registrants: int = REGISTRANTS, workers: int = WORKERS) -> tuple[Counter, float]:
    ids = bulk_invitations(registrants)
    random.Random(7).shuffle(ids)
    start = StartLine(min(workers, len(ids)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_register_or_wait, app, i, start) for i in ids]
        start.start_when_ready()  # every worker has loaded its invitation
        started = time.perf_counter()
        outcomes = [future.result() for future in futures]
    elapsed = time.perf_counter() - started
    return Counter(o if not o.startswith("error") else "error" for o in outcomes), elapsed, outcomes


def confirmed_registrations() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.state == RegistrationState.CONFIRMED)
    )


@both_databases
def test_race_grants_exactly_capacity_and_waitlists_the_rest(app):
    f.summit(capacity=CAPACITY)
    counts, elapsed, outcomes = run_race(app)
    errors = [o for o in outcomes if o.startswith("error")]
    db.session.expire_all()
    kind = db.engine.dialect.name
    print(
        f"\n[{kind}] {REGISTRANTS} registrants, {WORKERS} threads, {CAPACITY} places: {counts} "
        f"in {elapsed:.2f}s = {REGISTRANTS / elapsed:.0f} attempts/s"
    )
    assert errors == []
    assert counts["registered"] == CAPACITY
    assert counts["waitlisted"] == REGISTRANTS - CAPACITY
    assert confirmed_registrations() == CAPACITY
    assert db.session.scalar(select(Summit.places_taken)) == CAPACITY
    assert (
        db.session.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.state == InvitationState.WAITLISTED)
        )
        == REGISTRANTS - CAPACITY
    )
    assert_summit_check_clean(app)


def _naive_take_place(summit_id: int) -> bool:
    """Indico-style check-then-write: read the count, decide, write the new value."""
    taken, capacity = db.session.execute(
        select(Summit.places_taken, Summit.capacity).where(Summit.id == summit_id)
    ).one()
    if taken >= capacity:
        return False
    time.sleep(0.002)  # the gap between check and write that a busy server has anyway
    db.session.execute(update(Summit).where(Summit.id == summit_id).values(places_taken=taken + 1))
    return True


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_control_without_the_guard_the_race_is_real(kind, tmp_path, monkeypatch):
    # On SQLite the guard is also BEGIN IMMEDIATE, so the control takes both away, and the person lock too
    # (it holds the summit row, which would serialise the naive gate).
    app = make_app(kind, tmp_path, SQLITE_BEGIN="DEFERRED", PERSON_LOCK=False)
    monkeypatch.setattr(summit_capacity, "take_summit_place", _naive_take_place)
    with app.app_context():
        f.summit(capacity=20)
        counts, _, outcomes = run_race(app, registrants=120)
        db.session.expire_all()
        overbooked = confirmed_registrations() - 20
        print(
            f"\n[{kind} control] {counts}; confirmed beyond capacity: {overbooked}; "
            f"sample error: {next((o for o in outcomes if o.startswith('error')), None)}"
        )
        # Without the guard, either places are oversold (lost updates) or registrations fail outright.
        assert overbooked > 0 or counts["error"] > 0
        db.engine.dispose()


@both_databases
def test_offer_path_race_never_exceeds_capacity_or_loses_a_place(app):
    capacity = 20
    f.summit(capacity=capacity)
    ids = bulk_invitations(capacity + 40)
    holders, waiting = ids[:capacity], ids[capacity:]
    for invitation_id in holders:
        journey.register(db.session.get(Invitation, invitation_id), f.details())
    db.session.commit()
    for invitation_id in waiting:
        journey.join_waitlist(db.session.get(Invitation, invitation_id))
        db.session.commit()
    outsiders = _bulk_invitations_named("outsider", 10)

    stop = threading.Event()
    results: Counter = Counter()
    lock = threading.Lock()

    def note(outcome: str) -> None:
        with lock:
            results[outcome] += 1

    def cancel(invitation_id: int) -> None:
        with app.app_context():
            try:
                journey.cancel_registration(db.session.get(Invitation, invitation_id))
                db.session.commit()
                note("cancelled")
            except Exception as error:
                db.session.rollback()
                note(f"cancel error {type(error).__name__}: {error}")

    def accept_loop(seed: int) -> None:
        rng = random.Random(seed)
        with app.app_context():
            while not stop.is_set():
                offered = db.session.scalars(
                    select(Invitation.id).where(Invitation.state == InvitationState.OFFERED)
                ).all()
                db.session.commit()
                if not offered:
                    time.sleep(0.005)
                    continue
                inv = db.session.get(Invitation, rng.choice(offered))
                try:
                    journey.accept_offer(inv, f.details())
                    db.session.commit()
                    note("accepted")
                except InvalidState:
                    db.session.rollback()
                    note("lost accept race")
                except Exception as error:
                    db.session.rollback()
                    note(f"accept error {type(error).__name__}: {error}")

    def expire_now_and_then() -> None:
        with app.app_context():
            for _ in range(3):
                time.sleep(0.05)
                try:
                    waitlist.expire_offers(utcnow() + timedelta(hours=49))
                    db.session.commit()
                    note("expiry sweep")
                except Exception as error:
                    db.session.rollback()
                    note(f"expire error {type(error).__name__}: {error}")

    def outsider_tries(invitation_id: int) -> None:
        with app.app_context():
            try:
                journey.register(db.session.get(Invitation, invitation_id), f.details())
                db.session.commit()
                note("outsider registered")
            except SummitFull:
                db.session.rollback()
                note("outsider refused")
            except Exception as error:
                db.session.rollback()
                note(f"outsider error {type(error).__name__}: {error}")

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        acceptors = [pool.submit(accept_loop, seed) for seed in range(6)]
        jobs = [pool.submit(cancel, i) for i in holders] + [pool.submit(expire_now_and_then)]
        jobs += [pool.submit(outsider_tries, i) for i in outsiders]
        for job in jobs:
            job.result(timeout=PATIENCE_SECONDS)
        deadline = time.monotonic() + PATIENCE_SECONDS
        with app.app_context():
            while time.monotonic() < deadline:
                still_offered = db.session.scalar(
                    select(func.count()).select_from(Invitation).where(Invitation.state == InvitationState.OFFERED)
                )
                db.session.commit()
                if still_offered == 0:
                    break
                time.sleep(0.05)
        stop.set()
        for job in acceptors:
            job.result(timeout=PATIENCE_SECONDS)

    db.session.expire_all()
    print(f"\n[{db.engine.dialect.name}] offer race: {dict(results)}")
    errors = {k: v for k, v in results.items() if "error" in k}
    assert errors == {}
    assert results["cancelled"] == capacity
    assert results["outsider registered"] == 0  # freed places go to the queue, not to whoever asks first
    registered = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.state == InvitationState.REGISTERED)
    )
    offered = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.state == InvitationState.OFFERED)
    )
    still_waiting = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.state == InvitationState.WAITLISTED)
    )
    taken = db.session.scalar(select(Summit.places_taken))
    assert taken == registered + offered == confirmed_registrations() + offered
    assert taken <= capacity
    # No place lost: a place is free only when nobody is left waiting for it.
    assert taken == capacity or still_waiting == 0
    assert_summit_check_clean(app)


def _bulk_invitations_named(prefix: str, count: int) -> list[int]:
    ids = [
        people.create_invitation(
            people.InviteeData(email=f"{prefix}{i}@example.org", name=f"{prefix} {i}", organisation="Suffolk")
        ).id
        for i in range(count)
    ]
    db.session.commit()
    return ids
