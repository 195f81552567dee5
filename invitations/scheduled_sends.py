"""Sends an organiser schedules for later: invitations or reminders to a group, made into outbox messages by
the mail worker when due, for the group as it is then, exactly once however many workers run."""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update

from app.core import audit
from app.core.db import changed, db, utcnow
from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.core.mail import wording
from app.core.mail.wording_defaults import KINDS as MESSAGE_KINDS
from invitations import audiences, mailing
from invitations.models import ScheduledKind, ScheduledSend, ScheduledStatus

log = logging.getLogger(__name__)

KIND_WORDS = {ScheduledKind.INVITATION: "invitations", ScheduledKind.REMINDER: "reminders"}


def schedule(
    kind: ScheduledKind,
    audience: audiences.Audience,
    due_at: datetime | None,
    *,
    actor,
    now: datetime | None = None,
    covering_note: str = "",
) -> ScheduledSend:
    """Keep the send for later. Invitations may carry the organiser's one-off covering note, checked now as it is
    on sending at once, and put above each invitation when they go."""
    now = now or utcnow()
    if due_at is None:
        raise ValidationFailed("Enter the date and time to send them (UK time).", field="due_at")
    if due_at <= now:
        raise ValidationFailed("That time has passed: choose a time in the future (UK time).", field="due_at")
    note = covering_note.strip() if kind == ScheduledKind.INVITATION else ""
    problems = wording.note_problems(note, MESSAGE_KINDS["invitation"]) if note else []
    if problems:
        raise ValidationFailed(" ".join(problems), field="note")
    audience.check()
    row = ScheduledSend(
        kind=kind,
        audience=audience.as_dict(),
        due_at=due_at,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        covering_note=note or None,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "scheduled_send.created",
        actor=actor,
        scheduled_id=row.id,
        kind=KIND_WORDS[kind],
        group=audiences.describe(audience),
        due_at=due_at.isoformat(),
        covering_note=bool(note),
    )
    return row


def cancel(scheduled_id: int, *, actor, now: datetime | None = None) -> ScheduledSend:
    """Cancel a send that hasn't gone; a conditional update, so a worker sending it at this moment wins or loses
    cleanly (never both)."""
    now = now or utcnow()
    row = db.session.get(ScheduledSend, scheduled_id)
    if row is None:
        raise NotFound("There is no such scheduled send. Choose one from the list.")
    done = changed(
        db.session.execute(
            update(ScheduledSend)
            .where(ScheduledSend.id == scheduled_id, ScheduledSend.status == ScheduledStatus.WAITING)
            .values(status=ScheduledStatus.CANCELLED, done_at=now, cancelled_by_id=getattr(actor, "id", None))
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(row)
    if done != 1:
        what = "has already gone" if row.status == ScheduledStatus.SENT else "was already cancelled"
        raise InvalidState(f"That send {what}, so there is nothing to cancel.")
    audit.record(
        "scheduled_send.cancelled",
        actor=actor,
        scheduled_id=row.id,
        kind=KIND_WORDS[row.kind],
        group=audiences.describe(audience_of(row)),
        due_at=row.due_at.isoformat(),
    )
    return row


def audience_of(row: ScheduledSend) -> audiences.Audience:
    return audiences.Audience(
        **{k: str(v) for k, v in (row.audience or {}).items() if k in audiences.Audience.__dataclass_fields__}
    )


def waiting() -> list[ScheduledSend]:
    return list(
        db.session.scalars(
            select(ScheduledSend)
            .where(ScheduledSend.status == ScheduledStatus.WAITING)
            .order_by(ScheduledSend.due_at, ScheduledSend.id)
        )
    )


def recently_done(limit: int = 20) -> list[ScheduledSend]:
    return list(
        db.session.scalars(
            select(ScheduledSend)
            .where(ScheduledSend.status != ScheduledStatus.WAITING)
            .order_by(ScheduledSend.done_at.desc(), ScheduledSend.id.desc())
            .limit(limit)
        )
    )


def how_many_now(row: ScheduledSend, now: datetime | None = None) -> int:
    """How many it would send if it went now."""
    audience = audience_of(row)
    if row.kind == ScheduledKind.INVITATION:
        return audiences.count(audiences.Audience(**{**audience.as_dict(), "state": audiences.NOT_SENT}), None).in_group
    return audiences.count(audience, current_app.config["REMIND_QUIET_DAYS"], now).to_send


def _claim_one(worker_id: str, now: datetime) -> ScheduledSend | None:
    """The next due send, taken by this worker: FOR UPDATE SKIP LOCKED on PostgreSQL (another worker passes
    it by), and on SQLite the transaction's BEGIN IMMEDIATE; then a conditional update, so only one ever wins."""
    query = (
        select(ScheduledSend.id)
        .where(ScheduledSend.status == ScheduledStatus.WAITING, ScheduledSend.due_at <= now)
        .order_by(ScheduledSend.due_at, ScheduledSend.id)
        .limit(1)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    scheduled_id = db.session.scalar(query)
    if scheduled_id is None:
        return None
    won = changed(
        db.session.execute(
            update(ScheduledSend)
            .where(ScheduledSend.id == scheduled_id, ScheduledSend.status == ScheduledStatus.WAITING)
            .values(status=ScheduledStatus.SENT, done_at=now, sent_by=worker_id)
            .execution_options(synchronize_session=False)
        )
    )
    if won != 1:
        return None
    row = db.session.get(ScheduledSend, scheduled_id)
    assert row is not None
    db.session.refresh(row)
    return row


def send_due(worker_id: str, now: datetime | None = None) -> int:
    """Turn every due scheduled send into outbox messages, each in its own transaction with its claim (so a
    send is made exactly once, or not at all if it fails). Returns how many scheduled sends went."""
    went = 0
    while True:
        moment = now or utcnow()
        try:
            row = _claim_one(worker_id, moment)
            if row is None:
                db.session.commit()
                return went
            _expand(row, moment)
            db.session.commit()
            went += 1
        except Exception:
            db.session.rollback()
            log.exception("a scheduled send could not be made; it stays waiting")
            return went


def _expand(row: ScheduledSend, now: datetime) -> None:
    audience = audience_of(row)
    actor = row.created_by
    try:
        audience.check()
    except ValidationFailed as error:
        row.status, row.sent_count = ScheduledStatus.CANCELLED, 0
        audit.record(
            "scheduled_send.dropped", actor=actor, scheduled_id=row.id, kind=KIND_WORDS[row.kind], reason=error.message
        )
        return
    if row.kind == ScheduledKind.INVITATION:
        row.sent_count = mailing.send_invitations(audience, actor=actor, now=now, covering_note=row.covering_note or "")
    else:
        quiet_days = current_app.config["REMIND_QUIET_DAYS"]
        row.sent_count = mailing.send_reminders(audience, quiet_days=quiet_days, actor=actor, now=now)
    audit.record(
        "scheduled_send.sent",
        actor=actor,
        scheduled_id=row.id,
        kind=KIND_WORDS[row.kind],
        group=audiences.describe(audience),
        count=row.sent_count,
    )


def on_mail_round(_sender, *, worker_id: str, **_) -> None:
    """Connected to the mail worker's round signal when the app is wired."""
    send_due(worker_id)
