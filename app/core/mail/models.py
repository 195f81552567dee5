"""The outbox: every email, written in the transaction of the change it reports."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, enum_column, utcnow


class OutboxStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Channel(enum.Enum):
    EMAIL = "email"
    SMS = "sms"  # a text message, through GOV.UK Notify only


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    # One text per person per send, whatever is pressed twice (emails have no send: NULLs never clash).
    __table_args__ = (UniqueConstraint("text_send_id", "invitation_id", name="uq_outbox_message_text_send_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.EMAIL, server_default="email")
    # A text's number (E.164); an email's is None. to_email is "" for a text.
    to_phone: Mapped[str | None] = mapped_column(String(16))
    text_send_id: Mapped[int | None] = mapped_column(ForeignKey("text_send.id", ondelete="SET NULL"), index=True)
    to_email: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    # What the worker writes the message from (app.core.mail.compose): the template context as references.
    params: Mapped[dict | None] = mapped_column(JSON)
    # Written by the worker before the first attempt to send (None until then), links concealed.
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "content_type", "content_b64"}], or {"build", "arguments"} until the worker builds it
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_id: Mapped[str | None] = mapped_column(String(200))
    # A worker claims a message before sending; a claim older than the lease is taken as a dead worker's.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProviderEvent(Base):
    """What SendGrid's event webhook told us about a message (delivered, bounce, open…)."""

    __tablename__ = "provider_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SendGrid's own id for the event: a replayed webhook post is recognised and ignored.
    sg_event_id: Mapped[str] = mapped_column(String(100), unique=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_message.id", ondelete="SET NULL"), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    event: Mapped[str] = mapped_column(String(40), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)


class MessageWording(Base):
    """The organisers' own subject and body for one kind of message; no row means the default wording."""

    __tablename__ = "message_wording"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TextSend(Base):
    """An organiser's text to a group (the summit's delegates, or one fringe event's): one row per press of Send,
    made unique by the key its confirmation form carried, so a second press or a repeated POST sends nothing more."""

    __tablename__ = "text_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    audience: Mapped[str] = mapped_column(String(40))  # "summit" or "fringe:<id>"
    audience_label: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)  # as the organiser wrote it, ((badge_link)) and all: it names nobody
    recipients: Mapped[int] = mapped_column(default=0)
    fragments: Mapped[int] = mapped_column(default=0)  # per text
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
