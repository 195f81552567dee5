"""The pure .ics builder, read back with two independent parsers: zones either side of the end of BST,
stable UIDs and rising SEQUENCEs, cancellation, methods and the properties every entry carries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.calendar import CalendarEvent, build_calendar, fringe_uid, summit_uid
from tests.support.calendar_check import end_of_bst, parse_both


def entry(uid: str, starts_at: datetime, hours: float = 2, **extra) -> CalendarEvent:
    values = dict(
        uid=uid,
        title="Social marketing: changing behaviour",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        location="Endeavour House, 8 Russell Road, Ipswich IP1 2BX",
        description="A fringe event.",
        url="https://newhorizons.example.org/",
        organizer_email="org@example.org",
        organizer_name="New Horizons organisers",
    )
    values.update(extra)
    return CalendarEvent(**values)


@pytest.mark.parametrize("year", [2009, 2026, 2027])
def test_events_either_side_of_the_end_of_bst_keep_their_instants_and_wall_clock(year):
    change = end_of_bst(year)
    # 10am London the Friday before the clocks go back is 9am UTC; 10am the Tuesday after is 10am UTC.
    before = datetime(change.year, change.month, change.day - 2, 9, 0, tzinfo=UTC)
    after = datetime(change.year, change.month, change.day, 10, 0, tzinfo=UTC) + timedelta(days=2)
    body = build_calendar([entry(fringe_uid(1), before), entry(fringe_uid(2), after)])

    parsed = parse_both(body).by_uid()

    assert b"BEGIN:VTIMEZONE" in body and b"TZID:Europe/London" in body
    first, second = parsed[fringe_uid(1)], parsed[fringe_uid(2)]
    assert first.starts_utc == before and first.ends_utc == before + timedelta(hours=2)
    assert second.starts_utc == after and second.ends_utc == after + timedelta(hours=2)
    assert first.local_start == datetime(change.year, change.month, change.day - 2, 10, 0)  # BST, UTC+1
    assert second.local_start == datetime(after.year, after.month, after.day, 10, 0)  # GMT, UTC+0
    assert b"DTSTART;TZID=Europe/London:" in body


def test_an_event_across_the_night_the_clocks_go_back_lasts_the_real_time():
    change = end_of_bst(2026)
    starts = datetime(change.year, change.month, change.day - 1, 22, 0, tzinfo=UTC)  # 11pm BST Saturday
    parsed = parse_both(build_calendar([entry("overnight@x", starts, hours=5)])).entries[0]
    assert parsed.starts_utc == starts and parsed.ends_utc == starts + timedelta(hours=5)
    assert parsed.local_start.hour == 23


def test_uid_is_stable_and_sequence_is_what_the_event_says():
    starts = datetime(2026, 10, 6, 13, 0, tzinfo=UTC)
    first = parse_both(build_calendar([entry(fringe_uid(7), starts, sequence=0)])).entries[0]
    moved = parse_both(build_calendar([entry(fringe_uid(7), starts + timedelta(days=2), sequence=1)])).entries[0]
    assert first.uid == moved.uid == "fringe-7@newhorizons.suffolk"
    assert moved.sequence == first.sequence + 1
    assert summit_uid() == "summit@newhorizons.suffolk"


def test_a_cancelled_event_says_so():
    starts = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    parsed = parse_both(build_calendar([entry("a@x", starts, cancelled=True, sequence=3)], method="CANCEL"))
    assert parsed.method == "CANCEL"
    assert parsed.entries[0].status == "CANCELLED" and parsed.entries[0].sequence == 3


@pytest.mark.parametrize("method", ["PUBLISH", "REQUEST"])
def test_method_and_every_property_an_entry_needs(method):
    starts = datetime(2026, 10, 14, 8, 30, tzinfo=UTC)
    stamp = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    body = build_calendar(
        [entry(summit_uid(), starts, attendee_email="ada@example.org", attendee_name="Ada Lovelace")],
        method=method,
        now=stamp,
    )
    parsed = parse_both(body)
    one = parsed.entries[0]
    assert parsed.method == method
    assert one.location == "Endeavour House, 8 Russell Road, Ipswich IP1 2BX"
    assert one.description == "A fringe event." and one.url == "https://newhorizons.example.org/"
    assert one.organizer == "mailto:org@example.org" and one.dtstamp == stamp
    assert one.attendees == ("mailto:ada@example.org",)
    assert one.status == "CONFIRMED"


def test_an_empty_calendar_is_still_a_valid_file():
    parsed = parse_both(build_calendar([], name="New Horizons"))
    assert parsed.method == "PUBLISH" and parsed.entries == []


def test_an_unknown_method_is_refused():
    with pytest.raises(ValueError):
        build_calendar([], method="REFRESH")
