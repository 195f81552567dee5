"""Check-in's answers to the people domain's signals (connected once, by create_app)."""

from __future__ import annotations

from app.checkin.scans import forget_people_in_answers
from invitations import signals
from invitations.models import Invitation


def _erased(invitation: Invitation, **_) -> None:
    forget_people_in_answers(invitation.id)


def connect() -> None:
    """Idempotent: blinker connects a receiver once however often this runs."""
    signals.person_erased.connect(_erased)
