"""Writing messages to the outbox, inside the caller's transaction (invariant 4)."""

from __future__ import annotations

import base64

from flask import current_app, render_template

from app.db import db
from app.mail.links import conceal, conceal_attachments
from app.mail.models import OutboxMessage


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
    """Render `emails/<kind>.txt` and `.html` and add the message to the session; the caller commits.

    The row holds no working personal link: each token is stored as a placeholder (see app.mail.links)."""
    context = {"to_name": to_name, "signature": current_app.config["MAIL_FROM_NAME"], **context}
    message = OutboxMessage(
        kind=kind,
        to_email=to_email,
        to_name=to_name,
        reply_to=reply_to,
        subject=subject,
        body_text=conceal(render_template(f"emails/{kind}.txt", subject=subject, **context)),
        body_html=conceal(render_template(f"emails/{kind}.html", subject=subject, **context)),
        attachments=conceal_attachments(attachments or []),
        invitation_id=invitation_id,
    )
    db.session.add(message)
    return message
