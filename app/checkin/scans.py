"""What a scanned code means at an event: the answer, the attendance it writes, the scan log, replays and undo.

Semantics (the contract is in DESIGN.md, "Check-in API"):
- `invalid`: the code is not one we issued (forged, reissued since, or some other QR), or its invitation
  was handed on or revoked. No person is named.
- `incomplete`: no code we issued, but one or two characters away from the shape of ours (a character
  wrong, missing, extra or swapped, which the check character catches): a misread or a typo, so the door
  says "scan it again or type it carefully" rather than "not one of ours". No person is named.
- `wrong_event`: the event named is not one this door can admit to: no such slug, or a cancelled fringe
  event (the code is not looked at); or, for a badge we issued, an event that isn't on today (London dates)
  unless the scan says the steward confirmed it (`confirmed`). Codes are personal, not per event, so this
  always means "check the event picker".
- Summit: `ok` / `already_checked_in` only for a confirmed registration; `cancelled` if the person gave
  their place back; `not_registered` for any other live invitee (invited, declined, waiting, offered).
- Fringe event: `ok` / `already_checked_in` for a live invitee signed up for it; anyone else live is
  `not_registered`, unless the scan says it is a walk-in on purpose (`walk_in`), as the organisers'
  attendance list records one. The check-in is that event's attendance.
- Needs are in the answer only when the person is admitted (`ok`, `already_checked_in`): the door needs
  them then, and no other answer hands them out.
- A nonce makes a retry safe: the same steward sending the same nonce gets the first answer replayed,
  and nothing is written twice. Every scan, accepted or refused, is written to the scan log.
- The scan log keeps the answer without the person (no name, organisation or needs: a log is no place for
  health data, and an erasure must leave none behind); a replay names them from their invitation as it is now.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection, and_, bindparam, exists, func, select, update

from app.checkin.models import ScanLog
from app.core import audit
from app.core.auth.models import User
from app.core.badge_codes import CodeShape, code_shape
from app.core.db import db, insert_returning_id, utcnow
from app.core.security import CODE_ALPHABET
from app.core.summit.models import Summit
from app.core.timefmt import local
from fringe_events.attendance import EventRef, claim_attendance, resolve_event, undo_attendance
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, CheckinMethod, FringeSignup, FringeStatus, SignupState
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
# The answers that name the person scanned (the rest name nobody).
NAMING = frozenset({OK, ALREADY, CANCELLED, NOT_REGISTERED, UNDONE})

SCAN_METHODS = {m.value: m for m in (CheckinMethod.CAMERA, CheckinMethod.HANDHELD, CheckinMethod.MANUAL)}
MAX_CODE_CHARS = 512  # longer than any code; a scanner reading some other QR still gets "invalid", not 400
MAX_NONCE_CHARS = 64  # scan_log.nonce
MAX_EVENT_CHARS = 80  # fringe_event.slug
MIN_SEARCH_CHARS = 3
_CODE_SHAPE = re.compile(rf"NH[0-9]+-[{CODE_ALPHABET}]+")
_NOTHING = {"", "none", "n/a", "na", "no", "nil", "-", "no thanks", "nothing"}


SUMMIT_REF = EventRef(key=SUMMIT_EVENT_KEY, title="The summit")


class DoorUser(Protocol):
    """Who is scanning: a staff account, or the API caller a token stands for."""

    @property
    def id(self) -> int: ...

    @property
    def name(self) -> str: ...


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
    confirmed: bool = False  # the steward confirmed the event, though it isn't on today
    walk_in: bool = False  # a fringe check-in for someone not signed up, recorded as a walk-in on purpose


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
    return Scan(
        code=code.upper(),
        event=event,
        nonce=nonce,
        method=method,
        confirmed=_flag(payload, "confirmed"),
        walk_in=_flag(payload, "walk_in"),
    )


def _flag(payload: dict, key: str) -> bool:
    value = payload.get(key, False)
    if not isinstance(value, bool):
        raise MalformedScan(f"'{key}' must be true or false.")
    return value


def on_today(starts_at: datetime | None, ends_at: datetime | None, now: datetime) -> bool:
    """Whether an event runs on today's date in London (a summit over several days, on each of them)."""
    if starts_at is None or ends_at is None:
        return False
    today = local(now).date()
    return local(starts_at).date() <= today <= local(ends_at).date()


def looks_like_code(code: str) -> bool:
    return len(code) <= 40 and _CODE_SHAPE.fullmatch(code) is not None


def unknown_code_status(code: str) -> str:
    """For a code that matched no invitation: a mistyped or misread one of ours, or not one of ours."""
    return INCOMPLETE if code_shape(code) == CodeShape.DAMAGED else INVALID


def answer_for_unknown(code: str) -> dict:
    """The answer to a code that matched no invitation: it names nobody."""
    return _answer(unknown_code_status(code))


def find_by_code(code: str) -> Invitation | None:
    if not looks_like_code(code):
        return None
    return db.session.scalars(select(Invitation).where(Invitation.code == code)).first()


# --- the answer --------------------------------------------------------------------------------


def _real(text: str | None) -> str:
    text = (text or "").strip()
    return "" if text.lower().strip(".") in _NOTHING else text[:280]


def _needs(registration_state, dietary: str | None, access_needs: str | None) -> list[dict]:
    if registration_state is None or registration_state == RegistrationState.TRANSFERRED:
        return []
    needs = []
    if _real(dietary):
        needs.append({"kind": "dietary", "label": "Dietary", "text": _real(dietary)})
    if _real(access_needs):
        needs.append({"kind": "access", "label": "Access", "text": _real(access_needs)})
    return needs


def needs_of(invitation: Invitation) -> list[dict]:
    """Dietary and access needs, as the door should see them (from the registration, if they made one)."""
    registration = invitation.registration
    if registration is None:
        return []
    return _needs(registration.state, registration.dietary, registration.access_needs)


def _person(name: str, organisation: str, needs: list[dict]) -> dict:
    return {"name": name[:200], "organisation": organisation[:200], "needs": needs}


def _refused(person: dict) -> dict:
    """A person named in a refusal: who they are, not their needs (those are for the door that admits them)."""
    return {**person, "needs": []}


def person_of(invitation: Invitation) -> dict:
    return _person(invitation.name, invitation.organisation, needs_of(invitation))


def _answer(status: str, person: dict | None = None, at: datetime | None = None, by: str | None = None) -> dict:
    return {"status": status, "person": person, "checked_in_at": at.isoformat() if at else None, "checked_in_by": by}


def usable_event(name: str) -> EventRef | None:
    """The summit or a scheduled fringe event, by the name the scanner uses; None if the door can't admit to it."""
    event = resolve_event(name)
    if event is None or (event.fringe_event is not None and event.fringe_event.status == FringeStatus.CANCELLED):
        return None
    return event


def _door_event(name: str) -> EventRef | None:
    # The summit needs no look-up to be checked in to (its title is not part of the answer).
    return SUMMIT_REF if name == SUMMIT_EVENT_KEY else usable_event(name)


def signed_up_for(invitation_id: int, fringe_event_id: int) -> bool:
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


_CHECKER = User.__table__.alias("checker")


def look_up_columns(fringe: bool) -> list:
    """What a scan needs to know of the person with a code (their invitation, registration, attendance at the event
    and who checked them in) and of the event: for the summit its dates, so that "is it on today?" costs no statement
    of its own; for a fringe event whether they signed up. Read by one statement (_look_up, and hot_path's)."""
    invitation, registration, attendance = Invitation.__table__, Registration.__table__, Attendance.__table__
    signup = FringeSignup.__table__
    columns = [
        invitation.c.id,
        invitation.c.state,
        invitation.c.name,
        invitation.c.organisation,
        registration.c.state.label("registration_state"),
        registration.c.dietary,
        registration.c.access_needs,
        attendance.c.checked_in_at,
        _CHECKER.c.name.label("checked_in_by"),
    ]
    if not fringe:
        columns.append(select(Summit.starts_at).limit(1).scalar_subquery().label("event_starts_at"))
        columns.append(select(Summit.ends_at).limit(1).scalar_subquery().label("event_ends_at"))
    else:
        signed_up = exists().where(
            signup.c.invitation_id == invitation.c.id,
            signup.c.fringe_event_id == bindparam("fringe_event_id"),
            signup.c.state == SignupState.CONFIRMED,
        )
        columns.append(signed_up.label("signed_up"))
    return columns


def person_joins(onto):
    """`onto` (which holds the invitation) with the person's registration, attendance at the event (bind
    `event_key`) and who checked them in, each an outer join."""
    invitation, registration, attendance = Invitation.__table__, Registration.__table__, Attendance.__table__
    return (
        onto.outerjoin(registration, registration.c.invitation_id == invitation.c.id)
        .outerjoin(
            attendance,
            and_(attendance.c.invitation_id == invitation.c.id, attendance.c.event_key == bindparam("event_key")),
        )
        .outerjoin(_CHECKER, _CHECKER.c.id == attendance.c.checked_in_by_id)
    )


def _look_up_statement(fringe: bool):
    """Built once: look_up_columns for the invitation with a code (bind `code`), in Core terms (no ORM objects)."""
    invitation = Invitation.__table__
    return (
        select(*look_up_columns(fringe))
        .select_from(person_joins(invitation))
        .where(invitation.c.code == bindparam("code"))
    )


_LOOK_UP = {fringe: _look_up_statement(fringe) for fringe in (False, True)}


def _look_up(code: str, event: EventRef):
    """One statement (see _look_up_statement); None if no invitation has the code."""
    values: dict[str, object] = {"code": code, "event_key": event.key}
    if not event.is_summit:
        values["fringe_event_id"] = event.fringe.id
    return db.session.connection().execute(_LOOK_UP[not event.is_summit], values).first()


_EARLIER = (
    select(Attendance.__table__.c.checked_in_at, _CHECKER.c.name)
    .select_from(Attendance.__table__.outerjoin(_CHECKER, _CHECKER.c.id == Attendance.__table__.c.checked_in_by_id))
    .where(
        Attendance.__table__.c.invitation_id == bindparam("invitation_id"),
        Attendance.__table__.c.event_key == bindparam("event_key"),
    )
)


def _judge(found, event: EventRef, scan: Scan, now: datetime) -> tuple[dict | None, dict, bool]:
    """What a look-up row means at this event: (the answer, …) when the scan is refused or the person is in
    already; (None, the person, walk-in?) when they are to be checked in now."""
    if found.state not in LIVE_STATES:
        return _answer(INVALID), {}, False
    if not scan.confirmed:
        starts, ends = (
            (found.event_starts_at, found.event_ends_at)
            if event.is_summit
            else (event.fringe.starts_at, event.fringe.ends_at)
        )
        if not on_today(starts, ends, now):
            return _answer(WRONG_EVENT), {}, False
    person = _person(
        found.name, found.organisation, _needs(found.registration_state, found.dietary, found.access_needs)
    )
    if event.is_summit:
        if found.state == InvitationState.CANCELLED:
            return _answer(CANCELLED, _refused(person)), person, False
        if found.state != InvitationState.REGISTERED or found.registration_state != RegistrationState.CONFIRMED:
            return _answer(NOT_REGISTERED, _refused(person)), person, False
        walk_in = False
    else:
        walk_in = not found.signed_up
        if walk_in and not scan.walk_in and found.checked_in_at is None:
            return _answer(NOT_REGISTERED, _refused(person)), person, False
    if found.checked_in_at is not None:
        return _answer(ALREADY, person, found.checked_in_at, found.checked_in_by), person, walk_in
    return None, person, walk_in


def admit(connection: Connection, user: DoorUser, found, event: EventRef, scan: Scan, now: datetime) -> dict:
    """The answer for the person a look-up row found; writes their attendance (on `connection`) if admitted."""
    answer, person, walk_in = _judge(found, event, scan, now)
    if answer is not None:
        return answer
    method = SCAN_METHODS[scan.method]
    if claim_attendance(found.id, event, by_id=user.id, method=method, walk_in=walk_in, now=now, connection=connection):
        return _answer(OK, person, now, user.name)
    # Another door checked them in between our look and our write: answer as that door's check-in stands.
    earlier = connection.execute(_EARLIER, {"invitation_id": found.id, "event_key": event.key}).first()
    assert earlier is not None  # the insert did nothing only because this row exists
    return _answer(ALREADY, person, earlier.checked_in_at, earlier.name)


def _decide(user: DoorUser, scan: Scan, now: datetime) -> tuple[dict, int | None, str]:
    """The answer, the invitation it is about (if any) and the event's key; writes the attendance if admitted."""
    event = _door_event(scan.event)
    if event is None:
        return _answer(WRONG_EVENT), None, scan.event
    found = _look_up(scan.code, event) if looks_like_code(scan.code) else None
    if found is None:
        return answer_for_unknown(scan.code), None, event.key
    return admit(db.session.connection(), user, found, event, scan, now), found.id, event.key


def log_scan(
    user: DoorUser,
    scan: Scan,
    status: str,
    invitation_id: int | None,
    event_key: str,
    response: dict,
    *,
    method: str | None = None,
    nonce: str | None = None,
    now: datetime,
    connection: Connection | None = None,
) -> bool:
    """Write one scan-log row, its answer without the person (on `connection`, else the session's). False if this
    steward's nonce is already in the log (nothing is written then)."""
    body = logged_answer(response)
    written = insert_returning_id(
        ScanLog.__table__,
        dict(
            at=now,
            user_id=user.id,
            event_key=event_key[:40],
            code=scan.code[:80],
            status=status,
            invitation_id=invitation_id,
            method=method or scan.method,
            nonce=nonce,
            response=body,
        ),
        connection,
    )
    return written is not None


def logged_answer(response: dict) -> str:
    """An answer as the scan log keeps it: without the person."""
    return json.dumps({**response, "person": None}, separators=(",", ":"))


def replay(user: DoorUser, nonce: str | None) -> dict | None:
    """The answer already given to this steward's scan with this nonce, if there was one, naming the person
    (if it did) from their invitation as it is now."""
    if not nonce:
        return None
    row = db.session.execute(
        select(ScanLog.response, ScanLog.invitation_id).where(ScanLog.user_id == user.id, ScanLog.nonce == nonce)
    ).first()
    if row is None or not row.response:
        return None
    answer = json.loads(row.response)
    if answer.get("person") is None and answer.get("status") in NAMING and row.invitation_id is not None:
        invitation = db.session.get(Invitation, row.invitation_id)
        answer["person"] = person_of(invitation) if invitation is not None else None
    return answer


def forget_people_in_answers(invitation_id: int) -> int:
    """Take the person out of answers the scan log kept before it stopped keeping them (on their erasure)."""
    rows = db.session.execute(
        select(ScanLog.id, ScanLog.response).where(
            ScanLog.invitation_id == invitation_id, ScanLog.response.like('%"person":{%')
        )
    ).all()
    for row in rows:
        db.session.execute(
            update(ScanLog).where(ScanLog.id == row.id).values(response=logged_answer(json.loads(row.response)))
        )
    return len(rows)


def check_in(user: DoorUser, scan: Scan, now: datetime | None = None) -> dict:
    """Answer one scan and log it, in about three statements. Never commits.

    Raises NonceTaken when this steward's nonce is already in the scan log (a retry, or its twin racing it):
    the caller rolls back whatever this call wrote and replays the first answer."""
    now = now or utcnow()
    answer, invitation_id, event_key = _decide(user, scan, now)
    if not log_scan(user, scan, answer["status"], invitation_id, event_key, answer, nonce=scan.nonce, now=now):
        raise NonceTaken(scan.nonce)
    return answer


def undo(user: DoorUser, scan: Scan, now: datetime | None = None) -> dict:
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
    person = person_of(invitation)
    answer = {"status": UNDONE if removed else "not_checked_in", "person": person if removed else _refused(person)}
    if removed:
        log_scan(user, scan, UNDONE, invitation.id, event.key, answer, method="undo", now=now)
        audit.record("checkin.undone", actor=user, invitation_id=invitation.id, event=event.key)
    db.session.flush()
    return answer
