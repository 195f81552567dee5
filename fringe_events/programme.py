"""The fringe programme: events, their edits, cancellations and reinstatements, and what changed.

Services flush but never commit; the caller commits once."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditEvent
from app.core.db import db
from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.core.timefmt import span
from fringe_events.calendars import place_text
from fringe_events.models import FringeEvent, FringeStatus
from fringe_events.notifications import tell_signed_up


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
    joining_link: str = ""  # an online event's Teams or Zoom link, for the people signed up only


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
        raise ValidationFailed("Give the event a title.", field="title")
    if not data.venue.strip():
        raise ValidationFailed("Give the event a venue.", field="venue")
    if data.ends_at <= data.starts_at:
        raise ValidationFailed("The event must end after it starts.", field="ends_at")
    if data.joining_link.strip() and not _WEB_LINK.fullmatch(data.joining_link.strip()):
        raise ValidationFailed(
            "Paste the whole joining link, starting https://, for example from the Teams or Zoom invitation.",
            field="joining_link",
        )
    if data.capacity is not None:
        if data.capacity < 0:
            raise ValidationFailed("The capacity cannot be negative.", field="capacity")
        if data.capacity < places_taken:
            raise ValidationFailed(
                f"The capacity cannot go below the {places_taken} people already signed up. "
                "Leave it blank for no limit.",
                field="capacity",
            )


_TEXT_FIELDS = ("title", "description", "theme", "host_organisation", "host_lead", "venue", "address", "joining_link")
_WEB_LINK = re.compile(r"https?://[^\s/?#]+\.[^\s/?#]+(?:[/?#]\S*)?", re.IGNORECASE)


def create_event(
    data: EventData, *, actor=None, slug: str | None = None, copied_from: FringeEvent | None = None
) -> FringeEvent:
    """A new event on the programme (`copied_from`: the event an organiser copied its details from)."""
    _check(data)
    event = FringeEvent(
        slug=slug or _unique_slug(data.title),
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        capacity=data.capacity,
        places_taken=0,
        status=FringeStatus.SCHEDULED,
        ics_sequence=0,
        **{name: getattr(data, name).strip() for name in _TEXT_FIELDS},
    )
    db.session.add(event)
    db.session.flush()
    copy: dict = {"copied_from_id": copied_from.id, "copied_from": copied_from.title} if copied_from else {}
    audit.record("fringe.created", actor=actor, event_id=event.id, title=event.title, **copy)
    return event


@dataclass(frozen=True)
class EventUpdate:
    event: FringeEvent
    changes: list[list[str]]  # [label, before, after], as people read them: what the emails and the page say
    notified: int


def _lock(event: FringeEvent) -> FringeEvent:
    """Lock the row so a concurrent sign-up or edit cannot slip between our read and our write."""
    locked = db.session.scalars(select(FringeEvent).where(FringeEvent.id == event.id).with_for_update()).one()
    db.session.refresh(locked)
    return locked


def _time_and_place(event) -> dict[str, tuple]:
    return {"When": (event.starts_at, event.ends_at), "Where": (event.venue, event.address)}


def _describe(label: str, values: tuple) -> str:
    return span(*values) if label == "When" else place_text(*values)


def describe_changes(before: dict[str, tuple], after: dict[str, tuple]) -> list[list[str]]:
    """What moved, in words: [["When", "Tuesday 6 October, 2pm–4pm", "Thursday 8 October, 2pm–4pm"], …]."""
    return [
        [label, _describe(label, before[label]), _describe(label, after[label])]
        for label in before
        if before[label] != after[label]
    ]


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
            notified = tell_signed_up(event, "fringe_changed", f"Changed: {event.title}", changes, method="REQUEST")
    db.session.flush()
    if edited:
        audit.record(
            "fringe.changed",
            actor=actor,
            event_id=event.id,
            title=event.title,
            changes=changes,
            edited=edited,
            notified=notified,
        )
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
    notified = tell_signed_up(
        event, "fringe_cancelled", f"Cancelled: {event.title}", changes, method="CANCEL", reason=reason.strip()
    )
    audit.record(
        "fringe.cancelled",
        actor=actor,
        event_id=event.id,
        title=event.title,
        changes=changes,
        reason=reason.strip()[:1000],
        notified=notified,
    )
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
    notified = tell_signed_up(event, "fringe_changed", f"Back on: {event.title}", changes, method="REQUEST")
    audit.record(
        "fringe.reinstated", actor=actor, event_id=event.id, title=event.title, changes=changes, notified=notified
    )
    return EventUpdate(event, changes, notified)


def event_changes(event_id: int, limit: int = 20) -> list[AuditEvent]:
    """The event's recorded edits, newest first: what the organiser's event page shows."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action.like("fringe.%"), AuditEvent.details["event_id"].as_integer() == event_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
