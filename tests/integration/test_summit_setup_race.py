"""Two organisers setting the summit up at once (two tabs, two colleagues) make one summit, not two, on both
databases: the second finds the first one's summit and is told so. A control without the creation lock shows
the race is real on PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.core.errors import Conflict
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from invitations import summit_changes
from tests.support import StartLine, both_databases

RACERS = 8


def _set_up(app, n: int, start: StartLine) -> str:
    with app.app_context():
        start.wait()
        try:
            summit_changes.set_up_summit(
                summit_changes.SummitSetUp(
                    name=f"Summit {n}",
                    venue="Trinity Park",
                    address="Felixstowe Road, Ipswich IP3 8UH",
                    starts_at=datetime(2027, 10, 13, 8, 30, tzinfo=UTC),
                    ends_at=datetime(2027, 10, 13, 15, 0, tzinfo=UTC),
                    capacity=200,
                    target=180,
                )
            )
            db.session.commit()
            return "set up"
        except Conflict:
            db.session.rollback()
            return "told"
        except Exception as error:
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def race(app) -> list[str]:
    start = StartLine(RACERS)
    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        futures = [pool.submit(_set_up, app, n, start) for n in range(RACERS)]
        start.start_when_ready()
        return sorted(future.result() for future in futures)


def summits() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Summit)) or 0


@both_databases
def test_racing_set_ups_make_exactly_one_summit(app):
    outcomes = race(app)
    assert outcomes == ["set up"] + ["told"] * (RACERS - 1), outcomes
    assert summits() == 1


@pytest.mark.parametrize("app", ["postgres"], indirect=True)
def test_control_without_the_creation_lock_the_race_makes_several(app, monkeypatch):
    monkeypatch.setattr(summit_settings, "lock_for_creation", lambda: None)
    made = 0
    for _ in range(5):  # a race: nearly always at the first try
        race(app)
        made = summits()
        if made > 1:
            break
        db.session.execute(Summit.__table__.delete())
        db.session.commit()
    assert made > 1, "without the lock every racer should have found no summit and made its own"
