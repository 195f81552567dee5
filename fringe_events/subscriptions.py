"""The fringe programme's answers to the people domain's signals (connected once, by create_app)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select

from app.core.db import db
from fringe_events import delegate_view
from fringe_events.models import Attendance, FringeEvent, FringeSignup, FringeStatus, SignupState
from fringe_events.signups import release_signups, transfer_signups
from invitations import audiences, signals
from invitations.models import Invitation
from invitations.privacy import iso


def _release(invitation: Invitation, *, now) -> None:
    release_signups(invitation.id, now)


def _transfer(invitation: Invitation, *, to: Invitation, now) -> None:
    transfer_signups(invitation.id, to.id, now)


def _personal_data(invitation: Invitation) -> dict:
    signups = db.session.scalars(select(FringeSignup).where(FringeSignup.invitation_id == invitation.id)).all()
    attended = db.session.scalars(select(Attendance).where(Attendance.invitation_id == invitation.id)).all()
    return {
        "fringe_sign_ups": [{"event": s.event.title, "state": s.state.value, "at": iso(s.created_at)} for s in signups],
        "attendance": [{"event": a.event_key, "checked_in_at": iso(a.checked_in_at)} for a in attended],
    }


def _event_choices() -> list[tuple[str, str]]:
    events = db.session.scalars(
        select(FringeEvent).where(FringeEvent.status != FringeStatus.CANCELLED).order_by(FringeEvent.starts_at)
    )
    return [(str(e.id), e.title) for e in events]


def _signed_up(choice: str) -> ColumnElement[bool] | None:
    """A group's fringe condition: signed up for this event, or ("none") for no event at all."""
    confirmed = [FringeSignup.invitation_id == Invitation.id, FringeSignup.state == SignupState.CONFIRMED]
    if choice == "none":
        return ~exists().where(*confirmed)
    if not choice.isdigit() or db.session.get(FringeEvent, int(choice)) is None:
        return None
    return exists().where(*confirmed, FringeSignup.fringe_event_id == int(choice))


def _personal_page(invitation: Invitation, *, summit, now) -> dict:
    """What the person's page shows of the fringe: the programme and their calendar's add links, from one read."""
    programme = delegate_view.programme_for(invitation, now)
    return {
        "fringe_programme": programme,
        "fringe_calendar_links": delegate_view.calendar_links(invitation, summit, programme),
    }


def connect() -> None:
    """Idempotent: blinker connects a receiver once however often this runs."""
    signals.person_left.connect(_release)
    signals.person_handed_on.connect(_transfer)
    signals.personal_data_requested.connect(_personal_data)
    audiences.provide_fringe_filter(audiences.FringeFilter(choices=_event_choices, condition=_signed_up))
    signals.personal_page_shown.connect(_personal_page)
