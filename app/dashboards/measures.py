"""Measures every dashboard shares: who counts as live, shares of a target, and who warmed up or arrived."""

from __future__ import annotations

from sqlalchemy import select

from fringe_events.models import SUMMIT_EVENT_KEY, Attendance
from invitations.chasing import GONE
from invitations.models import Invitation, InvitationState

S = InvitationState


LIVE = Invitation.state.not_in(GONE)


def share_of_target(target: int, invitees: int, live_total: int) -> int:
    """A leader's share of the target: the target split in proportion to who they champion, rounded."""
    if not live_total or not invitees:
        return 0
    return int(round(target * invitees / live_total))


def percent(part: int, whole: int) -> int:
    return int(round(100 * part / whole)) if whole else 0


def warmed_up_query():
    """Invitation ids that attended at least one fringe event."""
    return (
        select(Attendance.invitation_id.label("invitation_id"))
        .where(Attendance.fringe_event_id.is_not(None))
        .group_by(Attendance.invitation_id)
        .subquery("warmed")
    )


def arrived_query():
    """Invitation ids checked in at the summit (one row per person: a unique constraint)."""
    return (
        select(Attendance.invitation_id.label("invitation_id"), Attendance.checked_in_at.label("at"))
        .where(Attendance.event_key == SUMMIT_EVENT_KEY)
        .subquery("arrived")
    )
