"""Invariant 1 for a limited option of a registration question: many registrants racing for its last places never
overbook it, on both databases; one person's two tabs never hold two options at once.

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
from app.core.errors import ValidationFailed
from app.core.summit import capacity as summit_capacity
from invitations import answers, journey
from invitations.models import Invitation, InvitationState
from invitations.question_models import Answer, QuestionOption
from tests.support import StartLine, both_databases
from tests.support import factories as f
from tests.support import question_factories as qf
from tests.support.apps import make_app
from tests.support.checks import assert_summit_check_clean
from tests.support.factories import bulk_invitations

WORKERS = 16
PLACES = 10
REGISTRANTS = 6 * PLACES


def _register_choosing(app, invitation_id: int, question_id: int, option_id: int, start: StartLine) -> str:
    with app.app_context():
        inv = db.session.get(Invitation, invitation_id)
        db.session.commit()
        start.wait()
        try:
            journey.register(inv, f.details(name=inv.name, answers={question_id: [option_id]}))
            db.session.commit()
            return "registered"
        except ValidationFailed as refused:
            db.session.rollback()
            return "full" if "is full" in refused.message else f"error: {refused.message}"
        except Exception as error:
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def run_option_race(app, registrants: int = REGISTRANTS, places: int = PLACES):
    workshops = qf.workshops(places=places)
    option_id = workshops.options[0].id
    ids = bulk_invitations(registrants)
    random.Random(11).shuffle(ids)
    start = StartLine(min(WORKERS, len(ids)))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = [pool.submit(_register_choosing, app, i, workshops.id, option_id, start) for i in ids]
        start.start_when_ready()
        started = time.perf_counter()
        outcomes = [future.result() for future in futures]
    elapsed = time.perf_counter() - started
    counts = Counter(o if not o.startswith("error") else "error" for o in outcomes)
    return option_id, counts, outcomes, elapsed


def chose(option_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Answer).where(Answer.option_id == option_id)) or 0


@both_databases
def test_race_for_the_last_places_of_an_option_grants_exactly_the_limit(app):
    f.summit(capacity=REGISTRANTS)
    option_id, counts, outcomes, elapsed = run_option_race(app)
    db.session.expire_all()
    print(
        f"\n[{db.engine.dialect.name}] {REGISTRANTS} registrants, {WORKERS} threads, an option of {PLACES} places: "
        f"{dict(counts)} in {elapsed:.2f}s"
    )
    assert [o for o in outcomes if o.startswith("error")] == []
    assert counts["registered"] == PLACES and counts["full"] == REGISTRANTS - PLACES
    assert db.session.get(QuestionOption, option_id).taken == PLACES == chose(option_id)
    # Refused registrations rolled back whole: no summit place is held without its option.
    registered = select(func.count()).select_from(Invitation).where(Invitation.state == InvitationState.REGISTERED)
    assert db.session.scalar(registered) == PLACES
    assert_summit_check_clean(app)


def _naive_take_option_place(option_id: int) -> bool:
    """Check-then-write: read the count, decide, write the new value."""
    taken, places = db.session.execute(
        select(QuestionOption.taken, QuestionOption.places).where(QuestionOption.id == option_id)
    ).one()
    if places is not None and taken >= places:
        return False
    time.sleep(0.002)
    db.session.execute(update(QuestionOption).where(QuestionOption.id == option_id).values(taken=taken + 1))
    return True


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_control_without_the_guard_the_option_race_is_real(kind, tmp_path, monkeypatch):
    # The guard is the conditional UPDATE, BEGIN IMMEDIATE on SQLite and the person's lock (which holds the
    # summit row); the summit's own gate takes that row too, so the control waves it through to race the option alone.
    app = make_app(kind, tmp_path, SQLITE_BEGIN="DEFERRED", PERSON_LOCK=False)
    monkeypatch.setattr(answers, "take_option_place", _naive_take_option_place)
    monkeypatch.setattr(summit_capacity, "take_summit_place", lambda summit_id: True)
    with app.app_context():
        f.summit(capacity=1000)
        option_id, counts, outcomes, _ = run_option_race(app, registrants=80, places=5)
        db.session.expire_all()
        overbooked = chose(option_id) - 5
        print(
            f"\n[{kind} control] {dict(counts)}; chosen beyond the limit: {overbooked}; "
            f"sample error: {next((o for o in outcomes if o.startswith('error')), None)}"
        )
        assert overbooked > 0 or counts["error"] > 0
        db.engine.dispose()


@both_databases
def test_one_persons_tabs_at_once_never_hold_two_options(app):
    f.summit()
    workshops = qf.workshops(places=3)
    inv = f.registered()
    option_ids = [o.id for o in workshops.options]
    start = StartLine(8)

    def change(n: int) -> str:
        with app.app_context():
            person = db.session.get(Invitation, inv.id)
            db.session.commit()
            start.wait()
            try:
                journey.update_details(person, f.details(answers={workshops.id: [option_ids[n % 4]]}))
                db.session.commit()
                return "changed"
            except Exception as error:
                db.session.rollback()
                return f"error: {type(error).__name__}: {error}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(change, n) for n in range(8)]
        start.start_when_ready()
        outcomes = [future.result() for future in futures]
    db.session.expire_all()
    assert outcomes == ["changed"] * 8
    held = db.session.scalars(select(Answer).where(Answer.invitation_id == inv.id)).all()
    assert len(held) == 1
    assert sum(o.taken for o in db.session.scalars(select(QuestionOption))) == 1
    assert db.session.get(QuestionOption, held[0].option_id).taken == 1
    assert_summit_check_clean(app)
