"""Delivering the outbox through a backend: console, file or memory here; SendGrid in production."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.db import db, utcnow
from app.mail.models import OutboxMessage, OutboxStatus

SENT_IN_MEMORY: list[dict] = []  # the memory backend's mailbox, read by tests


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retry: int = 0


def _payload(message: OutboxMessage) -> dict:
    return {
        "id": message.id, "kind": message.kind, "to": message.to_email, "to_name": message.to_name,
        "reply_to": message.reply_to, "subject": message.subject, "text": message.body_text,
        "attachments": [a["filename"] for a in message.attachments or []],
    }


def _deliver(message: OutboxMessage) -> str:
    backend = current_app.config["MAIL_BACKEND"]
    payload = _payload(message)
    if backend == "memory":
        SENT_IN_MEMORY.append(payload)
    elif backend == "file":
        folder = Path(current_app.config["MAIL_FILE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{message.id:06d}-{message.kind}.json").write_text(json.dumps(payload, indent=2))
    elif backend == "console":
        print(f"--- email {message.id} to {message.to_email}: {message.subject}")
    else:
        raise RuntimeError(f"Unknown MAIL_BACKEND {backend!r}")
    return f"{backend}-{message.id}"


def send_pending(limit: int = 500) -> Outcome:
    outcome = Outcome()
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    for message in messages:
        message.attempts += 1
        message.provider_id = _deliver(message)
        message.status = OutboxStatus.SENT
        message.sent_at = utcnow()
        outcome.sent += 1
    db.session.commit()
    return outcome
