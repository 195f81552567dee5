"""The people domain's email: invitations, confirmations, reminders, and what every message knows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TypedDict

from flask import current_app
from sqlalchemy import select

from app.core import audit
from app.core.calendar import build_calendar
from app.core.db import db, utcnow
from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.mail import outbox
from app.core.mail.compose import attachment_builder, built_attachment, encode
from app.core.mail.models import OutboxMessage
from app.core.mail.outbox import enqueue
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from app.core.urls import external_url
from invitations import audiences, transitions
from invitations.links import calendar_token_for, personal_url, token_for
from invitations.models import LIVE_STATES, Invitation, InvitationState

S = InvitationState


def mail_context(invitation: Invitation, summit: Summit) -> dict:
    return {"invitation": invitation, "summit": summit, "link": personal_url(invitation)}


def tell(
    invitation: Invitation,
    kind: str,
    subject: str,
    summit: Summit,
    *,
    attachments: list[dict] | None = None,
    not_before: datetime | None = None,
    reply_to: str | None = None,
    **extra,
) -> None:
    """Write one email about this person's invitation to the outbox, in the caller's transaction; `extra`
    goes into the template's context beside the person, the summit and the link. `reply_to` is where the
    person's answer goes when it isn't the summit's own address (a leader's nudge)."""
    enqueue(
        kind,
        to_email=invitation.email,
        to_name=invitation.name,
        invitation_id=invitation.id,
        subject=subject,
        context={**mail_context(invitation, summit), **extra},
        attachments=attachments,
        not_before=not_before,
        reply_to=reply_to,
    )


def tell_details_changed(invitation: Invitation, summit: Summit, now: datetime | None = None) -> None:
    """ "Your details have been updated", coalesced: while one is still waiting to be written, it will say the
    details as they are then, so no second is queued; and no more than OWN_ACTION_EMAILS_PER_HOUR go in an
    hour (one more waits until the hour allows). So one link changing the details 200 times sends a few."""
    now = now or utcnow()
    recent = outbox.recent_for(invitation.id, {"details_changed"}, now)
    if any(outbox.is_unwritten(message) for message in recent):
        return
    per_hour = current_app.config["OWN_ACTION_EMAILS_PER_HOUR"]
    tell(
        invitation,
        "details_changed",
        f"Your details for {summit.name} have been updated",
        summit,
        not_before=outbox.send_time(recent, per_hour, now),
    )


@attachment_builder("summit_ics")
def summit_ics(summit: Summit, attendee: Invitation | None = None, url: str | None = None) -> bytes:
    """The summit's calendar entry (method REQUEST), with them as its attendee. Its URL is the public summit
    page, never the person's link (a calendar file travels); a message queued before carries its personal
    link as `url`, which is not used."""
    entry = summit_settings.summit_calendar_event(summit, url=external_url("main.index"))
    if attendee is not None:
        entry = replace(entry, attendee_email=attendee.email, attendee_name=attendee.name)
    return build_calendar([entry], method="REQUEST")


def summit_ics_attachment(summit: Summit, invitation: Invitation, *, attendee: bool = False) -> dict:
    """The summit's calendar entry for this person, built by the worker when it writes the message."""
    return built_attachment(
        "new-horizons.ics",
        "text/calendar; method=REQUEST",
        "summit_ics",
        summit=summit,
        attendee=invitation if attendee else None,
    )


class CalendarLinks(TypedDict):
    calendar_link: str
    calendar_feed_link: str


def calendar_links(invitation: Invitation) -> CalendarLinks:
    """Where a message that can't carry its calendar file (GOV.UK Notify takes no attachments) sends the person
    instead: the summit's public calendar file, and their own calendar feed (its own read-only token)."""
    return {
        "calendar_link": external_url("calendar.summit"),
        "calendar_feed_link": external_url("calendar.feed", feed_token=calendar_token_for(invitation)),
    }


def send_confirmation(invitation: Invitation, summit: Summit) -> None:
    tell(
        invitation,
        "registration_confirmed",
        f"You're registered for {summit.name}",
        summit,
        attachments=[summit_ics_attachment(summit, invitation)],
        **calendar_links(invitation),
    )


def send_invitation(
    invitation: Invitation,
    *,
    actor=None,
    now: datetime | None = None,
    summit: Summit | None = None,
    covering_note: str = "",
) -> None:
    """Queue this person's invitation; `covering_note` (the organisers' markup) goes above it, this once."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live, so it can't be sent."
    transitions.begin(invitation, allowed=LIVE_STATES, refusals={S.REVOKED: no_longer, S.HANDED_ON: no_longer})
    summit = summit or summit_settings.get_summit()
    invitation.sent_at = now
    invitation.last_contact_at = now
    subject, extra = invitation_words(invitation, summit)
    tell(invitation, "invitation", subject, summit, covering_note=covering_note.strip(), **extra)
    audit.record("invitation.sent", actor=actor, invitation_id=invitation.id)


def invitation_words(invitation: Invitation, summit: Summit) -> tuple[str, dict]:
    """An invitation's subject and what its template is told beside the person, the summit and the link."""
    return f"Your invitation to {summit.name}", {
        "decline_link": external_url("invitations.decline", token=token_for(invitation))
    }


def unsent_invitations():
    return audiences.members(audiences.Audience(state=audiences.NOT_SENT))


def send_invitations(
    audience: audiences.Audience, *, actor=None, now: datetime | None = None, covering_note: str = ""
) -> int:
    """Queue an invitation to everyone in the group not yet sent one, with the covering note if there is one
    (checked by app.core.mail.wording.note_problems). Returns how many."""
    now = now or utcnow()
    summit = summit_settings.get_summit()
    group = audiences.members(replace(audience, state=audiences.NOT_SENT))
    transitions.lock_many(db.session.scalars(group.with_only_columns(Invitation.id)))
    invitations = db.session.scalars(group.order_by(Invitation.id)).all()
    for invitation in invitations:
        send_invitation(invitation, actor=actor, now=now, summit=summit, covering_note=covering_note)
    db.session.flush()
    return len(invitations)


def send_all_unsent(*, actor=None, now: datetime | None = None, covering_note: str = "") -> int:
    """Queue an invitation to everyone not yet sent one. Returns how many."""
    return send_invitations(audiences.Audience(), actor=actor, now=now, covering_note=covering_note)


# The group a reminder goes to when the organiser chooses no state: those who haven't answered.
DEFAULT_REMINDER_STATE = "not_answered"


def reminder(invitation: Invitation, summit: Summit) -> tuple[str, dict]:
    """A reminder's subject and what its template is told, for this person as they are now."""
    if invitation.state == S.REGISTERED:
        return f"See you at {summit.name}", {}
    if invitation.state == S.WAITLISTED:
        return f"You're on the waiting list for {summit.name}", {}
    if invitation.state == S.OFFERED:
        return f"A place is held for you at {summit.name}", {}
    return f"A reminder: your invitation to {summit.name}", {"summit_full": summit.places_left == 0}


def send_reminders(audience: audiences.Audience, *, quiet_days: int, actor=None, now: datetime | None = None) -> int:
    """Remind a group, leaving out anyone sent any message in the last `quiet_days` days. Returns how many
    were queued."""
    now = now or utcnow()
    summit = summit_settings.get_summit()
    invitations = db.session.scalars(audiences.due(audience, quiet_days, now)).all()
    group = audiences.describe(audience)
    for invitation in invitations:
        invitation.last_reminded_at = now
        invitation.last_contact_at = now
        subject, extra = reminder(invitation, summit)
        tell(invitation, "reminder", subject, summit, **extra)
        audit.record("invitation.reminded", actor=actor, invitation_id=invitation.id, group=group)
    db.session.flush()
    return len(invitations)


def draft(kind: str, invitation: Invitation) -> OutboxMessage:
    """The invitation or reminder this person would be sent now, for a preview: written like a queued
    message (links concealed) but never added to the outbox."""
    summit = summit_settings.get_summit()
    subject, extra = (invitation_words if kind == "invitation" else reminder)(invitation, summit)
    return OutboxMessage(
        kind=kind,
        to_email=invitation.email,
        to_name=invitation.name,
        subject=subject,
        params=encode({**mail_context(invitation, summit), **extra}),
        attachments=[],
        invitation_id=invitation.id,
    )


def send_current_link(email: str) -> bool:
    """ "Lost your link?": email a live invitation's current personal link to its own address. For any other
    address, nothing: the caller answers both alike, so the answer says nothing about who is invited.
    Returns whether an email was written (for tests, never for the page)."""
    try:
        invitation = db.session.scalars(select(Invitation).where(Invitation.email == normalise_address(email))).first()
    except InvalidAddress:
        return False
    if invitation is None or invitation.state not in LIVE_STATES or invitation.erased_at is not None:
        return False
    summit = summit_settings.get_summit()
    tell(invitation, "your_link", f"Your personal link for {summit.name}", summit)
    return True
