"""Read a .ics file back with two independent parsers (icalendar, and vobject with dateutil) and insist they agree.

vobject turns the file's own VTIMEZONE into a tzinfo (dateutil's tzical), so the UTC instants checked here come
from the zone definition the file carries, not from the machine's zone database: a wrong VTIMEZONE fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import icalendar
import vobject


@dataclass(frozen=True)
class Entry:
    uid: str
    sequence: int
    status: str
    summary: str
    starts_utc: datetime
    ends_utc: datetime
    local_start: datetime  # the wall-clock time written in the file (naive)
    tzid: str
    location: str
    description: str
    url: str
    organizer: str
    dtstamp: datetime
    attendees: tuple[str, ...]


@dataclass(frozen=True)
class Parsed:
    method: str
    entries: list[Entry]
    tzids: list[str]

    def by_uid(self) -> dict[str, Entry]:
        return {e.uid: e for e in self.entries}


def _from_icalendar(data: bytes) -> Parsed:
    calendar = icalendar.Calendar.from_ical(data)
    entries = []
    for event in calendar.walk("VEVENT"):
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        organizer = event.get("organizer")
        attendees = event.get("attendee", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        entries.append(
            Entry(
                uid=str(event["uid"]),
                sequence=int(event.get("sequence", 0)),
                status=str(event.get("status", "")),
                summary=str(event["summary"]),
                starts_utc=start.astimezone(UTC),
                ends_utc=end.astimezone(UTC),
                local_start=start.replace(tzinfo=None),
                tzid=str(event["dtstart"].params.get("TZID", "")),
                location=str(event.get("location", "")),
                description=str(event.get("description", "")),
                url=str(event.get("url", "")),
                organizer=str(organizer) if organizer else "",
                dtstamp=event.decoded("dtstamp"),
                attendees=tuple(str(a) for a in attendees),
            )
        )
    tzids = [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")]
    return Parsed(method=str(calendar.get("method", "")), entries=entries, tzids=tzids)


def _from_vobject(data: bytes) -> Parsed:
    calendar = vobject.readOne(data.decode("utf-8"))
    zones = {tz.tzid.value: tz.gettzinfo() for tz in calendar.contents.get("vtimezone", [])}
    entries = []
    for event in calendar.contents.get("vevent", []):

        def instant(prop):
            tzid = prop.params.get("X-VOBJ-ORIGINAL-TZID", prop.params.get("TZID", [""]))[0]
            wall = prop.value.replace(tzinfo=None)
            # Interpret the wall-clock time with the VTIMEZONE from this very file.
            return wall.replace(tzinfo=zones[tzid]).astimezone(UTC), wall, tzid

        start, wall, tzid = instant(event.dtstart)
        end, _, _ = instant(event.dtend)

        def text(name):
            return event.contents[name][0].value if name in event.contents else ""

        entries.append(
            Entry(
                uid=text("uid"),
                sequence=int(text("sequence") or 0),
                status=text("status"),
                summary=text("summary"),
                starts_utc=start,
                ends_utc=end,
                local_start=wall,
                tzid=tzid,
                location=text("location"),
                description=text("description"),
                url=text("url"),
                organizer=text("organizer"),
                dtstamp=event.dtstamp.value.astimezone(UTC),
                attendees=tuple(a.value for a in event.contents.get("attendee", [])),
            )
        )
    method = calendar.method.value if "method" in calendar.contents else ""
    return Parsed(method=method, entries=entries, tzids=list(zones))


def parse_both(data: bytes) -> Parsed:
    """Parse with both libraries, assert they read the same thing, and check what every entry must carry."""
    one, two = _from_icalendar(data), _from_vobject(data)
    assert one.method == two.method, (one.method, two.method)
    assert [e.uid for e in one.entries] == [e.uid for e in two.entries]
    for a, b in zip(one.entries, two.entries):
        for name in (
            "uid",
            "sequence",
            "status",
            "summary",
            "starts_utc",
            "ends_utc",
            "local_start",
            "tzid",
            "location",
            "description",
            "url",
            "organizer",
            "attendees",
        ):
            assert getattr(a, name) == getattr(b, name), (name, getattr(a, name), getattr(b, name))
        assert abs((a.dtstamp - b.dtstamp).total_seconds()) < 1
    if one.entries:
        assert one.tzids == ["Europe/London"] == two.tzids, "the file must define the zone its times use"
    for entry in one.entries:
        assert entry.tzid == "Europe/London"
        assert entry.uid and entry.summary and entry.location and entry.description and entry.url
        assert entry.organizer.lower().startswith("mailto:")
        assert entry.status in ("CONFIRMED", "CANCELLED")
        assert entry.dtstamp.tzinfo is not None
    return one


def end_of_bst(year: int) -> date:
    """The last Sunday of October."""
    day = date(year, 10, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)
