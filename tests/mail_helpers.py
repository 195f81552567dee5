"""Reading mail as its recipient gets it: the outbox row stores placeholders where personal links were."""

from __future__ import annotations

import base64

from app.mail.links import OutgoingMessage, expanded
from app.mail.models import OutboxMessage


def delivered(message: OutboxMessage) -> OutgoingMessage:
    """The message as delivery hands it to the backend: working links in, the row untouched."""
    return expanded(message)


def delivered_attachment(message: OutboxMessage, suffix: str) -> tuple[bytes, str]:
    """The delivered message's one attachment whose name ends with `suffix`, and its content type."""
    found = [a for a in delivered(message).attachments if a["filename"].endswith(suffix)]
    assert len(found) == 1, message.attachments
    return base64.b64decode(found[0]["content_b64"]), found[0]["content_type"]
