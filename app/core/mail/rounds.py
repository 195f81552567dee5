"""The mail worker's scheduled steps: work that falls due with time rather than with a request (an offer running
out), done by the worker between deliveries. The layers above connect their steps to `worker_round`; the kernel
never names them."""

from __future__ import annotations

import logging
from datetime import datetime

from blinker import Namespace

from app.core.db import db, utcnow

log = logging.getLogger(__name__)
_signals = Namespace()

# A round of the worker's scheduled steps. Each receiver does its step and returns a sentence saying what it did,
# or None when there was nothing to do. sender: None; keyword `now`.
worker_round = _signals.signal("worker-round")


def run_scheduled_steps(now: datetime | None = None) -> list[str]:
    """Run every connected step, each in a transaction of its own (one that fails is rolled back and logged, and
    the others still run). Returns the sentences of the steps that did something."""
    now = now or utcnow()
    said = []
    for receiver in list(worker_round.receivers_for(None)):
        try:
            sentence = receiver(None, now=now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("A scheduled step of the mail worker failed; it runs again next round")
            continue
        if sentence:
            said.append(sentence)
    return said
