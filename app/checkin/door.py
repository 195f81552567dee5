"""The door's other needs: which events it can admit to and which is on today, the expected list, counts and
the name search."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.checkin.scans import MIN_SEARCH_CHARS, MalformedScan, on_today, signed_up_for
from app.core.collation import by_surname
from app.core.db import db, utcnow
from app.core.summit.settings import find_summit
from fringe_events.attendance import EventRef
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, FringeEvent, FringeStatus, signed_up_query
from invitations.models import LIVE_STATES, Invitation, InvitationState, Registration, RegistrationState

# --- the door's other needs: events, search, counts --------------------------------------------


@dataclass(frozen=True)
class DoorEvent:
    name: str  # what the API calls it: "summit" or the slug
    title: str
    starts_at: datetime | None
    ends_at: datetime | None


def door_events() -> list[DoorEvent]:
    """The summit and every scheduled fringe event, in date order."""

    summit = find_summit()
    fringe = db.session.scalars(
        select(FringeEvent)
        .where(FringeEvent.status == FringeStatus.SCHEDULED)
        .order_by(FringeEvent.starts_at, FringeEvent.id)
    ).all()
    events = [DoorEvent(e.slug, e.title, e.starts_at, e.ends_at) for e in fringe]
    events.append(
        DoorEvent(
            SUMMIT_EVENT_KEY,
            summit.name if summit else "The summit",
            summit.starts_at if summit else None,
            summit.ends_at if summit else None,
        )
    )
    return sorted(events, key=lambda e: (e.starts_at is None, e.starts_at or datetime.max.replace(tzinfo=UTC)))


def is_today(event: DoorEvent, now: datetime | None = None) -> bool:
    """Whether the event runs on today's date in London (a summit over several days, on each of them)."""
    return on_today(event.starts_at, event.ends_at, now or utcnow())


def today_event(events: list[DoorEvent], now: datetime | None = None) -> str | None:
    """The event the door is most likely at: the one on now (the latest to start, if two overlap), else the
    next to start today (London dates). None when nothing is on or still to come today: the steward chooses."""
    now = now or utcnow()
    today = [e for e in events if is_today(e, now)]
    on_now = [e for e in today if e.starts_at is not None and e.ends_at is not None and e.starts_at <= now <= e.ends_at]
    if on_now:
        return max(on_now, key=lambda e: e.starts_at or now).name
    later = [e for e in today if e.starts_at is not None and e.starts_at > now]
    if later:
        return min(later, key=lambda e: e.starts_at or now).name
    return None


def default_event(events: list[DoorEvent], now: datetime | None = None) -> str:
    """For the organisers' overview: the event on today, else the next one; the summit if nothing is left."""
    now = now or utcnow()
    chosen = today_event(events, now)
    if chosen is not None:
        return chosen
    for event in events:
        if event.ends_at is not None and event.ends_at >= now:
            return event.name
    return SUMMIT_EVENT_KEY


def expected_query(event: EventRef):
    """The people a door expects: confirmed registrations for the summit, confirmed sign-ups for a fringe event."""
    if event.is_summit:
        return (
            select(Invitation)
            .join(Registration, Registration.invitation_id == Invitation.id)
            .where(Invitation.state == InvitationState.REGISTERED, Registration.state == RegistrationState.CONFIRMED)
        )
    return signed_up_query(event.fringe.id)


def expected_people(event: EventRef) -> list[dict]:
    """The event's expected list for the door's name search offline: a reference, the name and the
    organisation, nothing else (no codes: a phone that is lost must not carry everyone's badge)."""
    people = by_surname(db.session.scalars(expected_query(event)), lambda p: p.name, lambda p: p.id)
    return [{"ref": ref_of(p), "name": p.name[:200], "organisation": p.organisation[:200]} for p in people]


def ref_of(invitation: Invitation) -> str:
    """How the door refers to a person it found by name: never their code, which is their badge."""
    return f"p{invitation.id}"


def code_for_ref(ref) -> str:
    """The code of the person behind an expected-list reference, or something no code looks like."""
    if isinstance(ref, str) and re.fullmatch(r"p[0-9]{1,18}", ref):
        invitation = db.session.get(Invitation, int(ref[1:]))
        if invitation is not None and invitation.code:
            return invitation.code
    return "REF-UNKNOWN"


def counts(event: EventRef) -> dict:
    arrived = db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.event_key == event.key))
    expected = db.session.scalar(select(func.count()).select_from(expected_query(event).subquery()))
    return {
        "event": event.key if event.is_summit else event.fringe.slug,
        "title": event.title,
        "arrived": arrived,
        "expected": expected,
    }


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search(event: EventRef, q: str, limit: int = 20) -> list[dict]:
    """Live invitees whose name matches, with what the door would say, for a manual check-in: a reference to
    check them in by (as the expected list has), never the badge code, and no needs (the check-in's answer
    shows those to the door that admits them). So a steward's phone or token can't collect everyone's badge."""
    q = " ".join(q.split())
    if len(q) < MIN_SEARCH_CHARS:
        raise MalformedScan(f"Type at least {MIN_SEARCH_CHARS} letters of the name.")
    people = db.session.scalars(
        select(Invitation)
        .where(Invitation.state.in_(LIVE_STATES), func.lower(Invitation.name).like(_like(q), escape="\\"))
        .order_by(Invitation.name, Invitation.id)
        .limit(limit)
    ).all()
    arrived = (
        {
            a.invitation_id: a
            for a in db.session.scalars(
                select(Attendance).where(
                    Attendance.event_key == event.key, Attendance.invitation_id.in_([p.id for p in people])
                )
            )
        }
        if people
        else {}
    )
    results = []
    for person in people:
        attendance = arrived.get(person.id)
        walk_in = False
        if event.is_summit:
            admissible = person.state == InvitationState.REGISTERED
            standing = "Registered" if admissible else person.state.label
        else:
            admissible = signed_up_for(person.id, event.fringe.id)
            standing, walk_in = ("Signed up", False) if admissible else ("Not signed up (walk-in)", True)
        results.append(
            {
                "ref": ref_of(person),
                "name": person.name[:200],
                "organisation": person.organisation[:200],
                "standing": standing,
                "admissible": admissible,
                # Checking them in from here records a walk-in, on purpose (the scan says `walk_in`).
                "walk_in": walk_in,
                "checked_in_at": attendance.checked_in_at.isoformat() if attendance else None,
            }
        )
    return results
