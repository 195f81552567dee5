"""Telling people about fringe events: one person, or everyone signed up, with the calendar entry attached."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from app.core.calendar import build_calendar
from app.core.db import db, utcnow
from app.core.mail import outbox
from app.core.mail.compose import attachment_builder, built_attachment
from app.core.mail.models import OutboxMessage
from app.core.mail.outbox import enqueue
from app.core.summit import settings as summit_settings
from app.core.urls import external_url
from fringe_events.calendars import event_url, fringe_calendar_event, place_of, public_page_url
from fringe_events.models import FringeEvent, signed_up_query
from invitations.links import calendar_token_for, personal_url
from invitations.models import Invitation


def tell_one(
    invitation: Invitation,
    event: FringeEvent,
    kind: str,
    subject: str,
    *,
    method: str,
    changes: list[list[str]] | None = None,
    reason: str = "",
    cancelled: bool | None = None,
    not_before: datetime | None = None,
) -> None:
    link = event_url(invitation, event)
    enqueue(
        kind,
        to_email=invitation.email,
        to_name=invitation.name,
        invitation_id=invitation.id,
        subject=subject,
        context={
            "invitation": invitation,
            "event": event,
            "summit": summit_settings.find_summit(),
            "link": personal_url(invitation),
            "event_link": link,
            "place": place_of(event),
            "changes": changes or [],
            "reason": reason,
            # For a backend that carries no files (GOV.UK Notify): the event's public calendar file and the
            # person's own calendar feed, given as links instead.
            "calendar_link": external_url("calendar.fringe_event", slug=event.slug),
            "calendar_feed_link": external_url("calendar.feed", feed_token=calendar_token_for(invitation)),
        },
        attachments=[
            built_attachment(
                f"{event.slug}.ics",
                f"text/calendar; method={method}",
                "fringe_ics",
                event=event,
                attendee=invitation,
                cancelled=cancelled,
                method=method,
            )
        ],
        not_before=not_before,
    )


# What a person's own sign-ups and cancellations send them.
OWN_CHANGE_KINDS = ("fringe_signed_up", "fringe_signup_cancelled")


def _event_id_of(message: OutboxMessage) -> int | None:
    event = (message.params or {}).get("event")
    return event.get("id") if isinstance(event, dict) else None


def tell_own_change(
    invitation: Invitation,
    event: FringeEvent,
    kind: str,
    subject: str,
    *,
    method: str,
    cancelled: bool | None = None,
    now: datetime | None = None,
) -> None:
    """A person's own sign-up or cancellation, told to them, limited so one link can't flood their inbox: no
    more than OWN_ACTION_EMAILS_PER_HOUR about one event and FRINGE_EMAILS_PER_HOUR about all of them go in
    an hour. One past the limit waits until the hour allows, and a change that undoes a waiting one (a
    cancellation after a held sign-up, or the reverse) takes it back instead: their calendar already holds
    what the last email sent said."""
    now = now or utcnow()
    recent = outbox.recent_for(invitation.id, OWN_CHANGE_KINDS, now)
    about_event = [message for message in recent if _event_id_of(message) == event.id]
    for held in (m for m in about_event if outbox.is_unwritten(m) and m.next_attempt_at > now):
        if held.kind == kind or outbox.withdraw(held):
            return
    config = current_app.config
    not_before = max(
        outbox.send_time(about_event, config["OWN_ACTION_EMAILS_PER_HOUR"], now),
        outbox.send_time(recent, config["FRINGE_EMAILS_PER_HOUR"], now),
    )
    tell_one(invitation, event, kind, subject, method=method, cancelled=cancelled, not_before=not_before)


@attachment_builder("fringe_ics")
def fringe_ics(
    event: FringeEvent, attendee: Invitation, cancelled: bool | None, method: str, url: str | None = None
) -> bytes:
    """One fringe event's calendar entry for one person, built by the worker when it writes the message. Its URL
    is the public page: a message queued before carries its personal link as `url`, which is not used."""
    return build_calendar(
        [fringe_calendar_event(event, url=public_page_url(), attendee=attendee, cancelled=cancelled)], method=method
    )


def tell_signed_up(
    event: FringeEvent, kind: str, subject: str, changes: list[list[str]], *, method: str, reason: str = ""
) -> int:
    """Email everyone signed up (with a live invitation) the updated entry. Returns how many."""
    people = db.session.scalars(signed_up_query(event.id).order_by(Invitation.id)).all()
    for invitation in people:
        tell_one(invitation, event, kind, subject, method=method, changes=changes, reason=reason)
    return len(people)
