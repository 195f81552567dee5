"""Marking a Google Wallet pass inactive when its place ends (cancelled, handed on, revoked, erased, or its code
reissued): queued in the transaction of the change, sent by the mail worker's scheduled steps.

The door refuses the code whatever the pass says; marking it inactive tells the person's phone too. Each update is
claimed with a lease, as the outbox's messages are, and the call to Google is made outside any transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.badges import google_wallet
from app.badges.models import WalletPassUpdate, WalletUpdateStatus
from app.badges.wallet import serial_of
from app.core.db import db, utcnow
from app.core.mail.delivery import backoff_seconds, claim_due, default_worker_id
from invitations.models import Invitation

log = logging.getLogger(__name__)
BATCH = 50


def queue_inactive(invitation: Invitation, now: datetime | None = None) -> WalletPassUpdate | None:
    """Queue the person's pass (for the place they hold or held) to be marked INACTIVE, once, when Google Wallet is
    set up. Call it before the code changes: the pass is known by it."""
    config = current_app.config
    serial = serial_of(invitation)
    if serial is None or not google_wallet.configured(config):
        return None
    object_id = google_wallet.object_id(config["GOOGLE_WALLET_ISSUER_ID"], serial)
    if db.session.scalar(select(WalletPassUpdate.id).where(WalletPassUpdate.object_id == object_id)) is not None:
        return None
    update_row = WalletPassUpdate(object_id=object_id, state="INACTIVE", next_attempt_at=now or utcnow())
    db.session.add(update_row)
    return update_row


def _record(update_id: int, worker_id: str, **values) -> None:
    """Only the claimant records the outcome: an update claimed again after a lost lease is the other worker's."""
    db.session.execute(
        update(WalletPassUpdate)
        .where(WalletPassUpdate.id == update_id, WalletPassUpdate.claimed_by == worker_id)
        .values(claimed_at=None, **values)
        .execution_options(synchronize_session="fetch")
    )
    db.session.commit()


def send_due(now: datetime | None = None, worker_id: str | None = None) -> tuple[int, int]:
    """Send every update due now to Google. Returns (sent, failed for good)."""
    config = current_app.config
    if not google_wallet.configured(config):
        return 0, 0
    now = now or utcnow()
    worker_id = worker_id or default_worker_id()
    ids = claim_due(WalletPassUpdate, WalletUpdateStatus.PENDING, WalletUpdateStatus.SENDING, worker_id, BATCH, now)
    if not ids:
        return 0, 0
    try:
        api = google_wallet.WalletApi(config)
    except google_wallet.WalletUnavailable as error:
        log.error("Google Wallet passes can't be marked inactive: %s", error)
        for update_id in ids:  # back in the queue, for when the key file is mended
            _record(update_id, worker_id, status=WalletUpdateStatus.PENDING, outcome=str(error)[:2000])
        return 0, 0
    sent = failed = 0
    for update_id in ids:
        row = db.session.get(WalletPassUpdate, update_id)
        if row is None:
            continue
        object_id, state, attempt = row.object_id, row.state, row.attempts + 1
        db.session.commit()  # no transaction held across the call to Google
        try:
            said = api.set_state(object_id, state)
        except google_wallet.TemporaryFailure as error:
            if attempt >= config["MAIL_MAX_ATTEMPTS"]:
                failed += 1
                values = dict(
                    status=WalletUpdateStatus.FAILED, outcome=f"Gave up after {attempt} attempts. Last: {error}"
                )
            else:
                wait = timedelta(seconds=backoff_seconds(attempt))
                values = dict(status=WalletUpdateStatus.PENDING, outcome=str(error), next_attempt_at=utcnow() + wait)
        except google_wallet.PermanentFailure as error:
            failed += 1
            values = dict(status=WalletUpdateStatus.FAILED, outcome=str(error))
            log.error("A Google Wallet pass couldn't be marked %s: %s", state, error)
        else:
            sent += 1
            values = dict(status=WalletUpdateStatus.DONE, outcome="" if said == "done" else said, done_at=utcnow())
        values["outcome"] = str(values["outcome"])[:2000]
        _record(update_id, worker_id, attempts=attempt, **values)
    return sent, failed


def on_worker_round(_sender, *, now: datetime) -> str | None:
    """The mail worker's scheduled step (app.core.mail.rounds.worker_round)."""
    sent, failed = send_due(now)
    if not sent and not failed:
        return None
    said = f"Marked {sent} Google Wallet pass(es) inactive."
    return said + (f" {failed} couldn't be (see the log)." if failed else "")
