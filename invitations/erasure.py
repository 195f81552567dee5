"""What erasing a person removes: their invitation's details, and every other row that names them.

Their own emails lose everything but the subject; emails to others that named them (the colleague they sent,
or who sent them) lose each name and address they were known by; provider events about them lose the address
and the reason; audit rows about them lose any detail that quoted them. The layers above remove theirs when
`signals.person_erased` is sent (the scan log, app/checkin/subscriptions.py). Used alike by an erasure on
request and by the anonymiser after the event (invitations/privacy.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from markupsafe import escape
from sqlalchemy import func, or_, select, update

from app.core import audit, mobile_numbers
from app.core.audit import AuditEvent
from app.core.db import db
from app.core.mail.models import OutboxMessage, OutboxStatus, ProviderEvent
from app.core.security import new_badge_code, new_link_selector
from invitations import answers, signals
from invitations.models import Invitation, LeaderNote

ERASED_NAME = "Erased"
ERASED_TEXT = "(erased)"
NOT_SENT = "Not sent: the person's data was erased."
# What a provider event keeps of SendGrid's report once the person it was about is erased.
EVENT_FACTS = ("event", "timestamp", "status", "type")
# What a delegate does from their own link, recorded with their name as the actor before it was "the delegate".
DELEGATE_ACTIONS = ("invitation.handed_on",)


def words_for(invitation: Invitation) -> list[str]:
    """Every name and address the person was known by (each email records the ones it was written to), and
    their needs: what must go from text that other rows hold. Longest first, so an address goes before a name in it."""
    names = {invitation.name, invitation.email}
    names.update(
        *db.session.execute(
            select(OutboxMessage.to_name, OutboxMessage.to_email).where(OutboxMessage.invitation_id == invitation.id)
        ).all()
    )
    if invitation.mobile:
        names.update((invitation.mobile, mobile_numbers.shown(invitation.mobile)))
    if invitation.registration is not None:
        names.update((invitation.registration.dietary, invitation.registration.access_needs))
    names.update(answer.text for answer in answers.answers_of(invitation.id) if answer.option_id is None)
    return sorted({word.strip() for word in names if word and len(word.strip()) > 1}, key=len, reverse=True)


def without(text: str | None, words: Iterable[str]) -> str | None:
    """The text with each word (as written, or HTML-escaped as in an email's HTML) replaced by "(erased)"."""
    if not text:
        return text
    for word in words:
        for form in dict.fromkeys((word, str(escape(word)))):
            text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", ERASED_TEXT, text, flags=re.IGNORECASE)
    return text


def strip(invitation: Invitation, now: datetime) -> None:
    """Remove what identifies the person; keep what the counts need (state, organisation, sector, dates)."""
    words = words_for(invitation)
    emails = [word for word in words if "@" in word]
    names = {word.lower() for word in words}
    invitation.erased_at = now
    invitation.name = ERASED_NAME
    invitation.email = f"erased-{invitation.id}@erased.invalid"
    invitation.job_title = ""
    invitation.decline_reason = ""
    invitation.bounce_reason = ""
    invitation.mobile = None
    invitation.text_stop_selector = None
    # The old link and badge stop working.
    invitation.link_selector = new_link_selector()
    invitation.code = new_badge_code()
    if invitation.registration is not None:
        invitation.registration.dietary = ""
        invitation.registration.access_needs = ""
    answers.erase_answers(invitation.id)
    db.session.execute(
        update(LeaderNote)
        .where(LeaderNote.invitation_id == invitation.id)
        .values(text="")
        .execution_options(synchronize_session=False)
    )
    own = _scrub_own_messages(invitation, words)
    _scrub_messages_naming(invitation, words)
    _scrub_provider_events(invitation.id, own, emails)
    _scrub_audit(invitation.id, names)
    signals.person_erased.send(invitation, words=words, now=now)


def _scrub_own_messages(invitation: Invitation, words: list[str]) -> list[int]:
    """Their emails keep only what they were about (kind, subject, dates); one not yet sent never will be."""
    messages = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.subject, OutboxMessage.last_error, OutboxMessage.status).where(
            OutboxMessage.invitation_id == invitation.id
        )
    ).all()
    for message in messages:
        unsent = message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                to_email=invitation.email,
                to_name="",
                to_phone=None,
                subject=without(message.subject, words),
                params=None,
                body_text=ERASED_TEXT,
                body_html=ERASED_TEXT,
                attachments=[],
                last_error=NOT_SENT if unsent else without(message.last_error, words),
                status=OutboxStatus.FAILED if unsent else message.status,
                claimed_at=None if unsent else OutboxMessage.claimed_at,
            )
            .execution_options(synchronize_session=False)
        )
    return [message.id for message in messages]


def _scrub_messages_naming(invitation: Invitation, words: list[str]) -> None:
    """Emails to the people they handed on to or took over from name them: take every name and address of
    theirs out of those, and keep the rest (what the other person was told)."""
    others = set(db.session.scalars(select(Invitation.id).where(Invitation.substitute_for_id == invitation.id)))
    if invitation.substitute_for_id is not None:
        others.add(invitation.substitute_for_id)
    if not others:
        return
    messages = db.session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.subject,
            OutboxMessage.body_text,
            OutboxMessage.body_html,
            OutboxMessage.last_error,
        ).where(OutboxMessage.invitation_id.in_(others))
    ).all()
    for message in messages:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                subject=without(message.subject, words),
                body_text=without(message.body_text, words),
                body_html=without(message.body_html, words),
                last_error=without(message.last_error, words),
            )
            .execution_options(synchronize_session=False)
        )


def _scrub_provider_events(invitation_id: int, message_ids: list[int], emails: list[str]) -> None:
    """SendGrid's reports about them keep the fact (bounced, delivered, when), not the address or the reason."""
    about_them = or_(
        ProviderEvent.invitation_id == invitation_id,
        ProviderEvent.message_id.in_(message_ids),
        *(func.lower(ProviderEvent.reason).contains(email.lower(), autoescape=True) for email in emails),
    )
    for event in db.session.scalars(select(ProviderEvent).where(about_them)):
        event.reason = ""
        event.payload = {key: value for key, value in (event.payload or {}).items() if key in EVENT_FACTS}


def _scrub_audit(invitation_id: int, names: set[str]) -> None:
    """Rows written before the audit log stopped quoting people: their details go, and a row they acted in
    says "the delegate" (the log names them by id when it is read)."""
    for event in db.session.scalars(select(AuditEvent).where(AuditEvent.invitation_id == invitation_id)):
        details = audit.without_personal_details(event.details or {})
        if details != (event.details or {}):
            event.details = details
        if event.actor_id is None and (event.action in DELEGATE_ACTIONS or event.actor_label.lower() in names):
            event.actor_label = "the delegate"
