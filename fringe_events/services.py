"""Fringe event rules: the programme, sign-ups (capacity is invariant 1), changes that tell people,
calendar entries, attendance lists and each person's warm-up history.

Services flush but never commit; the caller commits once. Every place taken or given back goes through
take_place / release_place in the same transaction as the sign-up row it counts.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app import audit
from app.audit import AuditEvent
from app.calendar import CalendarEvent, build_calendar, fringe_uid
from app.db import db, utcnow
from app.errors import DomainError, InvalidState, NotFound, ValidationFailed
from app.mail.outbox import attachment, enqueue
from app.summit import services as summit_services
from app.timefmt import span
from app.urls import external_url
from fringe_events.attendance import EventRef, record_attendance, undo_attendance
from fringe_events.models import Attendance, CheckinMethod, FringeEvent, FringeSignup, FringeStatus, SignupState
from invitations import transitions
from invitations.models import LIVE_STATES, Invitation, InvitationState
from invitations.services import personal_url, token_for
from invitations.models import InvitationState

S = InvitationState


class FringeFull(DomainError):
    status = 409


# --- the programme ---------------------------------------------------------------------------

@dataclass(frozen=True)
class EventData:
    title: str
    venue: str
    starts_at: datetime
    ends_at: datetime
    address: str = ""
    description: str = ""
    theme: str = ""
    host_organisation: str = ""
    host_lead: str = ""
    capacity: int | None = None


def get_event(event_id: int) -> FringeEvent:
    event = db.session.get(FringeEvent, event_id)
    if event is None:
        raise NotFound("There is no such fringe event.")
    return event


def event_by_slug(slug: str) -> FringeEvent | None:
    return db.session.scalars(select(FringeEvent).where(FringeEvent.slug == slug)).first()


def all_events() -> list[FringeEvent]:
    return list(db.session.scalars(select(FringeEvent).order_by(FringeEvent.starts_at, FringeEvent.id)))


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].rstrip("-") or "event"


def _unique_slug(title: str) -> str:
    base = slugify(title)
    slug, n = base, 2
    while event_by_slug(slug) is not None:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check(data: EventData, places_taken: int = 0) -> None:
    if not data.title.strip():
        raise ValidationFailed("Give the event a title.")
    if not data.venue.strip():
        raise ValidationFailed("Give the event a venue.")
    if data.ends_at <= data.starts_at:
        raise ValidationFailed("The event must end after it starts.")
    if data.capacity is not None:
        if data.capacity < 0:
            raise ValidationFailed("The capacity cannot be negative.")
        if data.capacity < places_taken:
            raise ValidationFailed(
                f"The capacity cannot go below the {places_taken} people already signed up. "
                "Leave it blank for no limit."
            )


_TEXT_FIELDS = ("title", "description", "theme", "host_organisation", "host_lead", "venue", "address")


def create_event(data: EventData, *, actor=None, slug: str | None = None) -> FringeEvent:
    _check(data)
    event = FringeEvent(
        slug=slug or _unique_slug(data.title),
        starts_at=data.starts_at, ends_at=data.ends_at, capacity=data.capacity, places_taken=0,
        status=FringeStatus.SCHEDULED, ics_sequence=0,
        **{name: getattr(data, name).strip() for name in _TEXT_FIELDS},
    )
    db.session.add(event)
    db.session.flush()
    audit.record("fringe.created", actor=actor, event_id=event.id, title=event.title)
    return event


@dataclass(frozen=True)
class EventUpdate:
    event: FringeEvent
    changes: list[list[str]]   # [label, before, after], as people read them: what the emails and the page say
    notified: int


def _lock(event: FringeEvent) -> FringeEvent:
    """Lock the row so a concurrent sign-up or edit cannot slip between our read and our write."""
    locked = db.session.scalars(select(FringeEvent).where(FringeEvent.id == event.id).with_for_update()).one()
    db.session.refresh(locked)
    return locked


def _place(venue: str, address: str) -> str:
    if address and venue and venue not in address:
        return f"{venue}, {address}"
    return address or venue


def place_of(event) -> str:
    """'Venue, address' without saying the venue twice."""
    return _place(event.venue, event.address)


def _time_and_place(event) -> dict[str, tuple]:
    return {"When": (event.starts_at, event.ends_at), "Where": (event.venue, event.address)}


def _describe(label: str, values: tuple) -> str:
    return span(*values) if label == "When" else _place(*values)


def describe_changes(before: dict[str, tuple], after: dict[str, tuple]) -> list[list[str]]:
    """What moved, in words: [["When", "Tuesday 6 October, 2pm–4pm", "Thursday 8 October, 2pm–4pm"], …]."""
    return [[label, _describe(label, before[label]), _describe(label, after[label])]
            for label in before if before[label] != after[label]]


def update_event(event: FringeEvent, data: EventData, *, actor=None) -> EventUpdate:
    """Edit an event. A change of time or place raises the calendar SEQUENCE and emails everyone signed up
    the updated entry (same UID), so their calendar moves the entry it has instead of adding a second."""
    event = _lock(event)
    _check(data, event.places_taken)
    before = _time_and_place(event)
    edited = [name for name in _TEXT_FIELDS if getattr(event, name) != getattr(data, name).strip()]
    for name in _TEXT_FIELDS:
        setattr(event, name, getattr(data, name).strip())
    if (event.starts_at, event.ends_at) != (data.starts_at, data.ends_at):
        edited.append("times")
    if event.capacity != data.capacity:
        edited.append("capacity")
    event.starts_at, event.ends_at, event.capacity = data.starts_at, data.ends_at, data.capacity
    changes = describe_changes(before, _time_and_place(event))
    notified = 0
    if changes:
        event.ics_sequence += 1
        db.session.flush()
        if event.status == FringeStatus.SCHEDULED:
            notified = _tell_signed_up(event, "fringe_changed", f"Changed: {event.title}", changes, method="REQUEST")
    db.session.flush()
    if edited:
        audit.record("fringe.changed", actor=actor, event_id=event.id, title=event.title, changes=changes,
                     edited=edited, notified=notified)
    return EventUpdate(event, changes, notified)


def cancel_event(event: FringeEvent, *, reason: str = "", actor=None) -> EventUpdate:
    event = _lock(event)
    if event.status == FringeStatus.CANCELLED:
        raise InvalidState("This event is already cancelled.")
    event.status = FringeStatus.CANCELLED
    event.ics_sequence += 1
    db.session.flush()
    changes = [["Status", "Going ahead", "Cancelled"]]
    # METHOD:CANCEL (with STATUS:CANCELLED, the same UID and a higher SEQUENCE) is the organiser's
    # cancellation in iTIP (RFC 5546 §3.2.5): Outlook, Apple Calendar and Google Calendar act on it by
    # striking or removing the entry they hold. A REQUEST carrying STATUS:CANCELLED is read by several
    # of them as an ordinary update, which would leave the cancelled event standing in the diary.
    notified = _tell_signed_up(event, "fringe_cancelled", f"Cancelled: {event.title}", changes,
                               method="CANCEL", reason=reason.strip())
    audit.record("fringe.cancelled", actor=actor, event_id=event.id, title=event.title, changes=changes,
                 reason=reason.strip()[:1000], notified=notified)
    return EventUpdate(event, changes, notified)


def reinstate_event(event: FringeEvent, *, actor=None) -> EventUpdate:
    """Undo a cancellation: sign-ups were kept, so everyone is told it is back on (a REQUEST re-creates the entry)."""
    event = _lock(event)
    if event.status != FringeStatus.CANCELLED:
        raise InvalidState("This event isn't cancelled.")
    event.status = FringeStatus.SCHEDULED
    event.ics_sequence += 1
    db.session.flush()
    changes = [["Status", "Cancelled", "Going ahead"]]
    notified = _tell_signed_up(event, "fringe_changed", f"Back on: {event.title}", changes, method="REQUEST")
    audit.record("fringe.reinstated", actor=actor, event_id=event.id, title=event.title, changes=changes,
                 notified=notified)
    return EventUpdate(event, changes, notified)


def event_changes(event_id: int, limit: int = 20) -> list[AuditEvent]:
    """The event's recorded edits, newest first: what the organiser's event page shows."""
    return list(db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action.like("fringe.%"), AuditEvent.details["event_id"].as_integer() == event_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    ))


# --- the capacity gate (invariant 1) -----------------------------------------------------------

def take_place(event_id: int) -> bool:
    """Take one place if the event is on and has room. One statement both checks and increments, so two
    transactions can never both see the last place free; no capacity means no limit."""
    result = db.session.execute(
        update(FringeEvent)
        .where(FringeEvent.id == event_id, FringeEvent.status == FringeStatus.SCHEDULED,
               or_(FringeEvent.capacity.is_(None), FringeEvent.places_taken < FringeEvent.capacity))
        .values(places_taken=FringeEvent.places_taken + 1)
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount == 1


def release_place(event_id: int) -> None:
    db.session.execute(
        update(FringeEvent)
        .where(FringeEvent.id == event_id, FringeEvent.places_taken > 0)
        .values(places_taken=FringeEvent.places_taken - 1)
        .execution_options(synchronize_session="fetch")
    )


# --- signing up ------------------------------------------------------------------------------

def find_signup(invitation_id: int, event_id: int) -> FringeSignup | None:
    return db.session.scalars(select(FringeSignup).where(
        FringeSignup.invitation_id == invitation_id, FringeSignup.fringe_event_id == event_id)).first()


def is_signed_up(invitation_id: int, event_id: int) -> bool:
    signup = find_signup(invitation_id, event_id)
    return signup is not None and signup.state == SignupState.CONFIRMED


def sign_up(invitation: Invitation, event: FringeEvent, now: datetime | None = None) -> FringeSignup:
    """Sign a live invitee up. Signing up twice changes nothing; a full or cancelled event says no."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live, so it can't be used to sign up for fringe events."
    transitions.begin(invitation, allowed=LIVE_STATES, refusals={S.HANDED_ON: no_longer, S.REVOKED: no_longer})
    if event.status == FringeStatus.CANCELLED:
        raise InvalidState(f"Sorry, {event.title} has been cancelled, so it isn't taking sign-ups.")
    if event.starts_at <= now:
        raise InvalidState(f"{event.title} has already started, so it isn't taking sign-ups.")
    existing = find_signup(invitation.id, event.id)
    if existing is not None and existing.state == SignupState.CONFIRMED:
        return existing  # a second tap, or a second tab: already done
    if not take_place(event.id):
        db.session.refresh(event)
        if event.status == FringeStatus.CANCELLED:
            raise InvalidState(f"Sorry, {event.title} has just been cancelled, so it isn't taking sign-ups.")
        raise FringeFull(f"Sorry, {event.title} is full: all {event.capacity} places are taken.")
    if existing is None:
        signup = FringeSignup(invitation_id=invitation.id, fringe_event_id=event.id,
                              state=SignupState.CONFIRMED, created_at=now)
        try:
            with db.session.begin_nested():
                db.session.add(signup)
        except IntegrityError:
            # The same person signed up from another tab a moment ago: theirs holds the place, not ours.
            release_place(event.id)
            existing = find_signup(invitation.id, event.id)
            if existing is None:
                raise
            db.session.refresh(existing)
            if existing.state == SignupState.CONFIRMED:
                return existing
            raise InvalidState("That didn't go through. Please try again.")
    else:
        # Re-joining after cancelling reuses the row (one sign-up per person and event, invariant 2).
        rejoined = db.session.execute(
            update(FringeSignup)
            .where(FringeSignup.id == existing.id, FringeSignup.state == SignupState.CANCELLED)
            .values(state=SignupState.CONFIRMED, cancelled_at=None, created_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(existing)
        if rejoined != 1:
            release_place(event.id)
            return existing
        signup = existing
    db.session.flush()
    _tell_one(invitation, event, "fringe_signed_up", f"You're signed up: {event.title}", method="REQUEST")
    return signup


def cancel_signup(invitation: Invitation, event: FringeEvent, now: datetime | None = None) -> bool:
    """Give the place back. True if there was a sign-up to cancel (cancelling twice is harmless)."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live."
    transitions.begin(invitation, allowed=LIVE_STATES, refusals={S.HANDED_ON: no_longer, S.REVOKED: no_longer})
    signup = find_signup(invitation.id, event.id)
    if signup is None or signup.state != SignupState.CONFIRMED:
        return False
    if event.starts_at <= now:
        raise InvalidState(f"{event.title} has already started, so the sign-up can't be cancelled now.")
    cancelled = db.session.execute(
        update(FringeSignup)
        .where(FringeSignup.id == signup.id, FringeSignup.state == SignupState.CONFIRMED)
        .values(state=SignupState.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(signup)
    if cancelled != 1:
        return False
    release_place(event.id)
    db.session.flush()
    if event.status == FringeStatus.SCHEDULED:
        # The person's own copy goes: CANCEL with the UID their calendar already holds.
        _tell_one(invitation, event, "fringe_signup_cancelled", f"Sign-up cancelled: {event.title}", method="CANCEL",
                  cancelled=True)
    return True


# --- calendar entries ------------------------------------------------------------------------

def event_url(invitation: Invitation, event: FringeEvent) -> str:
    return external_url("fringe.event", token=token_for(invitation), slug=event.slug)


def _description(event: FringeEvent) -> str:
    parts = [event.description.strip()] if event.description.strip() else []
    host = ", ".join(p for p in (event.host_lead, event.host_organisation) if p)
    if host:
        parts.append(f"Hosted by {host}.")
    parts.append("A fringe event of The Lives we Lead: New Horizons, Suffolk's innovation summit.")
    return "\n\n".join(parts)


def fringe_calendar_event(event: FringeEvent, *, url: str = "", attendee: Invitation | None = None,
                          cancelled: bool | None = None) -> CalendarEvent:
    """One fringe event as a calendar entry: stable UID, SEQUENCE rising with every change of time, place or status."""
    return CalendarEvent(
        uid=fringe_uid(event.id), title=event.title, starts_at=event.starts_at, ends_at=event.ends_at,
        location=place_of(event), description=_description(event), url=url, sequence=event.ics_sequence,
        cancelled=event.status == FringeStatus.CANCELLED if cancelled is None else cancelled,
        organizer_email=current_app.config["MAIL_FROM"], organizer_name=current_app.config["MAIL_FROM_NAME"],
        attendee_email=attendee.email if attendee else "", attendee_name=attendee.name if attendee else "",
    )


def public_summit_calendar() -> bytes:
    summit = summit_services.get_summit()
    return build_calendar([summit_services.summit_calendar_event(summit, url=external_url("main.index"))],
                          name=summit.name)


def public_event_calendar(event: FringeEvent) -> bytes:
    return build_calendar([fringe_calendar_event(event, url=external_url("main.index"))], name=event.title)


def _my_signups(invitation_id: int) -> list[FringeSignup]:
    return list(db.session.scalars(
        select(FringeSignup).join(FringeEvent)
        .where(FringeSignup.invitation_id == invitation_id, FringeSignup.state == SignupState.CONFIRMED)
        .order_by(FringeEvent.starts_at, FringeEvent.id)
    ))


def personal_calendar_events(invitation: Invitation) -> list[CalendarEvent]:
    """The summit once registered, then each confirmed sign-up (a cancelled event stays, as CANCELLED,
    so a subscribed calendar strikes it out rather than silently dropping it)."""
    events = []
    summit = summit_services.find_summit()
    if summit is not None and invitation.state == InvitationState.REGISTERED:
        events.append(summit_services.summit_calendar_event(summit, url=personal_url(invitation)))
    for signup in _my_signups(invitation.id):
        events.append(fringe_calendar_event(signup.event, url=event_url(invitation, signup.event)))
    return events


def personal_calendar(invitation: Invitation) -> bytes:
    return build_calendar(personal_calendar_events(invitation), method="PUBLISH", name="New Horizons")


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(item: CalendarEvent) -> str:
    """Google Calendar's 'add event' page, filled in. No personal link goes to Google: description only."""
    return "https://calendar.google.com/calendar/render?" + urlencode({
        "action": "TEMPLATE", "text": item.title,
        "dates": f"{_utc_stamp(item.starts_at)}/{_utc_stamp(item.ends_at)}", "ctz": "Europe/London",
        "details": item.description, "location": item.location,
    })


def outlook_calendar_url(item: CalendarEvent) -> str:
    """Outlook.com's 'new event' page, filled in (times in UTC, which it shows in the viewer's zone)."""
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode({
        "path": "/calendar/action/compose", "rru": "addevent", "subject": item.title,
        "startdt": item.starts_at.astimezone(timezone.utc).strftime(iso),
        "enddt": item.ends_at.astimezone(timezone.utc).strftime(iso),
        "body": item.description, "location": item.location,
    })


@dataclass(frozen=True)
class AddLinks:
    title: str
    when: str
    google: str
    outlook: str


def _add_links(item: CalendarEvent) -> AddLinks:
    return AddLinks(title=item.title, when=span(item.starts_at, item.ends_at), google=google_calendar_url(item),
                    outlook=outlook_calendar_url(item))


def personal_calendar_links(invitation: Invitation) -> list[AddLinks]:
    """An 'add to Google / Outlook.com' pair for each entry of the person's feed that is going ahead."""
    return [_add_links(item) for item in personal_calendar_events(invitation) if not item.cancelled]


def event_add_links(event: FringeEvent) -> AddLinks:
    return _add_links(fringe_calendar_event(event))


def webcal_url(url: str) -> str:
    """The feed's address for subscribing: calendar apps open webcal:// links and keep polling them."""
    return "webcal://" + url.split("://", 1)[1]


# --- what a delegate sees -----------------------------------------------------------------------

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
    """Every upcoming event, plus past or cancelled ones this person signed up for or attended."""
    now = now or utcnow()
    mine = {s.fringe_event_id for s in db.session.scalars(select(FringeSignup).where(
        FringeSignup.invitation_id == invitation.id, FringeSignup.state == SignupState.CONFIRMED))}
    attended = set(db.session.scalars(select(Attendance.fringe_event_id).where(
        Attendance.invitation_id == invitation.id, Attendance.fringe_event_id.is_not(None))))
    items = []
    for event in all_events():
        started = event.starts_at <= now
        involved = event.id in mine or event.id in attended
        if (started or event.status == FringeStatus.CANCELLED) and not involved:
            continue
        items.append(ProgrammeItem(event=event, signed_up=event.id in mine, attended=event.id in attended,
                                   started=started))
    return Programme(items)


def programme_item(invitation: Invitation, event: FringeEvent, now: datetime | None = None) -> ProgrammeItem:
    now = now or utcnow()
    attended = db.session.scalar(select(func.count()).select_from(Attendance).where(
        Attendance.invitation_id == invitation.id, Attendance.event_key == event.event_key)) > 0
    return ProgrammeItem(event=event, signed_up=is_signed_up(invitation.id, event.id), attended=attended,
                         started=event.starts_at <= now)


# --- attendance --------------------------------------------------------------------------------

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
    return or_(func.lower(Invitation.name).like(like), Invitation.email.like(like),
               func.lower(Invitation.organisation).like(like))


def attendance_sheet(event: FringeEvent, q: str = "") -> AttendanceSheet:
    """Everyone signed up (with a live invitation), and everyone who attended, signed up or not."""
    signup_query = (select(Invitation).join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
                    .where(FringeSignup.fringe_event_id == event.id, FringeSignup.state == SignupState.CONFIRMED,
                           Invitation.state.in_(LIVE_STATES)))
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
    rows = [SheetRow(invitation=inv, signed_up=inv.id in all_signed, attendance=attendances.get(inv.id))
            for inv in people.values()]
    rows.sort(key=lambda r: (r.invitation.name.lower(), r.invitation.id))
    return AttendanceSheet(rows=rows, signed_up=len(all_signed), attended=len(all_attended),
                           walk_ins=sum(1 for a in all_attended if a.walk_in))


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
    signed = db.session.scalars(
        select(Invitation).join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
        .where(FringeSignup.fringe_event_id == event.id, FringeSignup.state == SignupState.CONFIRMED,
               Invitation.state.in_(LIVE_STATES), Invitation.id.in_(wanted))
    ).all()
    recorded = 0
    for invitation in signed:
        _, created = record_attendance(invitation, event_ref(event), by=by, method=CheckinMethod.LIST, now=now)
        recorded += int(created)
        if created:
            audit.record("fringe.attendance_marked", actor=by, invitation_id=invitation.id, event=event.slug,
                         before="not attended", after="attended")
    db.session.flush()
    return recorded


def record_walk_in(event: FringeEvent, invitation: Invitation, *, by=None, now: datetime | None = None):
    """Someone invited turned up without signing up. (A walk-in takes no sign-up place: they are already in the room.)"""
    _check_attendable(event)
    if invitation.state not in LIVE_STATES:
        raise InvalidState(f"{invitation.name}'s invitation is no longer live, so they can't be recorded here.")
    walk_in = not is_signed_up(invitation.id, event.id)
    attendance, created = record_attendance(invitation, event_ref(event), by=by, method=CheckinMethod.MANUAL,
                                            walk_in=walk_in, now=now)
    if created:
        audit.record("fringe.walk_in_recorded" if walk_in else "fringe.attendance_marked", actor=by,
                     invitation_id=invitation.id, event=event.slug, before="not attended", after="attended")
    db.session.flush()
    return attendance, created


def undo(event: FringeEvent, invitation_id: int, *, by=None) -> bool:
    undone = undo_attendance(invitation_id, event.event_key)
    if undone:
        audit.record("fringe.attendance_undone", actor=by, invitation_id=invitation_id, event=event.slug,
                     before="attended", after="not attended")
    return undone


def search_invitees(q: str, limit: int = 20) -> list[Invitation]:
    """Live invitees whose name, email or organisation matches: for recording a walk-in."""
    if len(q.strip()) < 2:
        return []
    return list(db.session.scalars(
        select(Invitation).where(Invitation.state.in_(LIVE_STATES), _matches(q))
        .order_by(Invitation.name, Invitation.id).limit(limit)
    ))


def attended_ids(event: FringeEvent, invitation_ids: list[int]) -> set[int]:
    if not invitation_ids:
        return set()
    return set(db.session.scalars(select(Attendance.invitation_id).where(
        Attendance.event_key == event.event_key, Attendance.invitation_id.in_(invitation_ids))))


# --- the organisers' overview and a person's history --------------------------------------------

@dataclass(frozen=True)
class EventSummary:
    event: FringeEvent
    attended: int
    walk_ins: int


def event_summaries() -> list[EventSummary]:
    counts = {row[0]: (row[1], row[2]) for row in db.session.execute(
        select(Attendance.fringe_event_id, func.count(),
               func.count().filter(Attendance.walk_in.is_(True)))
        .where(Attendance.fringe_event_id.is_not(None)).group_by(Attendance.fringe_event_id)
    )}
    return [EventSummary(event=e, attended=counts.get(e.id, (0, 0))[0], walk_ins=counts.get(e.id, (0, 0))[1])
            for e in all_events()]


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
    signups = {s.fringe_event_id: s for s in db.session.scalars(
        select(FringeSignup).where(FringeSignup.invitation_id == invitation_id))}
    attendances = {a.fringe_event_id: a for a in db.session.scalars(
        select(Attendance).where(Attendance.invitation_id == invitation_id, Attendance.fringe_event_id.is_not(None)))}
    ids = set(signups) | set(attendances)
    if not ids:
        return WarmUpHistory([])
    events = db.session.scalars(select(FringeEvent).where(FringeEvent.id.in_(ids))
                                .order_by(FringeEvent.starts_at, FringeEvent.id))
    return WarmUpHistory([HistoryRow(event=e, signup=signups.get(e.id), attendance=attendances.get(e.id),
                                     started=e.starts_at <= now) for e in events])


# --- email ---------------------------------------------------------------------------------------

def _tell_one(invitation: Invitation, event: FringeEvent, kind: str, subject: str, *, method: str,
              changes: list[list[str]] | None = None, reason: str = "", cancelled: bool | None = None) -> None:
    link = event_url(invitation, event)
    ics = build_calendar([fringe_calendar_event(event, url=link, attendee=invitation, cancelled=cancelled)],
                         method=method)
    enqueue(
        kind, to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id, subject=subject,
        context={"invitation": invitation, "event": event, "summit": summit_services.find_summit(),
                 "link": personal_url(invitation), "event_link": link, "place": place_of(event),
                 "changes": changes or [], "reason": reason},
        attachments=[attachment(f"{event.slug}.ics", f"text/calendar; method={method}", ics)],
    )


def _tell_signed_up(event: FringeEvent, kind: str, subject: str, changes: list[list[str]], *, method: str,
                    reason: str = "") -> int:
    """Email everyone signed up (with a live invitation) the updated entry. Returns how many."""
    people = db.session.scalars(
        select(Invitation).join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
        .where(FringeSignup.fringe_event_id == event.id, FringeSignup.state == SignupState.CONFIRMED,
               Invitation.state.in_(LIVE_STATES))
        .order_by(Invitation.id)
    ).all()
    for invitation in people:
        _tell_one(invitation, event, kind, subject, method=method, changes=changes, reason=reason)
    return len(people)


# --- when an invitation stops being someone's -------------------------------------------------

def release_signups(invitation_id: int, now: datetime | None = None) -> int:
    """A revoked or erased invitation gives back its places at fringe events still to come (no emails:
    the person is no longer on our list). Returns how many."""
    now = now or utcnow()
    rows = db.session.execute(
        select(FringeSignup.id, FringeSignup.fringe_event_id).join(FringeEvent)
        .where(FringeSignup.invitation_id == invitation_id, FringeSignup.state == SignupState.CONFIRMED,
               FringeEvent.starts_at > now)
    ).all()
    for signup_id, event_id in rows:
        cancelled = db.session.execute(
            update(FringeSignup).where(FringeSignup.id == signup_id, FringeSignup.state == SignupState.CONFIRMED)
            .values(state=SignupState.CANCELLED, cancelled_at=now).execution_options(synchronize_session=False)
        ).rowcount
        if cancelled == 1:
            release_place(event_id)
    db.session.flush()
    return len(rows)


def transfer_signups(from_invitation_id: int, to_invitation_id: int, now: datetime | None = None) -> int:
    """A colleague sent in someone's place takes over their sign-ups to events still to come; the places
    move without ever being free."""
    now = now or utcnow()
    upcoming = select(FringeEvent.id).where(FringeEvent.starts_at > now).scalar_subquery()
    moved = db.session.execute(
        update(FringeSignup)
        .where(FringeSignup.invitation_id == from_invitation_id, FringeSignup.state == SignupState.CONFIRMED,
               FringeSignup.fringe_event_id.in_(upcoming))
        .values(invitation_id=to_invitation_id).execution_options(synchronize_session=False)
    ).rowcount
    db.session.flush()
    return moved
