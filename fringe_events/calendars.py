"""Fringe events as calendar entries: public and personal .ics files, and Google / Outlook.com add links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import select

from app.core.calendar import CalendarEvent, build_calendar, fringe_uid
from app.core.db import db
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from app.core.timefmt import span
from app.core.urls import external_url
from fringe_events.models import FringeEvent, FringeSignup, FringeStatus, SignupState
from invitations.links import token_for
from invitations.models import Invitation, InvitationState


def place_text(venue: str, address: str) -> str:
    if address and venue and venue not in address:
        return f"{venue}, {address}"
    return address or venue


def place_of(event) -> str:
    """'Venue, address' without saying the venue twice."""
    return place_text(event.venue, event.address)


def event_url(invitation: Invitation, event: FringeEvent) -> str:
    return external_url("fringe.event", token=token_for(invitation), slug=event.slug)


def public_page_url() -> str:
    """What a calendar entry's URL points to: the public summit page, never a personal link. A calendar file
    travels (to the calendar provider's servers, to everyone a calendar is shared with), so it must carry no
    way into the person's pages."""
    return external_url("main.index")


_UNREAD = object()  # the summit not passed in: read it


def _description(event: FringeEvent, summit) -> str:
    parts = [event.description.strip()] if event.description.strip() else []
    host = ", ".join(p for p in (event.host_lead, event.host_organisation) if p)
    if host:
        parts.append(f"Hosted by {host}.")
    parts.append(f"A fringe event of {summit.name if summit else 'the summit'}, Suffolk's innovation summit.")
    return "\n\n".join(parts)


def fringe_calendar_event(
    event: FringeEvent,
    *,
    url: str = "",
    attendee: Invitation | None = None,
    cancelled: bool | None = None,
    summit: Summit | object | None = _UNREAD,
) -> CalendarEvent:
    """One fringe event as a calendar entry: stable UID, SEQUENCE rising with every change of time, place or status.
    An online event's joining link is never in it: calendar files are public or forwarded, the link is for those
    signed up (their page and their sign-up email). Pass the `summit` (or None) when it has been read already."""
    if summit is _UNREAD:
        summit = summit_settings.find_summit()
    assert summit is None or isinstance(summit, Summit)
    organizer_email, organizer_name = summit_settings.mail_sender(summit)
    return CalendarEvent(
        uid=fringe_uid(event.id),
        title=event.title,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        location=place_of(event),
        description=_description(event, summit),
        url=url,
        sequence=event.ics_sequence,
        cancelled=event.status == FringeStatus.CANCELLED if cancelled is None else cancelled,
        organizer_email=organizer_email,
        organizer_name=organizer_name,
        attendee_email=attendee.email if attendee else "",
        attendee_name=attendee.name if attendee else "",
    )


def public_summit_calendar() -> bytes:
    summit = summit_settings.get_summit()
    return build_calendar([summit_settings.summit_calendar_event(summit, url=public_page_url())], name=summit.name)


def public_event_calendar(event: FringeEvent) -> bytes:
    return build_calendar([fringe_calendar_event(event, url=public_page_url())], name=event.title)


def _my_signups(invitation_id: int) -> list[FringeSignup]:
    return list(
        db.session.scalars(
            select(FringeSignup)
            .join(FringeEvent)
            .where(FringeSignup.invitation_id == invitation_id, FringeSignup.state == SignupState.CONFIRMED)
            .order_by(FringeEvent.starts_at, FringeEvent.id)
        )
    )


def personal_calendar_events(invitation: Invitation) -> list[CalendarEvent]:
    """The summit once registered, then each confirmed sign-up (a cancelled event stays, as CANCELLED,
    so a subscribed calendar strikes it out rather than silently dropping it)."""
    summit = summit_settings.find_summit()
    return calendar_events_of(invitation, summit, [signup.event for signup in _my_signups(invitation.id)])


def calendar_events_of(
    invitation: Invitation, summit: Summit | None, signed_up_for: list[FringeEvent]
) -> list[CalendarEvent]:
    """The person's calendar from what has been read already: the summit once registered, then the fringe events
    they signed up for, in order of time (no statement of its own)."""
    url = public_page_url()
    events = []
    if summit is not None and invitation.state == InvitationState.REGISTERED:
        events.append(summit_settings.summit_calendar_event(summit, url=url))
    for event in signed_up_for:
        events.append(fringe_calendar_event(event, url=url, summit=summit))
    return events


def personal_calendar(invitation: Invitation) -> bytes:
    summit = summit_settings.find_summit()
    return build_calendar(personal_calendar_events(invitation), method="PUBLISH", name=summit.name if summit else "")


def _utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(item: CalendarEvent) -> str:
    """Google Calendar's 'add event' page, filled in. No personal link goes to Google: description only."""
    return "https://calendar.google.com/calendar/render?" + urlencode(
        {
            "action": "TEMPLATE",
            "text": item.title,
            "dates": f"{_utc_stamp(item.starts_at)}/{_utc_stamp(item.ends_at)}",
            "ctz": "Europe/London",
            "details": item.description,
            "location": item.location,
        }
    )


def outlook_calendar_url(item: CalendarEvent) -> str:
    """Outlook.com's 'new event' page, filled in (times in UTC, which it shows in the viewer's zone)."""
    iso = "%Y-%m-%dT%H:%M:%SZ"
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {
            "path": "/calendar/action/compose",
            "rru": "addevent",
            "subject": item.title,
            "startdt": item.starts_at.astimezone(UTC).strftime(iso),
            "enddt": item.ends_at.astimezone(UTC).strftime(iso),
            "body": item.description,
            "location": item.location,
        }
    )


@dataclass(frozen=True)
class AddLinks:
    title: str
    when: str
    google: str
    outlook: str


def _add_links(item: CalendarEvent) -> AddLinks:
    return AddLinks(
        title=item.title,
        when=span(item.starts_at, item.ends_at),
        google=google_calendar_url(item),
        outlook=outlook_calendar_url(item),
    )


def personal_calendar_links(invitation: Invitation) -> list[AddLinks]:
    """An 'add to Google / Outlook.com' pair for each entry of the person's feed that is going ahead."""
    return add_links_for(personal_calendar_events(invitation))


def add_links_for(entries: list[CalendarEvent]) -> list[AddLinks]:
    """The 'add to Google / Outlook.com' pairs for the entries that are going ahead."""
    return [_add_links(item) for item in entries if not item.cancelled]


def event_add_links(event: FringeEvent) -> AddLinks:
    return _add_links(fringe_calendar_event(event))


def webcal_url(url: str) -> str:
    """The feed's address for subscribing: calendar apps open webcal:// links and keep polling them."""
    return "webcal://" + url.split("://", 1)[1]
