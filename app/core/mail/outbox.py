"""Writing messages to the outbox, inside the caller's transaction (invariant 4)."""

from __future__ import annotations

import base64
from collections.abc import Collection
from datetime import datetime, timedelta

from markupsafe import escape
from sqlalchemy import delete, or_, select

from app.core.db import db, utcnow
from app.core.mail.compose import encode
from app.core.mail.links import conceal, conceal_attachments
from app.core.mail.models import Channel, OutboxMessage, OutboxStatus
from app.core.text_input import single_line


def attachment(filename: str, content_type: str, content: bytes) -> dict:
    return {"filename": filename, "content_type": content_type, "content_b64": base64.b64encode(content).decode()}


def enqueue(
    kind: str,
    *,
    to_email: str,
    to_name: str = "",
    subject: str,
    context: dict,
    invitation_id: int | None = None,
    reply_to: str | None = None,
    attachments: list[dict] | None = None,
    not_before: datetime | None = None,
) -> OutboxMessage:
    """Add a message to the session, to be written from `emails/<kind>.txt` and `.html` by the worker; the
    caller commits. `context` may hold rows, datetimes and plain data (app.core.mail.compose stores them as
    references); `attachments` are made ones (attachment()) or ones to build at delivery (built_attachment()).

    The row holds no working personal link: each token is stored as a placeholder (see app.core.mail.links).
    `not_before` holds it back until then (see send_time). `subject` is the default wording's: where the
    organisers have worded this kind themselves, the worker puts their subject in when it writes the message
    (app.core.mail.compose), so a request that queues mail reads no wording."""
    message = OutboxMessage(
        kind=kind,
        to_email=to_email,
        # One line each: SendGrid takes a To name or a subject as it is given, line breaks and all.
        to_name=single_line(to_name) or "",
        reply_to=reply_to,
        subject=single_line(subject) or "",
        params=encode(context),
        attachments=[item if "build" in item else conceal_attachments([item])[0] for item in attachments or []],
        invitation_id=invitation_id,
        next_attempt_at=not_before or utcnow(),
    )
    db.session.add(message)
    return message


TEXT_KIND = "text_message"


def enqueue_text(
    *, to_phone: str, to_name: str, subject: str, text: str, invitation_id: int, text_send_id: int
) -> OutboxMessage:
    """Add a text message to the session (the caller commits), for GOV.UK Notify's text template. It is written
    here, whole, as the organiser previewed it, with each working link concealed as an email's are: the worker
    puts them back in memory as it sends."""
    words = conceal(text)
    message = OutboxMessage(
        kind=TEXT_KIND,
        channel=Channel.SMS,
        to_email="",
        to_phone=to_phone,
        to_name=single_line(to_name) or "",
        subject=single_line(subject) or "",
        params=None,
        body_text=words,
        body_html=f'<pre style="white-space: pre-wrap; font-family: inherit">{escape(words)}</pre>',
        attachments=[],
        invitation_id=invitation_id,
        text_send_id=text_send_id,
    )
    db.session.add(message)
    return message


# --- emails a person causes themselves: coalesced and limited -----------------------------------------------
# One personal link could otherwise queue hundreds of "your details changed" or "signed up / cancelled"
# emails to one inbox (and spend the sending quota). The domain decides what may be coalesced; these are
# the pieces it does it with.

HOUR = timedelta(hours=1)


def recent_for(invitation_id: int, kinds: Collection[str], now: datetime | None = None) -> list[OutboxMessage]:
    """This person's messages of these kinds made in the last hour or still waiting to go, oldest first, locked
    (on PostgreSQL) so that a worker can't claim one while the caller decides about it."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.invitation_id == invitation_id,
                OutboxMessage.kind.in_(list(kinds)),
                or_(OutboxMessage.created_at > now - HOUR, OutboxMessage.status == OutboxStatus.PENDING),
            )
            .order_by(OutboxMessage.id)
            .with_for_update()
        )
    )


def is_unwritten(message: OutboxMessage) -> bool:
    """Still waiting and not yet written by a worker: it will be written from the data as it is when it goes."""
    return message.status == OutboxStatus.PENDING and message.body_text is None and not message.attempts


def send_time(messages: Collection[OutboxMessage], per_hour: int, now: datetime | None = None) -> datetime:
    """When one more message may go, so that no more than `per_hour` go in any hour: now, or when the
    per_hour-th latest of these (by when each went or is due to go) is an hour old."""
    now = now or utcnow()
    times = sorted(m.sent_at or m.next_attempt_at for m in messages if (m.sent_at or m.next_attempt_at) > now - HOUR)
    if per_hour < 1 or len(times) < per_hour:
        return now
    return max(now, times[-per_hour] + HOUR)


def withdraw(message: OutboxMessage) -> bool:
    """Take back a message not yet written (a later change undid what it said). False if a worker has it."""
    gone = db.session.execute(
        delete(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.body_text.is_(None),
            OutboxMessage.attempts == 0,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(gone, "rowcount", 0) != 1:
        return False
    db.session.expunge(message)
    return True
