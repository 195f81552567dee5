"""The organisers' overview of the programme, and each person's warm-up history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from app.core.db import db, utcnow
from fringe_events.models import Attendance, FringeEvent, FringeSignup, FringeStatus, SignupState
from fringe_events.programme import all_events


@dataclass(frozen=True)
class EventSummary:
    event: FringeEvent
    attended: int
    walk_ins: int


def event_summaries() -> list[EventSummary]:
    counts = {
        row[0]: (row[1], row[2])
        for row in db.session.execute(
            select(Attendance.fringe_event_id, func.count(), func.count().filter(Attendance.walk_in.is_(True)))
            .where(Attendance.fringe_event_id.is_not(None))
            .group_by(Attendance.fringe_event_id)
        )
    }
    return [
        EventSummary(event=e, attended=counts.get(e.id, (0, 0))[0], walk_ins=counts.get(e.id, (0, 0))[1])
        for e in all_events()
    ]


@dataclass(frozen=True)
class HistoryRow:
    event: FringeEvent
    signup: FringeSignup | None
    attendance: Attendance | None
    started: bool

    @property
    def status(self) -> tuple[str, str]:
        if self.attendance is not None:
            return ("Walked in" if self.attendance.walk_in else "Attended", "ok")
        if self.event.status == FringeStatus.CANCELLED:
            return ("Event cancelled", "neutral")
        if self.signup is not None and self.signup.state == SignupState.CANCELLED:
            return ("Cancelled their sign-up", "neutral")
        if self.started:
            return ("Signed up, didn't attend", "warning")
        return ("Signed up", "info")


@dataclass(frozen=True)
class WarmUpHistory:
    rows: list[HistoryRow]

    @property
    def attended(self) -> int:
        return sum(1 for r in self.rows if r.attendance is not None)

    @property
    def warmed_up(self) -> bool:
        return self.attended > 0


def warm_up_history(invitation_id: int, now: datetime | None = None) -> WarmUpHistory:
    """Every fringe event this person signed up for or attended, in date order."""
    now = now or utcnow()
    signups = {
        s.fringe_event_id: s
        for s in db.session.scalars(select(FringeSignup).where(FringeSignup.invitation_id == invitation_id))
    }
    attendances = {
        a.fringe_event_id: a
        for a in db.session.scalars(
            select(Attendance).where(Attendance.invitation_id == invitation_id, Attendance.fringe_event_id.is_not(None))
        )
    }
    ids = set(signups) | set(attendances)
    if not ids:
        return WarmUpHistory([])
    events = db.session.scalars(
        select(FringeEvent).where(FringeEvent.id.in_(ids)).order_by(FringeEvent.starts_at, FringeEvent.id)
    )
    return WarmUpHistory(
        [
            HistoryRow(event=e, signup=signups.get(e.id), attendance=attendances.get(e.id), started=e.starts_at <= now)
            for e in events
        ]
    )
