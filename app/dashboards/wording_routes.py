"""The organisers' Emails pages: every message's wording, edited, previewed for one invitee, tested, reset."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.core.actions import run_action
from app.core.auth.decorators import organiser_required
from app.core.db import db, utcnow
from app.core.forms import ConfirmForm
from app.core.mail import links, wording
from app.core.mail.compose import CannotCompose, compose, encode
from app.core.mail.models import MessageWording, OutboxMessage
from app.core.mail.outbox import enqueue
from app.core.mail.wording_defaults import KINDS, PLACEHOLDERS, MessageKind
from app.core.summit import settings as summit_settings
from app.core.timefmt import span
from app.core.urls import external_url
from app.dashboards.forms import WordingForm
from fringe_events.calendars import event_url, place_of
from fringe_events.models import FringeEvent
from invitations import mailing
from invitations.links import token_for
from invitations.models import Invitation
from invitations.waitlist import waitlist_position

bp = Blueprint("wording", __name__, url_prefix="/organiser/emails")
LINK_KEYS = ("link", "decline_link", "event_link")


def _kind(name: str) -> MessageKind:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    return kind


@bp.get("/")
@organiser_required
def index():
    edited = {row.kind: row for row in db.session.scalars(select(MessageWording))}
    return render_template("dashboards/wording_index.html", kinds=list(KINDS.values()), edited=edited)


@bp.route("/<kind_name>", methods=["GET", "POST"])
@organiser_required
def edit(kind_name: str):
    kind = _kind(kind_name)
    subject, body, edited = wording.current(kind)
    form = WordingForm(data={"subject": subject, "body": body})
    if form.is_submitted():
        if not form.validate():  # a stale form's sentence is shown with the others
            return _edit_page(kind, form, edited), 422
        found = wording.problems(kind, form.subject.data or "", form.body.data or "")
        if found:
            form.subject.errors = list(form.subject.errors) + found.get("subject", [])
            form.body.errors = list(form.body.errors) + found.get("body", [])
            return _edit_page(kind, form, edited), 422
        changed = wording.save(kind, form.subject.data or "", form.body.data or "", actor=current_user)
        db.session.commit()
        flash(
            f"The {kind.label.lower()} email's wording is saved: messages written from now on use it."
            if changed
            else "Nothing changed, so nothing was saved.",
            "success" if changed else "info",
        )
        return redirect(url_for(".edit", kind_name=kind.name))
    return _edit_page(kind, form, edited)


def _edit_page(kind: MessageKind, form: WordingForm, edited: bool) -> str:
    return render_template(
        "dashboards/wording_edit.html",
        kind=kind,
        form=form,
        edited=edited,
        row=wording.custom(kind.name),
        placeholders=[PLACEHOLDERS[name] for name in kind.placeholders],
        confirm=ConfirmForm(),
    )


@bp.post("/<kind_name>/default")
@organiser_required
def reset(kind_name: str):
    kind = _kind(kind_name)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = run_action(
        lambda: wording.reset(kind, actor=current_user),
        success=lambda changed: f"The {kind.label.lower()} email is back to its default wording." if changed else None,
    )
    if done.ok and not done.value:
        flash("This email already has its default wording.", "info")
    return redirect(url_for(".edit", kind_name=kind.name))


# --- preview and test ----------------------------------------------------------------------------------


def _invitee() -> Invitation | None:
    """The invitee chosen in ?invitation=, or the first by name."""
    chosen = request.values.get("invitation", "")
    if chosen:
        if not chosen.isdigit():
            abort(400)
        invitation = db.session.get(Invitation, int(chosen))
        if invitation is None or invitation.erased_at is not None:
            abort(404)
        return invitation
    return db.session.scalars(
        select(Invitation).where(Invitation.erased_at.is_(None)).order_by(Invitation.name, Invitation.id)
    ).first()


def sample_context(kind: MessageKind, invitation: Invitation, organiser) -> dict | None:
    """What this kind of message would be written from, for this invitee, as the product sends it (None when
    it needs something that doesn't exist yet, such as a fringe event). A sign-in link's email is the organiser's
    own, and a nudge with no leader comes from them."""
    summit = summit_settings.get_summit()
    if kind.name == "sign_in_link":
        minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
        return {"user": organiser, "link": external_url("auth.sign_in"), "minutes": minutes}
    context = mailing.mail_context(invitation, summit)
    now = utcnow()
    if kind.name == "invitation":
        context["decline_link"] = external_url("invitations.decline", token=token_for(invitation))
    elif kind.name == "waitlist_joined":
        context["position"] = waitlist_position(invitation) or 1
    elif kind.name == "place_offered":
        context["expires_at"] = summit_settings.hold_until(summit, now)
    elif kind.name == "registration_cancelled":
        context["offered_on"] = None
    elif kind.name == "colleague_invited":
        context.update(original=invitation, had_place=False, offer_expires_at=None, waiting=False)
    elif kind.name == "handed_on":
        context["colleague"] = invitation
    elif kind.name == "summit_changed":
        when = span(summit.starts_at, summit.ends_at)
        context["changes"] = [["When", when, when]]
    elif kind.name == "leader_nudge":
        leader = invitation.champion or organiser
        context.update(leader_name=leader.name, leader_organisation=leader.organisation or "", message="")
    elif kind.name.startswith("fringe_"):
        event = db.session.scalars(select(FringeEvent).order_by(FringeEvent.starts_at, FringeEvent.id)).first()
        if event is None:
            return None
        when = span(event.starts_at, event.ends_at)
        context.update(
            event=event,
            event_link=event_url(invitation, event),
            place=place_of(event),
            changes=[["When", when, when]],
            reason="",
        )
    return context


def preview_message(kind: MessageKind, to_email: str, to_name: str, context: dict) -> OutboxMessage:
    """A message as the outbox would hold it, never added to the session: written the way the worker writes."""
    found = wording.values({"to_name": to_name, "summit_name": summit_settings.summit_name(), **context})
    return OutboxMessage(
        kind=kind.name,
        to_email=to_email,
        to_name=to_name,
        subject=wording.subject_line(kind.subject, found),
        params=encode(context),
        attachments=[],
    )


@bp.get("/<kind_name>/preview")
@organiser_required
def preview(kind_name: str):
    kind = _kind(kind_name)
    invitation = _invitee()
    written = None
    missing = ""
    if invitation is None:
        missing = "Add an invitee first: the preview shows the email as one of them would get it."
    else:
        context = sample_context(kind, invitation, current_user._get_current_object())
        if context is None:
            missing = "Add a fringe event first: this email is about one."
        else:
            message = preview_message(kind, invitation.email, invitation.name, context)
            try:
                composed = compose(message)
            except CannotCompose as error:
                abort(404, str(error))
            written = {"subject": composed.subject or message.subject, "text": links.masked(composed.body_text)}
    invitees = db.session.execute(
        select(Invitation.id, Invitation.name, Invitation.organisation)
        .where(Invitation.erased_at.is_(None))
        .order_by(Invitation.name, Invitation.id)
    ).all()
    return render_template(
        "dashboards/wording_preview.html",
        kind=kind,
        invitation=invitation,
        invitees=invitees,
        written=written,
        missing=missing,
        mask=links.MASK,
        confirm=ConfirmForm(),
    )


@bp.get("/<kind_name>/preview.html")
@organiser_required
def preview_html(kind_name: str):
    """The HTML for the preview's frame: sandboxed, nothing fetched, links masked (as the Mail page's)."""
    kind = _kind(kind_name)
    invitation = _invitee()
    context = sample_context(kind, invitation, current_user._get_current_object()) if invitation is not None else None
    if invitation is None or context is None:
        abort(404)
    body = compose(preview_message(kind, invitation.email, invitation.name, context)).body_html
    response = Response(links.masked(body), mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/<kind_name>/test")
@organiser_required
def send_test(kind_name: str):
    """Queue the email, written for the chosen invitee, to the signed-in organiser. Its links lead to the public
    summit page, not the invitee's own: opening a test must not act as them."""
    kind = _kind(kind_name)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    invitation = _invitee()
    context = sample_context(kind, invitation, current_user._get_current_object()) if invitation is not None else None
    if invitation is None or context is None:
        flash("There is nothing to write this email about yet, so no test was sent.", "error")
        return redirect(url_for(".preview", kind_name=kind.name)), 303
    public = external_url("main.index")
    context = {**context, **{key: public for key in LINK_KEYS if key in context}, "is_test": True}
    found = wording.values({"summit_name": summit_settings.summit_name(), **context})
    enqueue(
        kind.name,
        to_email=current_user.email,
        to_name=current_user.name,
        subject="Test: " + wording.subject_line(kind.subject, found),
        context=context,
    )
    db.session.commit()
    flash(f"A test of this email is queued to {current_user.email}. Follow it on the Mail page.", "success")
    return redirect(url_for(".preview", kind_name=kind.name, invitation=invitation.id))
