"""The organisers' mail page: every message, its status and provider events, a preview, and retry."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.core import audit, paging
from app.core.auth.decorators import organiser_required
from app.core.db import db
from app.core.forms import ConfirmForm
from app.core.mail import delivery, links
from app.core.mail.compose import CannotCompose, Composed, compose
from app.core.mail.models import OutboxMessage, OutboxStatus, ProviderEvent

bp = Blueprint("mail", __name__, url_prefix="/organiser/mail")
PAGE_SIZE = 50


@bp.get("/")
@organiser_required
def outbox():
    status = request.args.get("status") or ""
    query = select(OutboxMessage)
    if status:
        try:
            query = query.where(OutboxMessage.status == OutboxStatus(status))
        except ValueError:
            abort(400)
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    total = counts.get(OutboxStatus(status), 0) if status else sum(counts.values())
    page = paging.requested_page(total, PAGE_SIZE)
    messages = db.session.scalars(
        query.order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    # The latest provider event per message on this page, in one query.
    ids = [m.id for m in messages]
    latest = {}
    if ids:
        for event in db.session.scalars(
            select(ProviderEvent).where(ProviderEvent.message_id.in_(ids)).order_by(ProviderEvent.occurred_at)
        ):
            latest[event.message_id] = event
    return render_template(
        "mail/outbox.html",
        messages=messages,
        counts=counts,
        status=status,
        latest=latest,
        statuses=list(OutboxStatus),
        page=page,
        has_more=len(messages) == PAGE_SIZE,
    )


def _message(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        abort(404)
    return message


def _written(msg: OutboxMessage) -> Composed:
    """What the message says (written now, in memory, if the worker hasn't written it yet)."""
    try:
        return compose(msg)
    except CannotCompose as error:
        return Composed(
            f"This message can't be written: {error}.", f"<p>This message can't be written: {error}.</p>", []
        )


@bp.get("/<int:message_id>")
@organiser_required
def message(message_id: int):
    msg = _message(message_id)
    events = db.session.scalars(
        select(ProviderEvent).where(ProviderEvent.message_id == msg.id).order_by(ProviderEvent.occurred_at)
    ).all()
    return render_template(
        "mail/message.html",
        message=msg,
        events=events,
        form=ConfirmForm(),
        text=links.masked(_written(msg).body_text),
        mask=links.MASK,
    )


@bp.get("/<int:message_id>/preview")
@organiser_required
def preview(message_id: int):
    """The HTML as the recipient sees it, in a sandboxed frame: no scripts, nothing fetched, links masked."""
    msg = _message(message_id)
    response = Response(links.masked(_written(msg).body_html), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<int:message_id>/retry")
@organiser_required
def retry(message_id: int):
    msg = _message(message_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if msg.status != OutboxStatus.FAILED:
        flash("Only a failed message can be retried.", "error")
        return redirect(url_for(".message", message_id=msg.id))
    delivery.retry_by_hand(msg)
    audit.record("mail.retried", actor=current_user, invitation_id=msg.invitation_id, message_id=msg.id)
    db.session.commit()
    flash("The message is queued to send again.", "success")
    return redirect(url_for(".message", message_id=msg.id))
