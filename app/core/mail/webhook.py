"""SendGrid's signed event webhook: delivered, open, click, bounce, dropped and spam reports."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import json_bodies
from app.core.db import db
from app.core.extensions import csrf
from app.core.mail.links import conceal
from app.core.mail.models import OutboxMessage, ProviderEvent

bp = Blueprint("mail_webhook", __name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
KNOWN_EVENTS = {
    "processed",
    "delivered",
    "deferred",
    "open",
    "click",
    "bounce",
    "dropped",
    "spamreport",
    "unsubscribe",
    "group_unsubscribe",
    "group_resubscribe",
    "blocked",
}


def verify(payload: str, signature: str, timestamp: str) -> bool:
    from sendgrid.helpers.eventwebhook import EventWebhook

    key = current_app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"]
    if not key or not signature or not timestamp:
        return False
    try:
        return EventWebhook(key).verify_signature(payload, signature, timestamp)
    except (ValueError, TypeError):  # a malformed key or signature is simply not a valid one
        return False


def signed_too_long_ago(timestamp: str, now: float | None = None) -> str | None:
    """Why a post signed at this time (Unix seconds, as signed) is refused, or None while it is fresh. A copy of a
    signed post replayed later would otherwise be recorded again under new event ids."""
    window = float(current_app.config["SENDGRID_WEBHOOK_MAX_AGE_SECONDS"])
    try:
        signed_at = int(timestamp)
    except ValueError:
        return "The signature's timestamp is not a number of seconds."
    age = (time.time() if now is None else now) - signed_at
    if abs(age) > window:
        return (
            f"These events were signed {abs(age):.0f} seconds {'ago' if age > 0 else 'ahead'}; only posts signed "
            f"within {window:.0f} seconds of now are accepted (SENDGRID_WEBHOOK_MAX_AGE_SECONDS)."
        )
    return None


@bp.post("/webhooks/sendgrid")
@csrf.exempt  # signed by SendGrid instead; there is no session here
def sendgrid_events():
    payload = request.get_data(as_text=True)
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    if not verify(payload, request.headers.get(SIGNATURE_HEADER, ""), timestamp):
        abort(403)
    stale = signed_too_long_ago(timestamp)
    if stale:
        abort(403, stale)
    try:
        events = json_bodies.loads(payload)
    except ValueError:
        abort(400)
    if not isinstance(events, list):
        abort(400)
    recorded = duplicates = 0
    for item in events:
        if not isinstance(item, dict) or not item.get("sg_event_id") or not item.get("event"):
            continue
        if record_event(item):
            recorded += 1
        else:
            duplicates += 1
    db.session.commit()
    return {"recorded": recorded, "duplicates": duplicates}


def _message_for(item: dict) -> OutboxMessage | None:
    outbox_id = str(item.get("outbox_id", ""))
    if outbox_id.isdigit():
        message = db.session.get(OutboxMessage, int(outbox_id))
        if message is not None:
            return message
    provider_id = str(item.get("sg_message_id", "")).split(".")[0]
    if provider_id:
        return db.session.scalars(select(OutboxMessage).where(OutboxMessage.provider_id == provider_id)).first()
    return None


# Not the address: the message and the invitation say whose it was, and an erasure leaves nothing behind.
KEPT_FIELDS = ("event", "timestamp", "reason", "status", "type", "url")


def _kept(item: dict) -> dict:
    """The fields worth keeping, with every working link in them concealed as the outbox conceals it: a click
    event's `url` is the link that was clicked, and a database dump must not yield anyone's link."""
    return {k: conceal(v) if isinstance(v, str) else v for k, v in item.items() if k in KEPT_FIELDS}


def record_event(item: dict) -> bool:
    """Record one event; False if it was already recorded (SendGrid retries, replays)."""
    sg_event_id = str(item["sg_event_id"])[:100]
    if already_recorded(sg_event_id):
        return False
    message = _message_for(item)
    try:
        occurred = datetime.fromtimestamp(int(item.get("timestamp", 0)), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        occurred = datetime.now(UTC)
    event_name = str(item["event"])[:40]
    event = ProviderEvent(
        sg_event_id=sg_event_id,
        event=event_name if event_name in KNOWN_EVENTS else f"other:{event_name}"[:40],
        message_id=message.id if message else None,
        invitation_id=message.invitation_id if message else None,
        reason=conceal(str(item.get("reason") or item.get("response") or ""))[:1000],
        occurred_at=occurred,
        payload=_kept(item),
    )
    return keep_event(event)


def already_recorded(event_key: str) -> bool:
    return db.session.scalar(select(ProviderEvent.id).where(ProviderEvent.sg_event_id == event_key)) is not None


def keep_event(event: ProviderEvent) -> bool:
    """Add a provider's event (SendGrid's or GOV.UK Notify's) once, by its key, and let the people domain react to
    it (a bounce flags the invitation); False if it was already recorded."""
    try:
        with db.session.begin_nested():  # a concurrent copy of the same event loses quietly
            db.session.add(event)
    except IntegrityError:
        return False
    handler = current_app.extensions.get("on_provider_event")
    if handler is not None and event.invitation_id is not None:
        handler(event)
    return True
