"""Writing messages to the outbox, inside the caller's transaction (invariant 4)."""

from __future__ import annotations

import base64

from app.core.db import db
from app.core.mail.compose import encode
from app.core.mail.links import conceal_attachments
from app.core.mail.models import OutboxMessage
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
) -> OutboxMessage:
    """Add a message to the session, to be written from `emails/<kind>.txt` and `.html` by the worker; the
    caller commits. `context` may hold rows, datetimes and plain data (app.core.mail.compose stores them as
    references); `attachments` are made ones (attachment()) or ones to build at delivery (built_attachment()).

    The row holds no working personal link: each token is stored as a placeholder (see app.core.mail.links)."""
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
    )
    db.session.add(message)
    return message
