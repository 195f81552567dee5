"""Recording that a person is here: one row per (person, event), settled by the database (invariant 2).

Used by the check-in API (summit and fringe events) and by organisers ticking an attendance list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from app.core.db import db, insert_returning_id, utcnow
from app.core.summit.settings import find_summit
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, CheckinMethod, FringeEvent
from invitations.models import Invitation


@dataclass(frozen=True)
class EventRef:
    """The summit or one fringe event, as check-in sees it."""

    key: str  # "summit" or "fringe:<id>"
    title: str
    fringe_event: FringeEvent | None = None

    @property
    def is_summit(self) -> bool:
        return self.key == SUMMIT_EVENT_KEY

    @property
    def fringe(self) -> FringeEvent:
        """The fringe event itself; only asked of a reference that is not the summit."""
        assert self.fringe_event is not None, "the summit has no fringe event"
        return self.fringe_event


def resolve_event(name: str) -> EventRef | None:
    """'summit' or a fringe event's slug, as the API and the scanner page name events."""
    if name == SUMMIT_EVENT_KEY:
        summit = find_summit()
        return EventRef(key=SUMMIT_EVENT_KEY, title=summit.name if summit else "The summit")
    event = db.session.scalars(select(FringeEvent).where(FringeEvent.slug == name)).first()
    if event is None:
        return None
    return EventRef(key=event.event_key, title=event.title, fringe_event=event)


def find_attendance(invitation_id: int, event_key: str) -> Attendance | None:
    return db.session.scalars(
        select(Attendance).where(Attendance.invitation_id == invitation_id, Attendance.event_key == event_key)
    ).first()


def claim_attendance(
    invitation_id: int,
    event: EventRef,
    *,
    by_id: int | None,
    method: CheckinMethod,
    walk_in: bool,
    now: datetime,
    connection: Connection | None = None,
) -> bool:
    """Write this person's attendance at this event unless it is there already: True if this call wrote it.

    One `INSERT … ON CONFLICT DO NOTHING`: the unique constraint decides, so two doors scanning the same badge
    at once get one True between them (invariant 2), with no savepoint and no error to catch. On `connection` if
    given (the check-in's hot path), else the session's."""
    written = insert_returning_id(
        Attendance.__table__,
        dict(
            invitation_id=invitation_id,
            event_key=event.key,
            fringe_event_id=event.fringe_event.id if event.fringe_event else None,
            checked_in_at=now,
            checked_in_by_id=by_id,
            method=method,
            walk_in=walk_in,
        ),
        connection,
    )
    return written is not None


def record_attendance(
    invitation: Invitation,
    event: EventRef,
    *,
    by=None,
    method: CheckinMethod = CheckinMethod.MANUAL,
    walk_in: bool = False,
    now: datetime | None = None,
) -> tuple[Attendance, bool]:
    """(attendance, True) if this call checked them in; (the existing attendance, False) if already in."""
    existing = find_attendance(invitation.id, event.key)
    if existing is not None:
        return existing, False
    created = claim_attendance(
        invitation.id, event, by_id=getattr(by, "id", None), method=method, walk_in=walk_in, now=now or utcnow()
    )
    attendance = find_attendance(invitation.id, event.key)
    assert attendance is not None  # written now, or by whoever beat us to it
    return attendance, created


def undo_attendance(invitation_id: int, event_key: str) -> bool:
    """Remove a mistaken check-in. True if there was one to remove."""
    attendance = find_attendance(invitation_id, event_key)
    if attendance is None:
        return False
    db.session.delete(attendance)
    db.session.flush()
    return True
