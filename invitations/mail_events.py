"""What a provider's event means for an invitation: a bounce flags the address for organisers."""

from __future__ import annotations

from app.core.db import db
from app.core.mail.models import ProviderEvent
from invitations.models import Invitation

BOUNCES = {"bounce", "dropped", "blocked"}


def on_provider_event(event: ProviderEvent) -> None:
    invitation = db.session.get(Invitation, event.invitation_id)
    if invitation is None:
        return
    if event.event in BOUNCES:
        if invitation.bounced_at is None or event.occurred_at > invitation.bounced_at:
            invitation.bounced_at = event.occurred_at
            invitation.bounce_reason = event.reason or event.event
    elif event.event == "delivered" and invitation.bounced_at and event.occurred_at > invitation.bounced_at:
        # A later delivery (say, after organisers fixed the address) clears the flag.
        invitation.bounced_at = None
        invitation.bounce_reason = ""
