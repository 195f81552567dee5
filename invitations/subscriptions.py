"""The people domain's steps in the kernel's schedules (connected once, by create_app)."""

from __future__ import annotations

from datetime import datetime

from app.core.mail import rounds
from invitations import waitlist


def _expire_lapsed_offers(_sender, *, now: datetime) -> str | None:
    """Offers that have run out are expired, and each place offered to the next person waiting (or freed)."""
    expired = waitlist.expire_offers(now)
    return f"Expired {expired} waiting-list offer(s) that had run out." if expired else None


def connect() -> None:
    """Idempotent: blinker connects a receiver once however often this runs."""
    rounds.worker_round.connect(_expire_lapsed_offers)
