"""Delivering the outbox: claim a batch, send each message outside any transaction, record the outcome.

Each message is written from the database as it is when the worker writes it: nothing read for one message
is reused for the next, and the long-running worker ends its session after every round.

A claim is a lease: a message left in `sending` by a worker that died is claimed again once the lease
has run out. On PostgreSQL several workers claim with FOR UPDATE SKIP LOCKED and never share a message.
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from blinker import Namespace
from flask import current_app
from sqlalchemy import and_, or_, select, update

from app.core.db import db, utcnow
from app.core.mail.backends import PermanentFailure, TemporaryFailure, backend_from_config
from app.core.mail.compose import CannotCompose, as_sent, write_down
from app.core.mail.models import OutboxMessage, OutboxStatus

# Sent as each round begins, before the outbox is read: a domain with mail scheduled for later (the people
# domain's scheduled sends) writes what is due now into the outbox, without this kernel naming it.
round_starting = Namespace().signal("mail-round-starting")


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retry: int = 0

    def add(self, other: Outcome) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.retry += other.retry


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_batch(worker_id: str, limit: int, now: datetime | None = None) -> list[int]:
    return claim_due(OutboxMessage, OutboxStatus.PENDING, OutboxStatus.SENDING, worker_id, limit, now or utcnow())


def claim_due(model, pending, sending, worker_id: str, limit: int, now: datetime) -> list[int]:
    """Claim up to `limit` rows of a work queue (`model`: the outbox, the wallet updates) for `worker_id`, oldest
    first: those `pending` and due by `now`, and those still `sending` under a lease that has run out (their worker
    died). The claim is committed before anything is sent. On PostgreSQL, rows another worker is claiming at the
    same instant are skipped rather than shared."""
    lease = timedelta(seconds=current_app.config["MAIL_CLAIM_LEASE_SECONDS"])
    query = (
        select(model.id)
        .where(
            or_(
                and_(model.status == pending, model.next_attempt_at <= now),
                and_(model.status == sending, model.claimed_at < now - lease),
            )
        )
        .order_by(model.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            update(model)
            .where(model.id.in_(ids))
            .values(status=sending, claimed_at=now, claimed_by=worker_id)
            .execution_options(synchronize_session="fetch")
        )
    db.session.commit()
    return ids


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with jitter, never sooner than the provider asked."""
    config = current_app.config
    delay = min(config["MAIL_RETRY_BASE_SECONDS"] * (2 ** max(attempts - 1, 0)), config["MAIL_RETRY_MAX_SECONDS"])
    delay = random.uniform(delay / 2, delay)
    return max(delay, retry_after or 0)


def deliver(message_id: int, worker_id: str, backend) -> Outcome:
    # Each message is written from the rows as they are now: a worker runs for days, and the session would
    # otherwise hand back what it read for an earlier message (the summit before its venue changed, say).
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.SENDING or message.claimed_by != worker_id:
        db.session.commit()
        return Outcome()
    attempt = message.attempts + 1
    try:
        write_down(message)  # the first attempt writes the message; a retry sends what that one wrote
    except CannotCompose as error:
        message.status, message.attempts, message.claimed_at = OutboxStatus.FAILED, attempt, None
        message.last_error = f"Not sent: {error}."
        db.session.commit()
        return Outcome(failed=1)
    # End the transaction before the network call: SQLite's write lock must not wait on SendGrid.
    db.session.commit()
    # The working links go back in only here, in memory: the row keeps its placeholders.
    outgoing = as_sent(message)
    try:
        if outgoing.channel == "sms" and not getattr(backend, "sends_texts", False):
            raise PermanentFailure("Not sent: texts go only through GOV.UK Notify, and the mail backend is another.")
        provider_id = backend.send(outgoing)
    except TemporaryFailure as error:
        outcome, values = _temporary(error, attempt)
    except PermanentFailure as error:
        outcome, values = Outcome(failed=1), dict(status=OutboxStatus.FAILED, last_error=str(error)[:2000])
    else:
        outcome = Outcome(sent=1)
        values = dict(status=OutboxStatus.SENT, sent_at=utcnow(), provider_id=provider_id, last_error=None)
    # Only the claimant records the outcome: a message re-claimed after a lost lease is the other worker's now.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker_id)
        .values(attempts=attempt, claimed_at=None, **values)
        .execution_options(synchronize_session="fetch")
    )
    db.session.commit()
    return outcome


def _temporary(error: TemporaryFailure, attempt: int) -> tuple[Outcome, dict]:
    if attempt >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        return Outcome(failed=1), dict(
            status=OutboxStatus.FAILED, last_error=f"Gave up after {attempt} attempts. Last: {error}"[:2000]
        )
    wait = backoff_seconds(attempt, error.retry_after)
    return Outcome(retry=1), dict(
        status=OutboxStatus.PENDING, last_error=str(error)[:2000], next_attempt_at=utcnow() + timedelta(seconds=wait)
    )


def send_again_later(message_id: int, provider_id: str, reason: str) -> bool:
    """A message the provider took but later reported undelivered for a passing reason (GOV.UK Notify's temporary
    or technical failure): due again after the backoff, as a failed attempt is, or failed once MAIL_MAX_ATTEMPTS are
    spent. Only while it is still the send the report is about, so a report that comes twice changes it once."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.SENT or message.provider_id != provider_id:
        return False
    _, values = _temporary(TemporaryFailure(reason), message.attempts)
    changed = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.provider_id == provider_id,
        )
        .values(claimed_at=None, claimed_by=None, **values)
        .execution_options(synchronize_session="fetch")
    )
    return getattr(changed, "rowcount", 0) == 1


def send_pending(limit: int = 100, worker_id: str | None = None, backend=None) -> Outcome:
    """Deliver everything that was due when this call began, batch by batch, once.

    A message that fails here is rescheduled after `started`, so one call never retries it in a tight loop."""
    worker_id = worker_id or default_worker_id()
    backend = backend or backend_from_config()
    round_starting.send(current_app._get_current_object(), worker_id=worker_id)  # type: ignore[attr-defined]
    started = utcnow()
    total = Outcome()
    while True:
        ids = claim_batch(worker_id, limit, now=started)
        if not ids:
            return total
        for message_id in ids:
            total.add(deliver(message_id, worker_id, backend))


def retry_by_hand(message: OutboxMessage) -> None:
    """An organiser's retry of a failed message: a fresh round of attempts, due now."""
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_at = None
    message.claimed_by = None
