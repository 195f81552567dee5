"""Badges' answers to the people domain's signals, and their step in the mail worker's rounds (connected once, by
create_app): a place that ends marks its Google Wallet pass inactive."""

from __future__ import annotations

from app.badges import wallet_updates
from app.core.mail import rounds
from invitations import signals
from invitations.models import Invitation, RegistrationState


def _place_given_up(invitation: Invitation, *, now, **_) -> None:
    wallet_updates.queue_inactive(invitation, now)


def _handed_on(invitation: Invitation, *, now, **_) -> None:
    registration = invitation.registration
    if registration is not None and registration.state == RegistrationState.TRANSFERRED:
        wallet_updates.queue_inactive(invitation, now)  # the colleague's pass has their own code


def connect() -> None:
    """Idempotent: blinker connects a receiver once however often this runs."""
    signals.summit_place_given_up.connect(_place_given_up)
    signals.person_handed_on.connect(_handed_on)
    rounds.worker_round.connect(wallet_updates.on_worker_round)
