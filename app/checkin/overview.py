"""The organisers' check-in overview: the scan log, arrivals over time, who has not arrived, counts by status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.checkin.door import expected_query
from app.checkin.models import ScanLog
from app.core.auth.models import User
from app.core.collation import by_surname
from app.core.db import db
from fringe_events.attendance import EventRef
from fringe_events.models import Attendance
from invitations.models import Invitation

# --- the organisers' overview ------------------------------------------------------------------


def scan_log_query(event_key: str | None = None):
    query = select(ScanLog).order_by(ScanLog.at.desc(), ScanLog.id.desc())
    return query.where(ScanLog.event_key == event_key) if event_key else query


def arrivals(event: EventRef) -> list[datetime]:
    return list(
        db.session.scalars(
            select(Attendance.checked_in_at).where(Attendance.event_key == event.key).order_by(Attendance.checked_in_at)
        )
    )


def not_arrived(event: EventRef) -> list[Invitation]:
    """Expected and not yet here, by surname: the door list's order (app.core.collation)."""
    here = select(Attendance.invitation_id).where(Attendance.event_key == event.key)
    people = db.session.scalars(expected_query(event).where(Invitation.id.not_in(here)))
    return by_surname(people, lambda person: person.name, lambda person: person.id)


def status_counts(event_key: str) -> dict[str, int]:
    return dict(
        db.session.execute(
            select(ScanLog.status, func.count()).where(ScanLog.event_key == event_key).group_by(ScanLog.status)
        ).all()
    )


@dataclass(frozen=True)
class LogRow:
    at: datetime
    event_key: str
    status: str
    method: str
    code: str
    person: str
    organisation: str
    steward: str


def scan_log_rows(event_key: str | None = None, limit: int | None = None) -> list[LogRow]:
    query = scan_log_query(event_key)
    if limit:
        query = query.limit(limit)
    rows = db.session.scalars(query).all()
    people = (
        {
            i.id: i
            for i in db.session.scalars(
                select(Invitation).where(Invitation.id.in_({r.invitation_id for r in rows if r.invitation_id}))
            )
        }
        if rows
        else {}
    )
    stewards = (
        {
            u.id: u.name
            for u in db.session.scalars(select(User).where(User.id.in_({r.user_id for r in rows if r.user_id})))
        }
        if rows
        else {}
    )
    return [
        LogRow(
            at=r.at,
            event_key=r.event_key,
            status=r.status,
            method=r.method,
            code=r.code,
            person=people[r.invitation_id].name if r.invitation_id in people else "",
            organisation=people[r.invitation_id].organisation if r.invitation_id in people else "",
            steward=stewards.get(r.user_id, ""),
        )
        for r in rows
    ]
