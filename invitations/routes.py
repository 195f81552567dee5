"""The delegate's pages, all under their personal link /i/<token>."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)

from app.db import db
from app.errors import (
    InvalidState,
    OfferLapsed,
    RegistrationClosed,
    SummitFull,
    ValidationFailed,
)
from app.extensions import personal_link_limit
from app.forms import ConfirmForm
from app.summit import services as summit_services
from invitations import services
from invitations.forms import ColleagueForm, DeclineForm, DetailsForm, RegistrationForm
from invitations.models import Invitation, InvitationState
from invitations.privacy import erase_on_request, export_personal_data

bp = Blueprint("invitations", __name__, url_prefix="/i")
S = InvitationState

personal_link_limit()(bp)


@bp.after_request
def _private(response):
    # A personal page is a credential's view: never cached by shared caches, never leaked as a referrer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _load(token: str) -> Invitation:
    """The invitation behind a link, or a 404 that says nothing about whether anyone else exists."""
    invitation = services.invitation_for_token(token)
    if invitation is None or invitation.state == S.REVOKED:
        abort(404)
    return invitation


def _live(token: str) -> Invitation:
    """As _load, and the link must still be usable (not handed on)."""
    invitation = _load(token)
    if invitation.state == S.HANDED_ON:
        abort(410)
    return invitation


def _details(form) -> services.RegistrationDetails:
    return services.RegistrationDetails(
        name=form.name.data or "", organisation=form.organisation.data or "", job_title=form.job_title.data or "",
        dietary=form.dietary.data or "", access_needs=form.access_needs.data or "",
    )


def _page(invitation: Invitation, token: str, **extra):
    summit = summit_services.get_summit()
    return dict(invitation=invitation, token=token, summit=summit, **extra)


@bp.get("/<token>")
def home(token: str):
    invitation = _load(token)
    services.mark_opened(invitation)
    services.expire_offers()
    db.session.commit()
    if invitation.state == S.HANDED_ON:
        colleague = db.session.query(Invitation).filter(Invitation.substitute_for_id == invitation.id).first()
        return render_template("invitations/handed_on.html", **_page(invitation, token, colleague=colleague))
    context = _page(invitation, token, form=ConfirmForm(), position=services.waitlist_position(invitation))
    template = "invitations/personal.html" if invitation.state == S.REGISTERED else "invitations/welcome.html"
    return render_template(template, **context)


@bp.route("/<token>/register", methods=["GET", "POST"])
def register(token: str):
    invitation = _live(token)
    form = RegistrationForm(obj=invitation)
    if invitation.state == S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".home", token=token))
    if invitation.registration is not None and not form.is_submitted():
        form.dietary.data = invitation.registration.dietary
        form.access_needs.data = invitation.registration.access_needs
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("invitations/register.html", **_page(invitation, token, form=form)), status
    try:
        services.register(invitation, _details(form))
    except SummitFull as full:
        db.session.rollback()
        return render_template("invitations/full.html", **_page(invitation, token, form=ConfirmForm(), message=full.message)), 409
    except OfferLapsed as lapsed:
        db.session.commit()  # the offer's expiry stands: the place has passed on
        flash(lapsed.message, "error")
        return redirect(url_for(".home", token=token))
    except (RegistrationClosed, InvalidState) as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".home", token=token))
    db.session.commit()
    flash("You're registered. We've emailed you a confirmation.", "success")
    return redirect(url_for(".home", token=token))


@bp.post("/<token>/waiting-list")
def join_waitlist(token: str):
    invitation = _live(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.join_waitlist(invitation)
    except (InvalidState, RegistrationClosed) as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".home", token=token))
    db.session.commit()
    flash("You're on the waiting list. We'll email you as soon as a place is free.", "success")
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/decline", methods=["GET", "POST"])
def decline(token: str):
    invitation = _live(token)
    form = DeclineForm()
    if invitation.state == S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".cancel", token=token))
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("invitations/decline.html", **_page(invitation, token, form=form)), status
    try:
        services.decline(invitation, form.reason.data or "")
    except InvalidState as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".home", token=token))
    db.session.commit()
    flash("Thank you for letting us know. If your plans change, this link will still let you register.", "success")
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/details", methods=["GET", "POST"])
def details(token: str):
    invitation = _live(token)
    form = DetailsForm(obj=invitation)
    if invitation.state != S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".home", token=token))
    if not form.is_submitted():
        form.dietary.data = invitation.registration.dietary
        form.access_needs.data = invitation.registration.access_needs
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("invitations/details.html", **_page(invitation, token, form=form)), status
    try:
        services.update_details(invitation, _details(form))
    except InvalidState as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".home", token=token))
    db.session.commit()
    flash("Your details are saved.", "success")
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    invitation = _live(token)
    form = ConfirmForm()
    if invitation.state != S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".home", token=token))
    if not form.validate_on_submit():
        return render_template("invitations/cancel.html", **_page(invitation, token, form=form))
    try:
        outcome = services.cancel_registration(invitation)
    except InvalidState as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".home", token=token))
    db.session.commit()
    if outcome.offered_on:
        flash("Your place is cancelled and has been offered to the next person on the waiting list. "
              "Thank you for freeing it.", "success")
    else:
        flash("Your place is cancelled, and it's free again for someone else. Thank you for letting us know.", "success")
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/colleague", methods=["GET", "POST"])
def colleague(token: str):
    invitation = _live(token)
    form = ColleagueForm()
    if form.validate_on_submit():
        try:
            new = services.hand_on(invitation, services.Colleague(
                name=form.name.data, email=form.email.data, organisation=form.organisation.data,
                job_title=form.job_title.data or ""))
        except InvalidState as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for(".home", token=token))
        except ValidationFailed as error:
            db.session.rollback()
            form.email.errors.append(error.message)
        else:
            db.session.commit()
            flash(f"Done. We've sent {new.name} their own link.", "success")
            return redirect(url_for(".home", token=token))
    status = 422 if form.is_submitted() else 200
    return render_template("invitations/colleague.html", **_page(invitation, token, form=form)), status


@bp.get("/<token>/my-data.json")
def my_data(token: str):
    """A copy of everything we hold about this person (a subject access request, self-served)."""
    invitation = _live(token)
    response = jsonify(export_personal_data(invitation))
    response.headers["Content-Disposition"] = "attachment; filename=my-new-horizons-data.json"
    return response


@bp.route("/<token>/erase", methods=["GET", "POST"])
def erase(token: str):
    invitation = _live(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("invitations/erase.html", **_page(invitation, token, form=form))
    try:
        erase_on_request(invitation)
    except InvalidState as error:
        db.session.rollback()
        if invitation.erased_at is not None:  # erased a moment ago, from another tab: it's done
            return render_template("invitations/erased.html", summit=summit_services.get_summit())
        flash(error.message, "error")
        return redirect(url_for(".home", token=token))
    db.session.commit()
    return render_template("invitations/erased.html", summit=summit_services.get_summit())
