"""Reading mail as its recipient gets it: the outbox row stores placeholders where personal links were."""

from __future__ import annotations

import base64
import re
import time

from sqlalchemy import func, select

from app.core.db import db
from app.core.mail import delivery
from app.core.mail.compose import as_sent
from app.core.mail.links import OutgoingMessage
from app.core.mail.models import OutboxMessage, OutboxStatus
from tests.support import PATIENCE_SECONDS


def delivered(message: OutboxMessage) -> OutgoingMessage:
    """The message as delivery hands it to the backend (written now if the worker hasn't yet): working links
    in, the row untouched."""
    return as_sent(message)


def last_email(kind: str) -> OutboxMessage | None:
    """The newest message of a kind in the outbox, as the database now has it."""
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id.desc())
    ).first()


def delivered_attachment(message: OutboxMessage, suffix: str) -> tuple[bytes, str]:
    """The delivered message's one attachment whose name ends with `suffix`, and its content type."""
    found = [a for a in delivered(message).attachments if a["filename"].endswith(suffix)]
    assert len(found) == 1, message.attachments
    return base64.b64decode(found[0]["content_b64"]), found[0]["content_type"]


def drain(max_seconds: float = PATIENCE_SECONDS) -> delivery.Outcome:
    """Run the worker until nothing is pending (retries are due within milliseconds here)."""
    total = delivery.Outcome()
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        total.add(delivery.send_pending())
        left = db.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
        )
        db.session.commit()
        if not left:
            break
        time.sleep(0.01)
    return total


def statuses() -> dict:
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return {status.value: n for status, n in rows}


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def emailed_path(message: OutboxMessage) -> str:
    """The sign-in link's path as the leader receives it (the stored row holds a placeholder instead)."""
    match = LINK_RE.search(delivered(message).body_text)
    assert match, delivered(message).body_text
    return match.group(1)


LINK_RE = re.compile(r"http://localhost(/sign-in/link/[A-Za-z0-9_-]+)")


def mail_kinds(invitation) -> list[str]:
    """The kinds of message queued about a person, oldest first."""
    return list(
        db.session.scalars(
            select(OutboxMessage.kind).where(OutboxMessage.invitation_id == invitation.id).order_by(OutboxMessage.id)
        )
    )
