"""What a delegate sees of the programme: each event with its places and what they can do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.core.db import db, utcnow
from app.core.summit.models import Summit
from fringe_events import calendars
from fringe_events.calendars import AddLinks
from fringe_events.models import Attendance, FringeEvent, FringeSignup, FringeStatus, SignupState
from fringe_events.signups import is_signed_up
from invitations.models import Invitation


@dataclass(frozen=True)
class ProgrammeItem:
    event: FringeEvent
    signed_up: bool
    attended: bool
    started: bool

    @property
    def cancelled(self) -> bool:
        return self.event.status == FringeStatus.CANCELLED

    @property
    def places_left(self) -> int | None:
        if self.event.capacity is None:
            return None
        return max(self.event.capacity - self.event.places_taken, 0)

    @property
    def full(self) -> bool:
        return self.event.is_full

    @property
    def can_sign_up(self) -> bool:
        return not (self.signed_up or self.cancelled or self.started or self.full)

    @property
    def can_cancel(self) -> bool:
        return self.signed_up and not self.started and not self.cancelled

    @property
    def status(self) -> tuple[str, str]:
        """(words, tone) for the pill: the words first, colour as the second cue."""
        if self.cancelled:
            return ("Cancelled", "error")
        if self.attended:
            return ("You attended", "ok")
        if self.signed_up:
            return ("Signed up" if not self.started else "You signed up", "ok")
        if self.started:
            return ("Finished", "neutral")
        if self.full:
            return ("Full", "warning")
        if self.places_left is not None and self.places_left <= 5:
            return (f"{self.places_left} place{'s' if self.places_left != 1 else ''} left", "warning")
        return ("Places available", "info")


@dataclass(frozen=True)
class Programme:
    items: list[ProgrammeItem]

    @property
    def mine(self) -> list[ProgrammeItem]:
        return [i for i in self.items if i.signed_up or i.attended]

    @property
    def upcoming(self) -> list[ProgrammeItem]:
        return [i for i in self.items if not i.started]

    @property
    def open_to_join(self) -> list[ProgrammeItem]:
        return [i for i in self.items if i.can_sign_up]


def programme_for(invitation: Invitation, now: datetime | None = None) -> Programme:
    """Every upcoming event, plus past or cancelled ones this person signed up for or attended: one statement,
    each event with whether they signed up for it and whether they attended."""
    now = now or utcnow()
    signed_up = (
        select(FringeSignup.id)
        .where(
            FringeSignup.fringe_event_id == FringeEvent.id,
            FringeSignup.invitation_id == invitation.id,
            FringeSignup.state == SignupState.CONFIRMED,
        )
        .exists()
    )
    attended = (
        select(Attendance.id)
        .where(Attendance.fringe_event_id == FringeEvent.id, Attendance.invitation_id == invitation.id)
        .exists()
    )
    rows = db.session.execute(
        select(FringeEvent, signed_up.label("signed_up"), attended.label("attended")).order_by(
            FringeEvent.starts_at, FringeEvent.id
        )
    ).all()
    items = []
    for event, mine, went in rows:
        started = event.starts_at <= now
        if (started or event.status == FringeStatus.CANCELLED) and not (mine or went):
            continue
        items.append(ProgrammeItem(event=event, signed_up=bool(mine), attended=bool(went), started=started))
    return Programme(items)


def calendar_links(invitation: Invitation, summit: Summit | None, programme: Programme) -> list[AddLinks]:
    """The person's 'add to Google / Outlook.com' links, from the programme already read: the summit once registered,
    then each event they signed up for that is going ahead."""
    signed_up_for = [item.event for item in programme.items if item.signed_up]
    return calendars.add_links_for(calendars.calendar_events_of(invitation, summit, signed_up_for))


def programme_item(invitation: Invitation, event: FringeEvent, now: datetime | None = None) -> ProgrammeItem:
    now = now or utcnow()
    attended = (
        db.session.scalar(
            select(func.count())
            .select_from(Attendance)
            .where(Attendance.invitation_id == invitation.id, Attendance.event_key == event.event_key)
        )
        or 0
    ) > 0
    return ProgrammeItem(
        event=event, signed_up=is_signed_up(invitation.id, event.id), attended=attended, started=event.starts_at <= now
    )
