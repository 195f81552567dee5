"""The delegate's pages, all under their personal link /i/<token>."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, url_for

from app.core import mobile_numbers
from app.core.actions import run_action
from app.core.auth.decorators import mark
from app.core.db import db, utcnow
from app.core.downloads import name_download
from app.core.errors import InvalidState, SummitFull
from app.core.extensions import personal_link_limit
from app.core.forms import ConfirmForm
from app.core.security import private_page
from app.core.summit import settings as summit_settings
from invitations import answers, handing_on, journey, links, signals, texting, waitlist
from invitations.forms import ColleagueForm, DeclineForm, DetailsForm, RegistrationForm, with_questions
from invitations.links import invitation_for_link
from invitations.models import Invitation, InvitationState
from invitations.privacy import erase_on_request, export_personal_data

bp = Blueprint("invitations", __name__, url_prefix="/i")
S = InvitationState

personal_link_limit()(bp)
bp.after_request(private_page)


def page_context(invitation: Invitation, token: str, **extra) -> dict:
    """What every page under the personal link shows: the person, their link and the summit."""
    summit = summit_settings.get_summit()
    return dict(invitation=invitation, token=token, summit=summit, **extra)


def _form_page(template: str, invitation: Invitation, token: str, form):
    """The form (again): 422 when it was sent and didn't pass, else 200."""
    status = 422 if form.is_submitted() else 200
    return render_template(template, **page_context(invitation, token, form=form)), status


def _details_form(form_class, invitation: Invitation):
    """The registration or details form, with the organisers' questions, filled in from what they gave before."""
    questions = answers.shown_questions()
    current = answers.current_values(invitation.id) if questions else {}
    held = {i for value in current.values() if isinstance(value, list) for i in value}
    form = with_questions(form_class, questions, held)(obj=invitation)
    form.questions = questions
    if not form.is_submitted():  # a POST needn't read what they gave before
        if invitation.registration is not None:
            form.dietary.data = invitation.registration.dietary
            form.access_needs.data = invitation.registration.access_needs
        form.mobile.data = mobile_numbers.shown(invitation.mobile)
        for question in questions:
            value = current.get(question.id)
            if value is not None:
                chosen = [str(i) for i in value] if isinstance(value, list) else value
                form[question.field_name].data = chosen[0] if question.kind.value == "one_choice" and chosen else chosen
    return form


def _details(form) -> journey.RegistrationDetails:
    submitted: dict[int, str | list[int]] = {}
    for question in form.questions:
        data = form[question.field_name].data
        if question.kind.has_options:
            values = data if isinstance(data, list) else ([data] if data else [])
            submitted[question.id] = [int(v) for v in values if str(v).isdigit()]
        else:
            submitted[question.id] = data or ""
    return journey.RegistrationDetails(
        name=form.name.data or "",
        organisation=form.organisation.data or "",
        job_title=form.job_title.data or "",
        dietary=form.dietary.data or "",
        access_needs=form.access_needs.data or "",
        answers=submitted,
        mobile=form.mobile.data or "",
    )


def _refreshed(form, invitation: Invitation):
    """After a refusal (rolled back): the form as sent, with the options' places as they are now and its errors."""
    db.session.expire_all()
    fresh = _details_form(type(form).__mro__[1], invitation)
    for name, errors in form.errors.items():
        if name in fresh:
            fresh[name].errors = list(errors)
    return fresh


def _colleague(form: ColleagueForm) -> handing_on.Colleague:
    return handing_on.Colleague(
        name=form.name.data,
        email=form.email.data,
        organisation=form.organisation.data,
        job_title=form.job_title.data or "",
    )


def _cancelled(outcome: waitlist.PlaceGivenUp) -> str:
    if outcome.offered_on:
        return (
            "Your place is cancelled and has been offered to the next person on the waiting list. "
            "Thank you for freeing it."
        )
    return "Your place is cancelled, and it's free again for someone else. Thank you for letting us know."


def _declined(outcome: journey.Declined) -> str:
    if outcome.was == S.OFFERED:
        if outcome.place.offered_on:
            return (
                "You've turned down the place we offered you, and it has gone to the next person on the waiting list."
            )
        return "You've turned down the place we offered you, and it's free again for someone else."
    if outcome.was == S.WAITLISTED:
        return "You've left the waiting list. If your plans change, you can still register here while places remain."
    return "Thank you for letting us know. If your plans change, this link will still let you register while places remain."


def _still_waiting(invitation: Invitation) -> str:
    position = waitlist.waitlist_position(invitation)
    where = f" (number {position} in the queue)" if position else ""
    return (
        f"You're on the waiting list{where}, so there's nothing to fill in yet: "
        "we'll email you as soon as a place is free, and hold it for you."
    )


@bp.get("/<token>")
def home(token: str):
    """The person's page. Everything it shows is read here, once, and handed to the templates; after the first
    opening (recorded once) a view writes nothing. An offer that has run out shows as lapsed, from the time, until
    the mail worker (or the next write that needs the place) expires it."""
    invitation = invitation_for_link(token, live=False, with_places=True)
    if links.mark_opened(invitation):
        db.session.commit()
    if invitation.state == S.HANDED_ON:
        colleague = db.session.query(Invitation).filter(Invitation.substitute_for_id == invitation.id).first()
        return render_template("invitations/handed_on.html", **page_context(invitation, token, colleague=colleague))
    now = utcnow()
    summit = summit_settings.get_summit()
    g.site_name = summit.name  # the page's title and footer need no look-up of their own
    extra: dict = {}
    for _receiver, added in signals.personal_page_shown.send(invitation, summit=summit, now=now):
        extra.update(added or {})
    entry = invitation.waitlist_entry
    context = dict(
        invitation=invitation,
        token=token,
        summit=summit,
        form=ConfirmForm(),
        position=waitlist.waitlist_position(invitation),
        offer_lapsed=invitation.state == S.OFFERED and entry is not None and waitlist.offer_lapsed(entry, now),
        mobile=mobile_numbers.shown(invitation.mobile),
        # Their answers to the organisers' questions, in "Your details" (a registered person's page only).
        answers=answers.shown_answers(invitation.id) if invitation.state == S.REGISTERED else [],
        **extra,
    )
    template = "invitations/personal.html" if invitation.state == S.REGISTERED else "invitations/welcome.html"
    return render_template(template, **context)


@bp.route("/<token>/register", methods=["GET", "POST"])
def register(token: str):
    invitation = invitation_for_link(token)
    form = _details_form(RegistrationForm, invitation)
    if not form.is_submitted():
        # Never a form they can't use: the registered see their page, those waiting their place in the queue,
        # and when the summit is full (and no place is held for them) the way to join the waiting list.
        if invitation.state == S.REGISTERED:
            return redirect(url_for(".home", token=token))
        if invitation.state == S.WAITLISTED:
            flash(_still_waiting(invitation), "info")
            return redirect(url_for(".home", token=token))
        summit = summit_settings.get_summit()
        if invitation.state != S.OFFERED and summit.places_left <= 0 and summit.registration_open(utcnow()):
            message = "The summit is full. Join the waiting list and we'll offer you the next free place."
            context = page_context(invitation, token, form=ConfirmForm(), message=message, just_gone=False)
            return render_template("invitations/full.html", **context)
    if not form.validate_on_submit():
        return _form_page("invitations/register.html", invitation, token, form)
    # A lapsed offer is flashed (its expiry stands); registration closed or a changed state, flashed too.
    done = run_action(
        lambda: journey.register(invitation, _details(form)),
        form=form,
        quiet=SummitFull,
        success="You're registered. We've emailed you a confirmation.",
    )
    if done.field is not None:  # an option filled up while they chose: the page again, the sentence beside it
        return _form_page("invitations/register.html", invitation, token, _refreshed(form, invitation))
    if isinstance(done.error, SummitFull):
        if invitation.state == S.WAITLISTED:  # already waiting: not the offer to join what they're on
            flash(_still_waiting(invitation), "info")
            return redirect(url_for(".home", token=token))
        context = page_context(invitation, token, form=ConfirmForm(), message=done.error.message, just_gone=True)
        return render_template("invitations/full.html", **context), 409
    return redirect(url_for(".home", token=token))


@bp.post("/<token>/waiting-list")
def join_waitlist(token: str):
    invitation = invitation_for_link(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: journey.join_waitlist(invitation),
        success="You're on the waiting list. We'll email you as soon as a place is free.",
    )
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/decline", methods=["GET", "POST"])
def decline(token: str):
    invitation = invitation_for_link(token)
    form = DeclineForm()
    if invitation.state == S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".cancel", token=token))
    if not form.validate_on_submit():
        return _form_page("invitations/decline.html", invitation, token, form)
    run_action(lambda: journey.decline(invitation, form.reason.data or ""), success=_declined)
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/details", methods=["GET", "POST"])
def details(token: str):
    invitation = invitation_for_link(token)
    form = _details_form(DetailsForm, invitation)
    if invitation.state != S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".home", token=token))
    if not form.validate_on_submit():
        return _form_page("invitations/details.html", invitation, token, form)
    done = run_action(
        lambda: journey.update_details(invitation, _details(form)), form=form, success="Your details are saved."
    )
    if done.field is not None:
        return _form_page("invitations/details.html", invitation, token, _refreshed(form, invitation))
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/cancel", methods=["GET", "POST"])
def cancel(token: str):
    invitation = invitation_for_link(token)
    form = ConfirmForm()
    if invitation.state != S.REGISTERED and not form.is_submitted():
        return redirect(url_for(".home", token=token))
    if not form.validate_on_submit():
        waiting = waitlist.waitlist_length()  # what the page says will become of the place
        return render_template("invitations/cancel.html", **page_context(invitation, token, form=form, waiting=waiting))
    run_action(lambda: journey.cancel_registration(invitation), success=_cancelled)
    return redirect(url_for(".home", token=token))


@bp.route("/<token>/colleague", methods=["GET", "POST"])
def colleague(token: str):
    invitation = invitation_for_link(token)
    form = ColleagueForm()
    if form.validate_on_submit():
        done = run_action(
            lambda: handing_on.hand_on(invitation, _colleague(form)),
            form=form,
            success=lambda new: f"Done. We've sent {new.name} their own link.",
        )
        if done.field is None:  # handed on, or refused with a sentence for the page as it stands
            return redirect(url_for(".home", token=token))
    return _form_page("invitations/colleague.html", invitation, token, form)


@bp.post("/<token>/texts/stop")
def stop_texts(token: str):
    invitation = invitation_for_link(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: texting.stop_texts(invitation, "page"),
        success="Done: we won't text you. Your emails and your place are as they were.",
    )
    return redirect(url_for(".home", token=token))


@bp.post("/<token>/texts/start")
def start_texts(token: str):
    invitation = invitation_for_link(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: texting.start_texts(invitation),
        success=lambda started: "We'll text you on the day again." if started else None,
    )
    return redirect(url_for(".home", token=token))


@bp.get("/<token>/my-data.json")
def my_data(token: str):
    """A copy of everything we hold about this person (a subject access request, self-served); their link
    keeps this page, and the next, after they hand their invitation on."""
    invitation = invitation_for_link(token, live=False)
    response = jsonify(export_personal_data(invitation))
    return name_download(response, "my-new-horizons-data.json")


@bp.route("/<token>/erase", methods=["GET", "POST"])
def erase(token: str):
    invitation = invitation_for_link(token, live=False)
    form = ConfirmForm()
    if not form.validate_on_submit():
        return render_template("invitations/erase.html", **page_context(invitation, token, form=form))
    done = run_action(lambda: erase_on_request(invitation), errors=InvalidState, quiet=InvalidState)
    if done.error is None or invitation.erased_at is not None:  # erased, perhaps a moment ago in another tab
        return render_template("invitations/erased.html", summit=summit_settings.get_summit())
    flash(done.error.message, "error")
    return redirect(url_for(".home", token=token))


# A form sent with a stale token comes back filled in (app.__init__.stale_form): each validates before it acts.
for _view in (register, decline, details, colleague):
    mark(_view, rerenders_stale_form=True)
