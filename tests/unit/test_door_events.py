"""Which event the scanner opens on: the one on now, else the next to start today (London dates), else none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.checkin.door import DoorEvent, default_event, is_today, today_event


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(name: str, starts: str, hours: float = 2) -> DoorEvent:
    start = at(starts)
    return DoorEvent(name, name.title(), start, start + timedelta(hours=hours))


SUMMIT = DoorEvent("summit", "The summit", at("2027-10-14T08:30"), at("2027-10-15T16:00"))
FRINGE = event("fringe-10-dec", "2026-12-10T18:00")


def test_nothing_today_means_the_steward_chooses_not_the_next_event():
    # 1 December: the fringe event is on the 10th and the summit next October. The old default picked the
    # fringe event; now nothing is chosen and the page asks.
    assert today_event([FRINGE, SUMMIT], now=at("2026-12-01T09:00")) is None


def test_the_event_on_now_is_chosen():
    morning = event("morning", "2026-12-01T09:00", hours=3)
    evening = event("evening", "2026-12-01T18:00")
    assert today_event([morning, evening, FRINGE], now=at("2026-12-01T10:00")) == "morning"


def test_else_the_next_to_start_today():
    finished = event("breakfast", "2026-12-01T07:00", hours=1)
    later = event("lunch", "2026-12-01T12:00")
    latest = event("evening", "2026-12-01T18:00")
    assert today_event([finished, latest, later], now=at("2026-12-01T10:00")) == "lunch"
    # All of today's are over: nothing is on or to come, so the steward chooses.
    assert today_event([finished], now=at("2026-12-01T10:00")) is None


def test_two_on_at_once_the_latest_to_start_is_the_one_at_this_door():
    summit_day = DoorEvent("summit", "The summit", at("2026-12-01T08:00"), at("2026-12-01T17:00"))
    workshop = event("workshop", "2026-12-01T13:00")
    assert today_event([summit_day, workshop], now=at("2026-12-01T13:30")) == "workshop"
    assert today_event([summit_day, workshop], now=at("2026-12-01T10:00")) == "summit"


def test_a_summit_over_two_days_is_today_on_its_second_day():
    assert is_today(SUMMIT, now=at("2027-10-15T07:00"))
    assert today_event([SUMMIT], now=at("2027-10-15T07:00")) == "summit"


def test_today_is_the_london_date_not_the_utc_one():
    # 23:00 UTC on 10 June is midnight in London (BST): a 23:30 UTC start is on the 11th there.
    late = event("late", "2026-06-10T23:30")
    assert not is_today(late, now=at("2026-06-10T22:00"))
    assert today_event([late], now=at("2026-06-10T22:00")) is None
    assert is_today(late, now=at("2026-06-10T23:10"))  # 00:10 on the 11th in London
    assert today_event([late], now=at("2026-06-10T23:10")) == "late"


def test_the_organisers_overview_still_falls_back_to_the_next_event():
    assert default_event([FRINGE, SUMMIT], now=at("2026-12-01T09:00")) == "fringe-10-dec"
    assert default_event([FRINGE, SUMMIT], now=at("2028-01-01T09:00")) == "summit"
