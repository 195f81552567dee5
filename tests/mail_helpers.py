"""Reading mail as its recipient gets it: the outbox row stores placeholders where personal links were."""

from __future__ import annotations

import base64

from app.core.mail.compose import as_sent
from app.core.mail.links import OutgoingMessage
from app.core.mail.models import OutboxMessage


def delivered(message: OutboxMessage) -> OutgoingMessage:
    """The message as delivery hands it to the backend (written now if the worker hasn't yet): working links
    in, the row untouched."""
    return as_sent(message)


def delivered_attachment(message: OutboxMessage, suffix: str) -> tuple[bytes, str]:
    """The delivered message's one attachment whose name ends with `suffix`, and its content type."""
    found = [a for a in delivered(message).attachments if a["filename"].endswith(suffix)]
    assert len(found) == 1, message.attachments
    return base64.b64decode(found[0]["content_b64"]), found[0]["content_type"]
