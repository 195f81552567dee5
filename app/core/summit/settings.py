"""The summit's settings: the one row, its defaults, who signs its emails, its calendar entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, text

from app.core.calendar import CalendarEvent, summit_uid
from app.core.db import db
from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.errors import SummitNotSetUp, ValidationFailed
from app.core.summit.models import Summit

LONDON = ZoneInfo("Europe/London")


def get_summit() -> Summit:
    summit = db.session.scalars(select(Summit).order_by(Summit.id).limit(1)).first()
    if summit is None:
        raise SummitNotSetUp(
            "The summit has not been set up yet. An organiser sets it up in the browser (the first page after "
            "signing in), or with `flask --app wsgi summit configure`."
        )
    return summit


def find_summit() -> Summit | None:
    return db.session.scalars(select(Summit).order_by(Summit.id).limit(1)).first()


def summit_name() -> str:
    """The summit's name as organisers set it (for subjects and titles), or the default before it is set up."""
    summit = find_summit()
    return summit.name if summit else DEFAULT_NAME


def default_summit_times(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The next 14 October, 9:30am to 4:30pm London time."""
    now = now or datetime.now(UTC)
    year = now.astimezone(LONDON).year
    day = datetime(year, 10, 14, 9, 30, tzinfo=LONDON)
    if day.astimezone(UTC) <= now:
        day = day.replace(year=year + 1)
    return day.astimezone(UTC), day.replace(hour=16, minute=30).astimezone(UTC)


DEFAULT_NAME = "The Lives we Lead: New Horizons"
DEFAULT_VENUE = "Adastral Park"
DEFAULT_ADDRESS = "Adastral Park, Martlesham Heath, Ipswich IP5 3RE"
DEFAULT_TAGLINE = (
    "An innovation summit for the people across Suffolk's public, private and voluntary sectors "
    "most likely to generate innovation. Together we will shape a Suffolk-wide innovation strategy."
)


def configure_summit(
    *,
    name: str | None = None,
    venue: str | None = None,
    address: str | None = None,
    tagline: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    registration_opens_at: datetime | None = None,
    registration_closes_at: datetime | None = None,
    capacity: int | None = None,
    target: int | None = None,
    offer_hold_hours: int | None = None,
    signatory_name: str | None = None,
    signatory_role: str | None = None,
    sender_email: str | None = None,
    leaders_may_nudge_unsent: bool | None = None,
    clear_opens: bool = False,
    clear_closes: bool = False,
) -> Summit:
    """Create the summit's row, or lock and update it, checking each setting given (None leaves it as it is).

    Only the row: places a raised capacity frees are offered to the waiting list, and a moved time or place
    told to the people coming, by `invitations.summit_changes.change_summit`, which callers go through."""
    summit = find_summit()
    if summit is None:
        lock_for_creation()
        summit = find_summit()
    if summit is None:
        default_start, default_end = default_summit_times()
        summit = Summit(
            name=DEFAULT_NAME,
            venue=DEFAULT_VENUE,
            address=DEFAULT_ADDRESS,
            tagline=DEFAULT_TAGLINE,
            starts_at=default_start,
            ends_at=default_end,
            capacity=350,
            target=300,
            places_taken=0,
            offer_hold_hours=48,
        )
        db.session.add(summit)
        db.session.flush()
    else:
        # Lock the row so a concurrent registration cannot slip between the check and the write.
        summit = db.session.scalars(select(Summit).where(Summit.id == summit.id).with_for_update()).one()
        db.session.refresh(summit)

    for field, value in (("name", name), ("venue", venue), ("address", address), ("tagline", tagline)):
        if value is not None:
            if field != "tagline" and not value.strip():
                raise ValidationFailed(f"The summit's {field} cannot be empty.", field=field)
            setattr(summit, field, value.strip())
    for field, value in (("signatory_name", signatory_name), ("signatory_role", signatory_role)):
        if value is not None:
            setattr(summit, field, value.strip())
    if sender_email is not None:
        summit.sender_email = _sender_address(sender_email)
    if leaders_may_nudge_unsent is not None:
        summit.leaders_may_nudge_unsent = leaders_may_nudge_unsent
    if starts_at is not None:
        summit.starts_at = starts_at
    if ends_at is not None:
        summit.ends_at = ends_at
    if summit.ends_at <= summit.starts_at:
        raise ValidationFailed("The summit must end after it starts.", field="ends_at")
    if registration_opens_at is not None or clear_opens:
        summit.registration_opens_at = registration_opens_at
    if registration_closes_at is not None or clear_closes:
        summit.registration_closes_at = registration_closes_at
    if (
        summit.registration_opens_at
        and summit.registration_closes_at
        and summit.registration_closes_at <= summit.registration_opens_at
    ):
        raise ValidationFailed("Registration must close after it opens.", field="registration_closes_at")
    if offer_hold_hours is not None:
        if offer_hold_hours < 1 or offer_hold_hours > 24 * 14:
            raise ValidationFailed(
                "The offer hold time must be between 1 hour and 14 days (336 hours).", field="offer_hold_hours"
            )
        summit.offer_hold_hours = offer_hold_hours
    if target is not None:
        if target < 0:
            raise ValidationFailed("The target cannot be negative.", field="target")
        summit.target = target
    if capacity is not None:
        if capacity < 0:
            raise ValidationFailed("The capacity cannot be negative.", field="capacity")
        if capacity < summit.places_taken:
            raise ValidationFailed(
                f"The capacity cannot go below the {summit.places_taken} places already taken "
                "(registrations plus open waiting-list offers).",
                field="capacity",
            )
        summit.capacity = capacity
    db.session.flush()
    return summit


def lock_for_creation() -> None:
    """Two organisers setting the summit up at once make one summit, not two: the second waits here, then finds
    the first one's row. (On SQLite a writing transaction already holds the database's one write lock.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATION_LOCK})


_CREATION_LOCK = 0x53554D4D  # "SUMM": any constant of our own, the same in every process


def _sender_address(value: str) -> str:
    if not value.strip():
        return ""
    try:
        return normalise_address(value)
    except InvalidAddress:
        raise ValidationFailed(
            "Enter the address emails are sent from, like events@suffolk.gov.uk, or leave it blank for the default.",
            field="sender_email",
        ) from None


def mail_sender(summit: Summit | None = None) -> tuple[str, str]:
    """(address, name) every email comes from and every calendar entry names as its ORGANIZER: the summit's
    sender and signatory when an organiser has set them, else the MAIL_FROM and MAIL_FROM_NAME settings (and
    with no MAIL_FROM_NAME, the summit's name)."""
    summit = summit if summit is not None else find_summit()
    config = current_app.config
    address = (summit.sender_email if summit else "") or config["MAIL_FROM"]
    name = (
        (summit.signatory_name if summit else "")
        or config["MAIL_FROM_NAME"]
        or (summit.name if summit else DEFAULT_NAME)
    )
    return address, name


def signature_lines(summit: Summit | None) -> list[str]:
    """How emails are signed: the signatory's name and role; else the MAIL_FROM_NAME setting; else "The
    organisers of" the summit, by its current name."""
    if summit is not None and summit.signatory_name:
        return [line for line in (summit.signatory_name, summit.signatory_role) if line]
    return [current_app.config["MAIL_FROM_NAME"] or f"The organisers of {summit.name if summit else DEFAULT_NAME}"]


def hold_until(summit: Summit, now: datetime) -> datetime:
    return now + timedelta(hours=summit.offer_hold_hours)


def summit_calendar_event(summit: Summit, url: str = ""):
    """The summit as a calendar entry: one stable UID, SEQUENCE rising with every change of time or place."""
    organizer_email, organizer_name = mail_sender(summit)
    return CalendarEvent(
        uid=summit_uid(),
        title=summit.name,
        starts_at=summit.starts_at,
        ends_at=summit.ends_at,
        location=f"{summit.venue}, {summit.address}" if summit.venue not in summit.address else summit.address,
        description=summit.tagline,
        url=url,
        sequence=summit.ics_sequence,
        organizer_email=organizer_email,
        organizer_name=organizer_name,
    )
