"""Pure calendar builders: events in, .ics bytes out (RFC 5545, Europe/London with its VTIMEZONE)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

LONDON = ZoneInfo("Europe/London")
PRODID = "-//Suffolk partners//Summit registration//EN"
UID_DOMAIN = "newhorizons.suffolk"


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable across edits, e.g. "summit@newhorizons.suffolk"
    title: str
    starts_at: datetime  # aware (UTC in the database)
    ends_at: datetime
    location: str
    description: str = ""
    url: str = ""
    sequence: int = 0
    cancelled: bool = False
    organizer_email: str = ""
    organizer_name: str = ""
    attendee_email: str = ""  # for emailed REQUEST/CANCEL files: iTIP names who the entry is for
    attendee_name: str = ""


def summit_uid() -> str:
    return f"summit@{UID_DOMAIN}"


def fringe_uid(event_id: int) -> str:
    return f"fringe-{event_id}@{UID_DOMAIN}"


def build_calendar(
    events: list[CalendarEvent], *, method: str = "PUBLISH", name: str = "", now: datetime | None = None
) -> bytes:
    """A VCALENDAR with each event in London time and the VTIMEZONE that defines it.

    PUBLISH is for downloads and feeds; REQUEST is for email attachments, so that a calendar client
    updates the entry it already has (same UID, higher SEQUENCE) instead of adding a second one."""
    if method not in ("PUBLISH", "REQUEST", "CANCEL"):
        raise ValueError(f"unsupported METHOD {method!r}")
    stamp = (now or datetime.now(UTC)).astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("name", name)
    for item in events:
        calendar.add_component(_event(item, stamp))
    if events:
        # Only the transitions around these events: a VTIMEZONE from 1970 is kilobytes of RDATEs.
        first = min(e.starts_at for e in events).astimezone(LONDON).date()
        last = max(e.ends_at for e in events).astimezone(LONDON).date()
        calendar.add_missing_timezones(
            first_date=first.replace(year=first.year - 1), last_date=last.replace(year=last.year + 1)
        )
    return calendar.to_ical()


def _event(item: CalendarEvent, stamp: datetime) -> Event:
    event = Event()
    event.add("uid", item.uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", item.starts_at.astimezone(LONDON))
    event.add("dtend", item.ends_at.astimezone(LONDON))
    event.add("summary", item.title)
    event.add("sequence", item.sequence)
    event.add("location", vText(item.location))
    if item.description:
        event.add("description", item.description)
    if item.url:
        event.add("url", item.url)
    if item.organizer_email:
        organizer = vCalAddress(f"mailto:{item.organizer_email}")
        if item.organizer_name:
            organizer.params["cn"] = vText(item.organizer_name)
        event.add("organizer", organizer)
    if item.attendee_email:
        # RSVP=FALSE: we read no replies, so clients should not offer Accept/Decline buttons.
        attendee = vCalAddress(f"mailto:{item.attendee_email}")
        attendee.params.update({"role": "REQ-PARTICIPANT", "partstat": "ACCEPTED", "rsvp": "FALSE"})
        if item.attendee_name:
            attendee.params["cn"] = vText(item.attendee_name)
        event.add("attendee", attendee)
    event.add("status", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event
