"""Read models for staff pages: aggregate queries, no N+1."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.core.db import db
from app.core.summit.settings import get_summit
from invitations.models import Invitation, InvitationState, WaitlistEntry, WaitlistState


def state_counts() -> dict[InvitationState, int]:
    rows = db.session.execute(select(Invitation.state, func.count()).group_by(Invitation.state)).all()
    counts = {state: 0 for state in InvitationState}
    counts.update(dict(rows))
    return counts


def waiting_list() -> list[WaitlistEntry]:
    return list(
        db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.state.in_([WaitlistState.WAITING, WaitlistState.OFFERED]))
            .options(selectinload(WaitlistEntry.invitation))
            # Offers first (they are the urgent ones), then the queue in order.
            .order_by((WaitlistEntry.state == WaitlistState.OFFERED).desc(), WaitlistEntry.joined_at, WaitlistEntry.id)
        )
    )


def summit_status() -> dict[str, int]:
    """What `summit status` prints: one JSON object."""
    summit = get_summit()
    counts = state_counts()
    return {
        "capacity": summit.capacity,
        "target": summit.target,
        "registered": counts[InvitationState.REGISTERED],
        "offers_held": counts[InvitationState.OFFERED],
        "waitlisted": counts[InvitationState.WAITLISTED],
        "declined": counts[InvitationState.DECLINED],
        "invited": sum(
            n for state, n in counts.items() if state not in (InvitationState.REVOKED, InvitationState.HANDED_ON)
        ),
        "places_taken": summit.places_taken,
        "places_left": summit.places_left,
    }
