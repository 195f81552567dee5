"""GOV.UK Notify's delivery receipts: one callback per email, let in by its bearer token, recorded as SendGrid's
events are (a provider event against the message and the invitation), and a passing failure sent again."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from flask import Blueprint, current_app, request
from sqlalchemy import select

from app.core import json_bodies
from app.core.db import db
from app.core.extensions import csrf
from app.core.mail import delivery
from app.core.mail.links import conceal
from app.core.mail.models import Channel, OutboxMessage, ProviderEvent
from app.core.mail.webhook import already_recorded, keep_event

bp = Blueprint("mail_notify", __name__)

# Notify's final statuses for an email, recorded in the words SendGrid's events use, so that one handler (a bounce
# flags the invitation) and one Mail page serve both; and what each means, for the organisers.
STATUSES = {
    "delivered": ("delivered", ""),
    "permanent-failure": (
        "bounce",
        "GOV.UK Notify could not deliver it: the address is wrong or takes no email (permanent failure).",
    ),
    "temporary-failure": (
        "deferred",
        "GOV.UK Notify could not deliver it for now: the inbox was full or its spam filter refused it (temporary failure).",
    ),
    "technical-failure": (
        "deferred",
        "GOV.UK Notify could not send it because of a problem on its side (technical failure).",
    ),
}
SEND_AGAIN = {"temporary-failure", "technical-failure"}
# A text's statuses have names of their own, so a text's fate never flags or clears an email address; and a text is
# never sent again by us (Notify has tried for 72 hours already, and a text on the day is no use the day after).
TEXT_STATUSES = {
    "delivered": ("text delivered", ""),
    "sent": ("text sent", "GOV.UK Notify sent it abroad, where no delivery receipt comes back."),
    "permanent-failure": (
        "text not delivered",
        "The phone network says the number doesn't exist or can't take texts (permanent failure).",
    ),
    "temporary-failure": (
        "text not delivered",
        "The phone was off or out of signal for 72 hours, so the network gave up (temporary failure).",
    ),
    "technical-failure": (
        "text not delivered",
        "GOV.UK Notify could not send it because of a problem on its side (technical failure).",
    ),
}
# Not `to`: the message and the invitation say whose it was, and an erasure leaves nothing behind.
KEPT_FIELDS = (
    "id",
    "reference",
    "status",
    "notification_type",
    "created_at",
    "sent_at",
    "completed_at",
    "template_id",
    "template_version",
)


def _authorised(header: str) -> bool:
    """The callback's `Authorization: Bearer <NOTIFY_CALLBACK_TOKEN>`, compared in constant time; none set, none in."""
    token = current_app.config["NOTIFY_CALLBACK_TOKEN"]
    if not token:
        return False
    return hmac.compare_digest(header.encode("utf-8"), f"Bearer {token}".encode())


@bp.post("/webhooks/notify")
@csrf.exempt  # Notify's bearer token instead; there is no session here
def delivery_receipt():
    if not _authorised(request.headers.get("Authorization", "")):
        return (
            {"error": "This callback needs the bearer token set as NOTIFY_CALLBACK_TOKEN and given to Notify."},
            401,
            {"WWW-Authenticate": "Bearer"},
        )
    try:
        item = json_bodies.loads(request.get_data())
    except ValueError:
        return {"error": "The body is not JSON."}, 400
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not isinstance(item.get("status"), str):
        return {"error": "A delivery receipt is a JSON object with the notification's id and status."}, 400
    recorded = record_receipt(item)
    db.session.commit()
    return {"recorded": recorded}


def _message_for(item: dict) -> OutboxMessage | None:
    reference = str(item.get("reference") or "")
    if reference.isdigit():
        message = db.session.get(OutboxMessage, int(reference))
        if message is not None:
            return message
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.provider_id == item["id"])).first()


def _occurred(item: dict) -> datetime:
    try:
        when = datetime.fromisoformat(str(item.get("completed_at") or item.get("sent_at") or ""))
    except ValueError:
        return datetime.now(UTC)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def record_receipt(item: dict) -> bool:
    """Record one receipt; False if it was already recorded (Notify sends a callback again until it gets a 2xx).
    A temporary or technical failure of the message's latest send puts it back in the outbox, due after the backoff."""
    notification_id, status = item["id"][:80], item["status"][:40]
    key = f"notify:{notification_id}:{status}"
    if already_recorded(key):
        return False
    message = _message_for(item)
    is_text = message.channel == Channel.SMS if message is not None else item.get("notification_type") == "sms"
    name, reason = (TEXT_STATUSES if is_text else STATUSES).get(status, (f"other:{status}"[:40], ""))
    event = ProviderEvent(
        sg_event_id=key,
        event=name,
        message_id=message.id if message else None,
        invitation_id=message.invitation_id if message else None,
        reason=reason,
        occurred_at=_occurred(item),
        payload={k: conceal(v) if isinstance(v, str) else v for k, v in item.items() if k in KEPT_FIELDS},
    )
    if not keep_event(event):
        return False
    if status in SEND_AGAIN and message is not None and not is_text:
        delivery.send_again_later(message.id, notification_id, reason)
    return True
