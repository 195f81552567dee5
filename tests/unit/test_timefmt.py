"""Dates as people read them: the year shows whenever it isn't this one (a programme from December to October)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.core.timefmt import LONDON, day, short_day, span, this_year, when

# Early December: the fringe programme runs from next week to next October.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON).astimezone(UTC)


def test_a_date_this_year_has_no_year():
    assert day(london(2026, 12, 9, 14, 0), now=NOW) == "Wednesday 9 December"
    assert when(london(2026, 12, 9, 14, 0), now=NOW) == "Wednesday 9 December, 2pm"
    assert short_day(date(2026, 12, 9), now=NOW) == "Wed 9 Dec"


def test_a_date_next_year_says_which_year():
    assert day(london(2027, 1, 13, 10, 0), now=NOW) == "Wednesday 13 January 2027"
    assert when(london(2027, 10, 14, 9, 30), now=NOW) == "Thursday 14 October 2027, 9:30am"
    assert short_day(date(2027, 1, 13), now=NOW) == "Wed 13 Jan 2027"


def test_a_date_last_year_says_which_year_too():
    assert day(london(2025, 11, 3, 9, 0), now=NOW) == "Monday 3 November 2025"
    assert short_day(london(2025, 11, 3, 9, 0), now=NOW) == "Mon 3 Nov 2025"


def test_a_span_gives_each_day_its_year_when_it_needs_one():
    assert span(london(2027, 10, 14, 9, 30), london(2027, 10, 14, 16, 30), now=NOW) == (
        "Thursday 14 October 2027, 9:30am–4:30pm"
    )
    assert span(london(2026, 12, 31, 18, 0), london(2027, 1, 1, 1, 0), now=NOW) == (
        "Thursday 31 December, 6pm – Friday 1 January 2027, 1am"
    )
    assert span(london(2026, 12, 9, 14, 0), london(2026, 12, 9, 16, 0), now=NOW) == "Wednesday 9 December, 2pm–4pm"


def test_the_day_is_london_s():
    # 11:30pm UTC on 30 June is half past midnight on 1 July in London (summer time).
    assert day(datetime(2027, 6, 30, 23, 30, tzinfo=UTC), now=NOW) == "Thursday 1 July 2027"
    assert this_year(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), now=NOW)
    assert not this_year(datetime(2027, 1, 1, 0, 0, tzinfo=UTC), now=NOW)


def test_without_a_now_the_current_year_is_today_s():
    today = datetime.now(UTC)
    assert str(today.astimezone(LONDON).year) not in day(today)
    assert day(today.replace(year=today.year + 1, month=6, day=1)).endswith(str(today.year + 1))
