"""The organisers' texts page (/organiser/texts: write, preview, confirm, send; and the sends so far) and the
stop link every text carries (/texts/stop/<token>)."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select

from app.core.actions import run_action
from app.core.auth.decorators import organiser_required
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.extensions import text_stop_link_limit
from app.core.forms import ConfirmForm
from app.core.mail import links as mail_links
from app.core.mail.models import OutboxMessage, OutboxStatus, ProviderEvent, TextSend
from app.core.security import private_page
from app.core.summit import settings as summit_settings
from app.texts import services
from app.texts.forms import SendTextForm, TextForm
from invitations import texting

bp = Blueprint("texts", __name__)
text_stop_link_limit()(bp)
bp.after_request(private_page)  # the stop page is a credential's view; the organisers' page is no one's to keep
RECENT_SENDS = 20


def _form() -> TextForm:
    form = TextForm()
    form.audience.choices = [(a.key, a.label[0].upper() + a.label[1:]) for a in services.audiences()]
    return form


def _sends() -> list[dict]:
    """The latest sends, each with how many of its texts are waiting, sent, failed, delivered and not delivered."""
    sends = db.session.scalars(select(TextSend).order_by(TextSend.id.desc()).limit(RECENT_SENDS)).all()
    ids = [s.id for s in sends]
    statuses: dict[int, dict[str, int]] = {i: {} for i in ids}
    if ids:
        for send_id, status, count in db.session.execute(
            select(OutboxMessage.text_send_id, OutboxMessage.status, func.count())
            .where(OutboxMessage.text_send_id.in_(ids))
            .group_by(OutboxMessage.text_send_id, OutboxMessage.status)
        ):
            statuses[int(send_id or 0)][status.value] = count
        for send_id, event, count in db.session.execute(
            select(OutboxMessage.text_send_id, ProviderEvent.event, func.count(func.distinct(OutboxMessage.id)))
            .join(ProviderEvent, ProviderEvent.message_id == OutboxMessage.id)
            .where(OutboxMessage.text_send_id.in_(ids))
            .group_by(OutboxMessage.text_send_id, ProviderEvent.event)
        ):
            statuses[int(send_id or 0)][event] = count
    return [{"send": s, "counts": statuses[s.id]} for s in sends]


def _page(form: TextForm, status: int = 200):
    return (
        render_template(
            "texts/index.html", form=form, problems=services.problems(), sends=_sends(), statuses=OutboxStatus
        ),
        status,
    )


@bp.get("/organiser/texts")
@organiser_required
def index():
    return _page(_form())


@bp.post("/organiser/texts")
@organiser_required
def preview():
    """The confirmation step: one person's text, its length and fragments, and how many people it reaches."""
    form = _form()
    if services.problems():
        return _page(form, 409)
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        seen = services.preview(form.audience.data, form.body.data)
    except ValidationFailed as error:
        field = error.field if error.field in form else "body"
        form[field].errors = [*form[field].errors, error.message]
        return _page(form, 422)
    confirm = SendTextForm(formdata=None, audience=seen.audience.key, body=seen.body, key=services.new_key())
    return render_template(
        "texts/confirm.html",
        seen=seen,
        confirm=confirm,
        example=mail_links.masked(mail_links.conceal(seen.example)) if seen.example else None,
    )


@bp.post("/organiser/texts/send")
@organiser_required
def send():
    form = SendTextForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: services.send(form.key.data, form.audience.data, form.body.data, current_user),
        success=lambda record: (
            f"Sending {record.recipients} text{'s' if record.recipients != 1 else ''} to {record.audience_label}. "
            "Their delivery shows below and on the Mail page."
        ),
    )
    return redirect(url_for(".index"))


# --- the stop link in every text ------------------------------------------------------------------------------


@bp.route("/texts/stop/<token>", methods=["GET", "POST"])
def stop(token: str):
    """A text's stop link: the page asks, and only its button stops texts (a link checker that opens it changes
    nothing). It opens nothing else of the person's."""
    invitation = texting.invitation_for_stop_token(token)
    if invitation is None:
        abort(404)
    summit = summit_settings.find_summit()
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("texts/stop.html", form=form, summit=summit, stopped=invitation.texts_stopped_at)
    run_action(lambda: texting.stop_texts(invitation, "link"))
    return render_template("texts/stop.html", form=form, summit=summit, stopped=True, just_stopped=True)
