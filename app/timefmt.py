"""Dates and times as people in the UK read them, always in Europe/London (invariant 5)."""

from __future__ import annotations

from datetime import UTC, datetime
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


def day(value: datetime) -> str:
    """Wednesday 14 October."""
    value = local(value)
    return f"{value:%A} {value.day} {value:%B}"


def day_year(value: datetime) -> str:
    value = local(value)
    return f"{value:%A} {value.day} {value:%B} {value.year}"


def when(value: datetime) -> str:
    """Wednesday 14 October, 9:30am."""
    return f"{day(value)}, {clock(value)}"


def span(start: datetime, end: datetime) -> str:
    """Wednesday 14 October, 9:30am–4:30pm (or across days when it spans them)."""
    if local(start).date() == local(end).date():
        return f"{day(start)}, {clock(start)}–{clock(end)}"
    return f"{when(start)} – {when(end)}"


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
