"""Factories and helpers for the fringe tests: events, sign-ups, and reading what the outbox holds."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import select

from app.core.db import db, utcnow
from app.core.mail.models import OutboxMessage
from app.core.timefmt import input_value
from fringe_events import programme, signups
from fringe_events.models import FringeEvent
from invitations import links
from invitations.models import Invitation
from tests.support.mail_helpers import delivered_attachment

_counter = itertools.count(1)


TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ5ZDk0%40thread.v2/0?context=%7b%22Tid%22%7d"


def event_form(**changes) -> dict:
    """The organisers' new-event form for an online event in ten days, with `changes`."""
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(days=10)
    data = {
        "title": "Digital inclusion online",
        "theme": "Digital inclusion",
        "description": "An hour on what works.",
        "host_organisation": "Suffolk County Council",
        "host_lead": "Julian Herbert",
        "venue": "Online (Microsoft Teams)",
        "address": "",
        "joining_link": TEAMS,
        "starts_at": input_value(starts),
        "ends_at": input_value(starts + timedelta(hours=1)),
        "capacity": "40",
    }
    return {**data, **changes}


def event(
    title: str | None = None,
    *,
    starts_at: datetime | None = None,
    hours: float = 2,
    capacity: int | None = None,
    venue: str = "Endeavour House",
    address: str = "8 Russell Road, Ipswich IP1 2BX",
) -> FringeEvent:
    starts_at = starts_at or utcnow().replace(microsecond=0, second=0) + timedelta(days=10)
    created = programme.create_event(
        programme.EventData(
            title=title or f"Fringe event {next(_counter)}",
            venue=venue,
            address=address,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            capacity=capacity,
            description="What we'll do, and why it matters.",
            theme="Social marketing enquiry",
            host_organisation="Suffolk PCT",
            host_lead="Julian Herbert",
        )
    )
    db.session.commit()
    return created


def signed_up(invitation: Invitation, fringe_event: FringeEvent) -> None:
    signups.sign_up(invitation, fringe_event)
    db.session.commit()


def link(invitation: Invitation, page: str = "") -> str:
    return f"/i/{links.token_for(invitation)}" + (f"/{page}" if page else "")


def messages(kind: str, to_email: str | None = None) -> list[OutboxMessage]:
    db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.kind == kind)
    if to_email:
        query = query.where(OutboxMessage.to_email == to_email)
    return list(db.session.scalars(query.order_by(OutboxMessage.id)))


def ics_of(message: OutboxMessage) -> tuple[bytes, str]:
    """The message's one calendar attachment, as delivered, and its content type."""
    return delivered_attachment(message, ".ics")
