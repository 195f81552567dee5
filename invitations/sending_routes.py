"""Organisers' screens for sending to a group: invitations and reminders, filtered, counted and previewed
before they go, now or at a time they schedule; and the list of scheduled sends."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.actions import run_action
from app.core.auth.decorators import organiser_required
from app.core.db import db
from app.core.errors import ValidationFailed
from app.core.forms import ConfirmForm, ConfirmStepForm
from app.core.mail import links as mail_links
from app.core.mail import wording
from app.core.mail.compose import CannotCompose, compose
from app.core.mail.wording_defaults import KINDS as MESSAGE_KINDS
from app.core.summit import settings as summits
from invitations import audiences, mailing, scheduled_sends
from invitations.forms import CoveringNoteForm, ScheduleForm
from invitations.models import Invitation, ScheduledKind

bp = Blueprint("sending", __name__, url_prefix="/organiser")

KINDS = {"invitation": ScheduledKind.INVITATION, "reminder": ScheduledKind.REMINDER}


def _audience(kind: str, data) -> audiences.Audience:
    """The group from the request; a state or choice we don't know is a 400 with a sentence."""
    try:
        if kind == "invitation":
            return audiences.Audience.from_mapping({**data.to_dict(), "state": audiences.NOT_SENT})
        return audiences.Audience.from_mapping(data, default_state=mailing.DEFAULT_REMINDER_STATE)
    except ValidationFailed as error:
        abort(400, error.message)


def _quiet_days(kind: str) -> int | None:
    return current_app.config["REMIND_QUIET_DAYS"] if kind == "reminder" else None


def _first(kind: str, audience: audiences.Audience) -> Invitation | None:
    quiet = _quiet_days(kind)
    query = (
        audiences.due(audience, quiet)
        if quiet is not None
        else audiences.members(audience).order_by(Invitation.name, Invitation.id)
    )
    return db.session.scalars(query.limit(1)).first()


def _group_page(
    kind: str, schedule_form: ScheduleForm | None = None, status: int = 200, note_form: CoveringNoteForm | None = None
):
    audience = _audience(kind, request.args if request.method == "GET" else request.form)
    quiet = _quiet_days(kind)
    counted = audiences.count(audience, quiet)
    first = _first(kind, audience)
    preview = None
    if first is not None:
        message = mailing.draft(kind, first)
        try:
            text = mail_links.masked(compose(message).body_text)
        except CannotCompose as error:
            text = f"This message can't be written: {error}."
        preview = {"person": first, "subject": message.subject, "text": text}
    summit = summits.get_summit()
    return render_template(
        "invitations/organiser_group_send.html",
        kind=kind,
        audience=audience,
        group=audiences.describe(audience),
        counted=counted,
        quiet_days=quiet,
        full=summit.places_left == 0 and kind == "reminder" and counted.urged_while_full > 0,
        preview=preview,
        mask=mail_links.MASK,
        form=ConfirmStepForm(),
        schedule_form=schedule_form or ScheduleForm(),
        note_form=note_form or CoveringNoteForm(),
        states=audiences.STATES,
        organisations=audiences.organisations(),
        leaders=audiences.leaders(),
        fringe=audiences.fringe_choices(),
    ), status


@bp.get("/invitations/send")
@organiser_required
def send_all():
    return _group_page("invitation")


@bp.get("/reminders")
@organiser_required
def reminders():
    return _group_page("reminder")


@bp.get("/<any(invitation, reminder):kind>/preview")
@organiser_required
def preview(kind: str):
    """The HTML the group's first person would get, in a sandboxed frame: no scripts, nothing fetched, links
    masked."""
    first = _first(kind, _audience(kind, request.args))
    try:
        html = (
            mail_links.masked(compose(mailing.draft(kind, first)).body_html)
            if first is not None
            else "<p>Nobody in this group would be sent one now, so there is nothing to preview.</p>"
        )
    except CannotCompose as error:
        html = f"<p>This message can't be written: {error}.</p>"
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cache-Control"] = "no-store"
    return response


def _send(kind: str):
    form = ConfirmStepForm()
    if not form.validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    audience = _audience(kind, request.form)
    quiet = _quiet_days(kind)
    back = url_for(".send_all" if kind == "invitation" else ".reminders", **_nonempty(audience))  # type: ignore[arg-type]
    # Invitations may carry a one-off covering note (the organisers' markup, checked as their wording is).
    note = (request.form.get("note") or "").strip() if kind == "invitation" else ""
    problems = wording.note_problems(note, MESSAGE_KINDS["invitation"]) if note else []
    if problems:
        note_form = CoveringNoteForm()
        note_form.note.errors = problems
        return _group_page(kind, status=422, note_form=note_form)
    if not form.confirmed:
        counted = audiences.count(audience, quiet)
        return render_template(
            "invitations/organiser_group_confirm.html",
            kind=kind,
            audience=audience,
            group=audiences.describe(audience),
            counted=counted,
            how_many=counted.in_group if quiet is None else counted.to_send,
            back_url=back,
            full=summits.get_summit().places_left == 0 and kind == "reminder" and counted.urged_while_full > 0,
            note=note,
        )
    if kind == "invitation":
        sent = mailing.send_invitations(audience, actor=current_user, covering_note=note)
        words = f"{sent} invitation{'s are' if sent != 1 else ' is'} queued to send. Follow them on the Mail page."
    else:
        assert quiet is not None
        sent = mailing.send_reminders(audience, quiet_days=quiet, actor=current_user)
        words = f"{sent} reminder{'s are' if sent != 1 else ' is'} queued to send. Follow them on the Mail page."
    db.session.commit()
    flash(words, "success")
    return redirect(back)


@bp.post("/invitations/send")
@organiser_required
def send_invitations():
    return _send("invitation")


@bp.post("/reminders")
@organiser_required
def send_reminders():
    return _send("reminder")


def _nonempty(audience: audiences.Audience) -> dict[str, str]:
    return {k: v for k, v in audience.as_dict().items() if v and not (k == "state" and v == audiences.NOT_SENT)}


@bp.post("/<any(invitation, reminder):kind>/schedule")
@organiser_required
def schedule(kind: str):
    form = ScheduleForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, "This form has expired. Go back, reload the page and try again.")
        return _group_page(kind, form, 422)
    audience = _audience(kind, request.form)
    # The covering note typed on the invitations page goes with them, checked now as it is for sending at once.
    note = (request.form.get("note") or "").strip() if kind == "invitation" else ""
    problems = wording.note_problems(note, MESSAGE_KINDS["invitation"]) if note else []
    if problems:
        note_form = CoveringNoteForm()
        note_form.note.errors = problems
        return _group_page(kind, form, 422, note_form=note_form)
    done = run_action(
        lambda: scheduled_sends.schedule(
            KINDS[kind], audience, form.due_at.data, actor=current_user, covering_note=note
        ),
        form=form,
        success=lambda row: (
            f"Scheduled: the {scheduled_sends.KIND_WORDS[row.kind]} will go at the time you chose"
            + (", with your covering note." if row.covering_note else ".")
        ),
    )
    if not done.ok:
        return _group_page(kind, form, 422)
    return redirect(url_for(".scheduled"))


@bp.get("/scheduled")
@organiser_required
def scheduled():
    rows = scheduled_sends.waiting()
    return render_template(
        "invitations/organiser_scheduled.html",
        rows=[
            (row, audiences.describe(scheduled_sends.audience_of(row)), scheduled_sends.how_many_now(row))
            for row in rows
        ],
        done=[(row, audiences.describe(scheduled_sends.audience_of(row))) for row in scheduled_sends.recently_done()],
        words=scheduled_sends.KIND_WORDS,
        form=ConfirmForm(),
    )


@bp.post("/scheduled/<int:scheduled_id>/cancel")
@organiser_required
def cancel_scheduled(scheduled_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400, "This form has expired. Go back, reload the page and try again.")
    run_action(
        lambda: scheduled_sends.cancel(scheduled_id, actor=current_user),
        success=lambda row: f"Cancelled: those {scheduled_sends.KIND_WORDS[row.kind]} won't be sent.",
    )
    return redirect(url_for(".scheduled"))
