"""Check-in from a test: a steward's API token, a scan through the API, a fringe event to scan at."""

from __future__ import annotations

from datetime import timedelta

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db, utcnow
from fringe_events.models import FringeEvent, FringeStatus
from tests.support import factories as f


def steward_token(name: str = "Sam Steward") -> str:
    return token_for(f.user(role=Role.STEWARD, name=name))


def scan(client, token, code, event="summit", **extra):
    """One scan through the bearer API. The events these tests make are seldom on today (the summit is months
    away), so a scan says the steward confirmed the event unless a test says otherwise (`confirmed=False`)."""
    body = {"code": code, "event": event, "confirmed": True, **extra}
    return client.post("/api/v1/checkin", json=body, headers={"Authorization": f"Bearer {token}"})


def fringe(slug: str = "warm-up", status: FringeStatus = FringeStatus.SCHEDULED) -> FringeEvent:
    event = FringeEvent(
        slug=slug,
        title=slug.replace("-", " ").title(),
        venue="Ipswich Library",
        starts_at=utcnow() + timedelta(hours=1),
        ends_at=utcnow() + timedelta(hours=3),
        status=status,
    )
    db.session.add(event)
    db.session.commit()
    return event


def token_for(user) -> str:
    token = credentials.issue_api_token(user)
    db.session.commit()
    return token
