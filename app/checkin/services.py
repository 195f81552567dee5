"""Check-in rules: what a scanned code means at an event, the scan log, undo, name search and counts.

Semantics (the contract is in DESIGN.md, "Check-in API"):
- `invalid`: the code is not one we issued (forged, reissued since, or some other QR), or its invitation
  was handed on or revoked. No person is named.
- `incomplete`: no code we issued, but one or two characters away from the shape of ours (a character
  wrong, missing, extra or swapped, which the check character catches): a misread or a typo, so the door
  says "scan it again or type it carefully" rather than "not one of ours". No person is named.
- `wrong_event`: the event named is not one this door can admit to: no such slug, or a cancelled fringe
  event. Codes are personal, not per event, so this always means "check the event picker"; the code
  is not looked at.
- Summit: `ok` / `already_checked_in` only for a confirmed registration; `cancelled` if the person gave
  their place back; `not_registered` for any other live invitee (invited, declined, waiting, offered).
- Fringe event: any live invitee is admitted (signed up or a walk-in); the check-in is that event's
  attendance.
- A nonce makes a retry safe: the same steward sending the same nonce gets the first answer replayed,
  and nothing is written twice. Every scan, accepted or refused, is written to the scan log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app import audit
from app.auth.models import User
from app.badge_codes import CodeShape, code_shape
from app.checkin.models import ScanLog
from app.db import db, utcnow
from app.security import CODE_ALPHABET
from app.summit.services import find_summit
from fringe_events.attendance import EventRef, record_attendance, resolve_event, undo_attendance
from fringe_events.models import (
    SUMMIT_EVENT_KEY,
    Attendance,
    CheckinMethod,
    FringeEvent,
    FringeSignup,
    FringeStatus,
    SignupState,
)
from invitations.models import LIVE_STATES, Invitation, InvitationState, Registration, RegistrationState

OK = "ok"
ALREADY = "already_checked_in"
INVALID = "invalid"
INCOMPLETE = "incomplete"
CANCELLED = "cancelled"
NOT_REGISTERED = "not_registered"
WRONG_EVENT = "wrong_event"
UNDONE = "undone"
ADMITTED = (OK, ALREADY)

SCAN_METHODS = {m.value: m for m in (CheckinMethod.CAMERA, CheckinMethod.HANDHELD, CheckinMethod.MANUAL)}
MAX_CODE_CHARS = 512  # longer than any code; a scanner reading some other QR still gets "invalid", not 400
MAX_NONCE_CHARS = 64  # scan_log.nonce
MAX_EVENT_CHARS = 80  # fringe_event.slug
MIN_SEARCH_CHARS = 3
_CODE_SHAPE = re.compile(rf"NH[0-9]+-[{CODE_ALPHABET}]+")
_NOTHING = {"", "none", "n/a", "na", "no", "nil", "-", "no thanks", "nothing"}


class MalformedScan(ValueError):
    """The request body is not a scan we can read (answered 400)."""


class NonceTaken(Exception):
    """Another request with this steward's nonce won the race: roll back and replay its answer."""


@dataclass(frozen=True)
class Scan:
    code: str
    event: str
    nonce: str | None = None
    method: str = CheckinMethod.CAMERA.value


def _text(payload: dict, key: str, *, required: bool, limit: int) -> str | None:
    value = payload.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise MalformedScan(f"'{key}' must be a string.")
    value = value.strip()
    if required and not value:
        raise MalformedScan(f"'{key}' is missing.")
    if len(value) > limit:
        raise MalformedScan(f"'{key}' is longer than {limit} characters.")
    return value or None


def parse_scan(payload) -> Scan:
    if not isinstance(payload, dict):
        raise MalformedScan("The body must be a JSON object with 'code' and 'event'.")
    code = _text(payload, "code", required=True, limit=MAX_CODE_CHARS)
    event = _text(payload, "event", required=True, limit=MAX_EVENT_CHARS)
    nonce = _text(payload, "nonce", required=False, limit=MAX_NONCE_CHARS)
    method = _text(payload, "method", required=False, limit=20) or CheckinMethod.CAMERA.value
    if method not in SCAN_METHODS:
        raise MalformedScan(f"'method' must be one of {', '.join(SCAN_METHODS)}.")
    # Handheld scanners in caps-lock or a typed code in lower case still match: codes are upper case.
    assert code is not None and event is not None  # required=True: _text raised if either was missing
    return Scan(code=code.upper(), event=event, nonce=nonce, method=method)


def looks_like_code(code: str) -> bool:
    return len(code) <= 40 and _CODE_SHAPE.fullmatch(code) is not None


def unknown_code_status(code: str) -> str:
    """For a code that matched no invitation: a mistyped or misread one of ours, or not one of ours."""
    return INCOMPLETE if code_shape(code) == CodeShape.DAMAGED else INVALID


def find_by_code(code: str) -> Invitation | None:
    if not looks_like_code(code):
        return None
    return db.session.scalars(select(Invitation).where(Invitation.code == code)).first()


# --- the answer --------------------------------------------------------------------------------


def _real(text: str | None) -> str:
    text = (text or "").strip()
    return "" if text.lower().strip(".") in _NOTHING else text[:280]


def needs_of(invitation: Invitation) -> list[dict]:
    """Dietary and access needs, as the door should see them (from the registration, if they made one)."""
    registration = invitation.registration
    if registration is None or registration.state == RegistrationState.TRANSFERRED:
        return []
    needs = []
    if _real(registration.dietary):
        needs.append({"kind": "dietary", "label": "Dietary", "text": _real(registration.dietary)})
    if _real(registration.access_needs):
        needs.append({"kind": "access", "label": "Access", "text": _real(registration.access_needs)})
    return needs


def person_of(invitation: Invitation) -> dict:
    return {"name": invitation.name[:200], "organisation": invitation.organisation[:200], "needs": needs_of(invitation)}


def _answer(status: str, invitation: Invitation | None = None, attendance: Attendance | None = None) -> dict:
    by = attendance.checked_in_by if attendance is not None else None
    return {
        "status": status,
        "person": person_of(invitation) if invitation is not None else None,
        "checked_in_at": attendance.checked_in_at.isoformat() if attendance is not None else None,
        "checked_in_by": by.name if by is not None else None,
    }


def usable_event(name: str) -> EventRef | None:
    """The summit or a scheduled fringe event, by the name the scanner uses; None if the door can't admit to it."""
    event = resolve_event(name)
    if event is None or (event.fringe_event is not None and event.fringe_event.status == FringeStatus.CANCELLED):
        return None
    return event


def _signed_up(invitation_id: int, fringe_event_id: int) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(FringeSignup)
            .where(
                FringeSignup.invitation_id == invitation_id,
                FringeSignup.fringe_event_id == fringe_event_id,
                FringeSignup.state == SignupState.CONFIRMED,
            )
        )
        or 0
    ) > 0


def _decide(user: User, scan: Scan, now: datetime) -> tuple[dict, Invitation | None, str]:
    event = usable_event(scan.event)
    if event is None:
        return _answer(WRONG_EVENT), None, scan.event
    invitation = find_by_code(scan.code)
    if invitation is None:
        return _answer(unknown_code_status(scan.code)), None, event.key
    if invitation.state not in LIVE_STATES:
        return _answer(INVALID), invitation, event.key
    if event.is_summit:
        registration = invitation.registration
        if invitation.state == InvitationState.CANCELLED:
            return _answer(CANCELLED, invitation), invitation, event.key
        if (
            invitation.state != InvitationState.REGISTERED
            or registration is None
            or registration.state != RegistrationState.CONFIRMED
        ):
            return _answer(NOT_REGISTERED, invitation), invitation, event.key
        walk_in = False
    else:
        walk_in = not _signed_up(invitation.id, event.fringe.id)
    attendance, created = record_attendance(
        invitation, event, by=user, method=SCAN_METHODS[scan.method], walk_in=walk_in, now=now
    )
    return _answer(OK if created else ALREADY, invitation, attendance), invitation, event.key


def _log(
    user: User,
    scan: Scan,
    status: str,
    invitation: Invitation | None,
    event_key: str,
    response: dict,
    *,
    method: str | None = None,
    nonce: str | None = None,
    now: datetime,
) -> ScanLog:
    body = json.dumps(response, separators=(",", ":"))
    if len(body) > 2000:  # the column's limit: keep the verdict, drop the detail
        body = json.dumps({**response, "person": None}, separators=(",", ":"))
    entry = ScanLog(
        at=now,
        user_id=user.id,
        event_key=event_key[:40],
        code=scan.code[:80],
        status=status,
        invitation_id=invitation.id if invitation is not None else None,
        method=method or scan.method,
        nonce=nonce,
        response=body,
    )
    db.session.add(entry)
    return entry


def replay(user: User, nonce: str | None) -> dict | None:
    """The answer already given to this steward's scan with this nonce, if there was one."""
    if not nonce:
        return None
    body = db.session.scalar(select(ScanLog.response).where(ScanLog.user_id == user.id, ScanLog.nonce == nonce))
    return json.loads(body) if body else None


def check_in(user: User, scan: Scan, now: datetime | None = None) -> dict:
    """Answer one scan and log it. Flushes, never commits. Raises NonceTaken if a twin request won."""
    now = now or utcnow()
    previous = replay(user, scan.nonce)
    if previous is not None:
        return previous
    answer, invitation, event_key = _decide(user, scan, now)
    try:
        with db.session.begin_nested():
            _log(user, scan, answer["status"], invitation, event_key, answer, nonce=scan.nonce, now=now)
    except IntegrityError:
        raise NonceTaken(scan.nonce) from None
    return answer


def undo(user: User, scan: Scan, now: datetime | None = None) -> dict:
    """Take back a mistaken check-in.
    Answers {"status": "undone" | "not_checked_in" | "invalid" | "incomplete" | "wrong_event", …}."""
    now = now or utcnow()
    event = usable_event(scan.event)
    if event is None:
        return {"status": WRONG_EVENT, "person": None}
    invitation = find_by_code(scan.code)
    if invitation is None:
        return {"status": unknown_code_status(scan.code), "person": None}
    removed = undo_attendance(invitation.id, event.key)
    answer = {"status": UNDONE if removed else "not_checked_in", "person": person_of(invitation)}
    if removed:
        _log(user, scan, UNDONE, invitation, event.key, answer, method="undo", now=now)
        audit.record("checkin.undone", actor=user, invitation_id=invitation.id, event=event.key)
    db.session.flush()
    return answer


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


def default_event(events: list[DoorEvent], now: datetime | None = None) -> str:
    """The event on today, or the next one; the summit if nothing is left."""
    now = now or utcnow()
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
    return (
        select(Invitation)
        .join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
        .where(
            FringeSignup.fringe_event_id == event.fringe.id,
            FringeSignup.state == SignupState.CONFIRMED,
            Invitation.state.in_(LIVE_STATES),
        )
    )


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
    """Live invitees whose name matches, with what the door would say, for a manual check-in."""
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
        if event.is_summit:
            admissible = person.state == InvitationState.REGISTERED
            standing = "Registered" if admissible else person.state.label
        else:
            signed = _signed_up(person.id, event.fringe.id)
            admissible, standing = True, "Signed up" if signed else "Not signed up (walk-in)"
        results.append(
            {
                **person_of(person),
                # The code lets the steward check them in through the same path as a scan. Stewards may
                # admit people by hand anyway, so it gives them nothing they could not already do.
                "code": person.code,
                "standing": standing,
                "admissible": admissible,
                "checked_in_at": attendance.checked_in_at.isoformat() if attendance else None,
            }
        )
    return results


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
    here = select(Attendance.invitation_id).where(Attendance.event_key == event.key)
    return list(
        db.session.scalars(
            expected_query(event).where(Invitation.id.not_in(here)).order_by(Invitation.name, Invitation.id)
        )
    )


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
