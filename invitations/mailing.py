"""The people domain's email: invitations, confirmations, reminders, and what every message knows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypedDict

from flask import current_app
from sqlalchemy import func, or_, select

from app.core import audit
from app.core.calendar import build_calendar
from app.core.db import db, utcnow
from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.errors import ValidationFailed
from app.core.mail import outbox
from app.core.mail.compose import attachment_builder, built_attachment
from app.core.mail.outbox import enqueue
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from app.core.urls import external_url
from invitations import transitions
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
    **extra,
) -> None:
    """Write one email about this person's invitation to the outbox, in the caller's transaction; `extra`
    goes into the template's context beside the person, the summit and the link."""
    enqueue(
        kind,
        to_email=invitation.email,
        to_name=invitation.name,
        invitation_id=invitation.id,
        subject=subject,
        context={**mail_context(invitation, summit), **extra},
        attachments=attachments,
        not_before=not_before,
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
    tell(
        invitation,
        "invitation",
        f"Your invitation to {summit.name}",
        summit,
        decline_link=external_url("invitations.decline", token=token_for(invitation)),
        covering_note=covering_note.strip(),
    )
    audit.record("invitation.sent", actor=actor, invitation_id=invitation.id)


def unsent_invitations():
    return select(Invitation).where(Invitation.sent_at.is_(None), Invitation.state == S.INVITED)


def send_all_unsent(*, actor=None, now: datetime | None = None, covering_note: str = "") -> int:
    """Queue an invitation to everyone not yet sent one, with the covering note if there is one (checked by
    app.core.mail.wording.note_problems). Returns how many."""
    now = now or utcnow()
    summit = summit_settings.get_summit()
    transitions.lock_many(db.session.scalars(unsent_invitations().with_only_columns(Invitation.id)))
    invitations = db.session.scalars(unsent_invitations().order_by(Invitation.id)).all()
    for invitation in invitations:
        send_invitation(invitation, actor=actor, now=now, summit=summit, covering_note=covering_note)
    db.session.flush()
    return len(invitations)


REMINDER_GROUPS = {
    "not_answered": "Everyone who hasn't answered",
    "not_opened": "Those who haven't opened their invitation",
    "opened_not_registered": "Those who opened it but haven't registered",
}


def reminder_query(group: str):
    """Sent, still unanswered invitations in the chosen group."""
    query = select(Invitation).where(Invitation.state == S.INVITED, Invitation.sent_at.is_not(None))
    if group == "not_opened":
        return query.where(Invitation.opened_at.is_(None))
    if group == "opened_not_registered":
        return query.where(Invitation.opened_at.is_not(None))
    if group == "not_answered":
        return query
    raise ValidationFailed(f"'{group}' is not a reminder group; choose one of {', '.join(REMINDER_GROUPS)}.")


def _recently_reminded(min_days: int, now: datetime):
    return Invitation.last_reminded_at > now - timedelta(days=min_days)


def reminder_counts(min_days: int, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """For each group: how many would get a reminder now, and how many are skipped as reminded recently."""
    now = now or utcnow()
    counts = {}
    for group in REMINDER_GROUPS:
        sub = reminder_query(group).subquery()
        recent = sub.c.last_reminded_at > now - timedelta(days=min_days)
        row = db.session.execute(select(func.count(), func.count().filter(recent)).select_from(sub)).one()
        counts[group] = {"due": row[0] - row[1], "skipped": row[1]}
    return counts


def send_reminders(group: str, *, min_days: int, actor=None, now: datetime | None = None) -> int:
    """Remind a group, skipping anyone reminded in the last `min_days` days. Returns how many were queued."""
    now = now or utcnow()
    summit = summit_settings.get_summit()
    query = (
        reminder_query(group)
        .where(or_(Invitation.last_reminded_at.is_(None), ~_recently_reminded(min_days, now)))
        .order_by(Invitation.id)
    )
    invitations = db.session.scalars(query).all()
    for invitation in invitations:
        invitation.last_reminded_at = now
        invitation.last_contact_at = now
        tell(invitation, "reminder", f"A reminder: your invitation to {summit.name}", summit)
        audit.record("invitation.reminded", actor=actor, invitation_id=invitation.id, group=group)
    db.session.flush()
    return len(invitations)


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
