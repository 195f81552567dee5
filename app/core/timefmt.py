"""Dates and times as people in the UK read them, always in Europe/London (invariant 5)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


def local(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LONDON)


def clock(value: datetime) -> str:
    """9:30am, 12 noon, 4pm."""
    value = local(value)
    if value.hour == 12 and value.minute == 0:
        return "12 noon"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def this_year(value: date, now: datetime | None = None) -> bool:
    """Whether a day (a date, or a time's day in London) falls in the current year there."""
    shown = local(value) if isinstance(value, datetime) else value
    return shown.year == local(now or datetime.now(UTC)).year


def day(value: datetime, now: datetime | None = None) -> str:
    """Wednesday 14 October, with the year whenever it isn't this one: Wednesday 14 October 2027."""
    if not this_year(value, now):
        return day_year(value)
    value = local(value)
    return f"{value:%A} {value.day} {value:%B}"


def short_day(value: date, now: datetime | None = None) -> str:
    """Mon 3 Nov (Mon 3 Nov 2025 in another year): a day (a date, or a time's London date) in a table or on a
    chart's axis."""
    shown = local(value) if isinstance(value, datetime) else value
    year = "" if this_year(shown, now) else f" {shown.year}"
    return f"{shown:%a} {shown.day} {shown:%b}{year}"


def day_year(value: datetime) -> str:
    value = local(value)
    return f"{value:%A} {value.day} {value:%B} {value.year}"


def when(value: datetime, now: datetime | None = None) -> str:
    """Wednesday 14 October, 9:30am (and the year, when it isn't this one)."""
    return f"{day(value, now)}, {clock(value)}"


def span(start: datetime, end: datetime, now: datetime | None = None) -> str:
    """Wednesday 14 October, 9:30am–4:30pm (or across days when it spans them), each day with its year
    whenever that isn't this one."""
    if local(start).date() == local(end).date():
        return f"{day(start, now)}, {clock(start)}–{clock(end)}"
    return f"{when(start, now)} – {when(end, now)}"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    days = (local(now).date() - local(value).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    return f"{days} days ago"


def parse_local(text: str) -> datetime:
    """'2026-10-14T09:30' or '2026-10-14 09:30' as London time, returned in UTC."""
    text = text.strip().replace(" ", "T")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed.astimezone(UTC)


def input_value(value: datetime | None) -> str:
    """The value for an <input type=datetime-local>, in London time."""
    return "" if value is None else local(value).strftime("%Y-%m-%dT%H:%M")


FILTERS = {"clock": clock, "day": day, "day_year": day_year, "when": when, "ago": ago, "local": local}
