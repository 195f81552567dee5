"""Organisers' attendance lists for fringe events: tick many at once, search, walk-ins, undo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from app.core import audit
from app.core.collation import surname_key
from app.core.db import db
from app.core.errors import InvalidState
from fringe_events.attendance import EventRef, record_attendance, undo_attendance
from fringe_events.models import Attendance, CheckinMethod, FringeEvent, FringeStatus, signed_up_query
from fringe_events.signups import is_signed_up
from invitations.models import LIVE_STATES, Invitation


def event_ref(event: FringeEvent) -> EventRef:
    return EventRef(key=event.event_key, title=event.title, fringe_event=event)


@dataclass(frozen=True)
class SheetRow:
    invitation: Invitation
    signed_up: bool
    attendance: Attendance | None

    @property
    def walk_in(self) -> bool:
        return self.attendance is not None and self.attendance.walk_in


@dataclass(frozen=True)
class AttendanceSheet:
    rows: list[SheetRow]
    signed_up: int
    attended: int
    walk_ins: int


def _matches(q: str):
    like = f"%{q.strip().lower()}%"
    return or_(
        func.lower(Invitation.name).like(like),
        Invitation.email.like(like),
        func.lower(Invitation.organisation).like(like),
    )


def attendance_sheet(event: FringeEvent, q: str = "") -> AttendanceSheet:
    """Everyone signed up (with a live invitation), and everyone who attended, signed up or not."""
    signup_query = signed_up_query(event.id)
    attendance_query = select(Attendance).join(Invitation).where(Attendance.event_key == event.event_key)
    all_signed = set(db.session.scalars(signup_query.with_only_columns(Invitation.id)))
    all_attended = list(db.session.scalars(attendance_query))
    if q.strip():
        signup_query = signup_query.where(_matches(q))
        attendance_query = attendance_query.where(_matches(q))
    people = {inv.id: inv for inv in db.session.scalars(signup_query)}
    attendances = {a.invitation_id: a for a in db.session.scalars(attendance_query)}
    for attendance in attendances.values():
        people.setdefault(attendance.invitation_id, attendance.invitation)
    rows = [
        SheetRow(invitation=inv, signed_up=inv.id in all_signed, attendance=attendances.get(inv.id))
        for inv in people.values()
    ]
    rows.sort(key=lambda r: (surname_key(r.invitation.name), r.invitation.id))  # as the door list
    return AttendanceSheet(
        rows=rows,
        signed_up=len(all_signed),
        attended=len(all_attended),
        walk_ins=sum(1 for a in all_attended if a.walk_in),
    )


def _check_attendable(event: FringeEvent) -> None:
    if event.status == FringeStatus.CANCELLED:
        raise InvalidState("This event was cancelled, so nobody can be marked as attending it.")


def mark_attended(event: FringeEvent, invitation_ids: list[int], *, by=None, now: datetime | None = None) -> int:
    """Tick people off the list. Only people signed up (with a live invitation) are ticked here; anyone else
    is a walk-in. Returns how many were newly recorded; ticking someone already in changes nothing."""
    _check_attendable(event)
    wanted = sorted(set(invitation_ids))
    if not wanted:
        return 0
    signed = db.session.scalars(signed_up_query(event.id).where(Invitation.id.in_(wanted))).all()
    recorded = 0
    for invitation in signed:
        _, created = record_attendance(invitation, event_ref(event), by=by, method=CheckinMethod.LIST, now=now)
        recorded += int(created)
        if created:
            audit.record(
                "fringe.attendance_marked",
                actor=by,
                invitation_id=invitation.id,
                event=event.slug,
                before="not attended",
                after="attended",
            )
    db.session.flush()
    return recorded


def record_walk_in(event: FringeEvent, invitation: Invitation, *, by=None, now: datetime | None = None):
    """Someone invited turned up without signing up. (A walk-in takes no sign-up place: they are already in the room.)"""
    _check_attendable(event)
    if invitation.state not in LIVE_STATES:
        raise InvalidState(f"{invitation.name}'s invitation is no longer live, so they can't be recorded here.")
    walk_in = not is_signed_up(invitation.id, event.id)
    attendance, created = record_attendance(
        invitation, event_ref(event), by=by, method=CheckinMethod.MANUAL, walk_in=walk_in, now=now
    )
    if created:
        audit.record(
            "fringe.walk_in_recorded" if walk_in else "fringe.attendance_marked",
            actor=by,
            invitation_id=invitation.id,
            event=event.slug,
            before="not attended",
            after="attended",
        )
    db.session.flush()
    return attendance, created


def undo(event: FringeEvent, invitation_id: int, *, by=None) -> bool:
    undone = undo_attendance(invitation_id, event.event_key)
    if undone:
        audit.record(
            "fringe.attendance_undone",
            actor=by,
            invitation_id=invitation_id,
            event=event.slug,
            before="attended",
            after="not attended",
        )
    return undone


def search_invitees(q: str, limit: int = 20) -> list[Invitation]:
    """Live invitees whose name, email or organisation matches: for recording a walk-in."""
    if len(q.strip()) < 2:
        return []
    return list(
        db.session.scalars(
            select(Invitation)
            .where(Invitation.state.in_(LIVE_STATES), _matches(q))
            .order_by(Invitation.name, Invitation.id)
            .limit(limit)
        )
    )


def attended_ids(event: FringeEvent, invitation_ids: list[int]) -> set[int]:
    if not invitation_ids:
        return set()
    return set(
        db.session.scalars(
            select(Attendance.invitation_id).where(
                Attendance.event_key == event.event_key, Attendance.invitation_id.in_(invitation_ids)
            )
        )
    )
