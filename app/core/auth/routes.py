"""Sign-in and sign-out for staff."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from app.core.actions import run_action
from app.core.auth import council, credentials, invites, password_reset, sessions, staff_links
from app.core.auth.decorators import mark
from app.core.auth.forms import EmailLinkForm, NewPasswordForm, SignInForm
from app.core.auth.models import Role, User
from app.core.db import db
from app.core.extensions import (
    email_link_limits,
    failed_lookup,
    issued_sign_in_link,
    issued_staff_link,
    limiter,
    sign_in_limits,
)
from app.core.forms import STALE_FORM, ConfirmForm
from app.core.security import private_page
from app.core.urls import external_url

bp = Blueprint("auth", __name__)


def home_for(user: User) -> str:
    if user.role == Role.ORGANISER:
        return url_for("organiser.dashboard")
    if user.role == Role.LEADER:
        return url_for("dashboards.leader_home")
    if user.role == Role.STEWARD:
        return url_for("checkin.scanner")  # a steward signs in at the door: straight to the scanner
    return url_for("main.staff_home")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, a scheme, or a protocol-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@sign_in_limits
def sign_in():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    if form.validate_on_submit():
        user = credentials.authenticate(form.email.data, form.password.data)
        if user is not None:
            sessions.sign_in(user, remember=bool(form.remember.data))
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        form.password.errors.append("That email and password don't match an account. Check them and try again.")
        return _sign_in_page(form), 401
    status = 422 if request.method == "POST" else 200
    return _sign_in_page(form), status


def _sign_in_page(form: SignInForm):
    council_url = None
    if council.enabled():
        council_url = url_for(".council_sign_in", next=_safe_next(request.args.get("next")))
    return render_template("auth/sign_in.html", form=form, council_url=council_url)


@bp.post("/sign-out")
@login_required
def sign_out():
    """Ends this browser's sign-in and its remember cookie (a copy of either opens nothing afterwards); the
    account's other sign-ins go on ("Sign out everywhere", on the account page, ends those)."""
    sessions.sign_out()
    db.session.commit()
    flash("You're signed out.", "info")
    return redirect(url_for("auth.sign_in"))


# --- signing in with a council account (OpenID Connect with Microsoft Entra ID) -------------------------

_COUNCIL_NEXT = "council_sign_in_next"  # where to go after the sign-in, kept in this browser's session meanwhile


def _council_set_up() -> None:
    if not council.enabled():
        abort(404)  # not set up here: the sign-in page offers no such button either


@bp.get("/sign-in/council")
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"])
def council_sign_in():
    """Off to the council's Microsoft sign-in. A link, not a form: the content security policy's form-action
    'self' would stop a form's redirect to Microsoft; what starts here signs nobody in until it comes back
    to the callback with this browser's own state."""
    _council_set_up()
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    session[_COUNCIL_NEXT] = _safe_next(request.args.get("next"))
    try:
        return council.redirect_to_provider(external_url("auth.council_callback"))
    except council.CouncilSignInRefused as refused:
        return render_template("auth/council_refused.html", message=refused.message), refused.status


@bp.get("/sign-in/council/callback")
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"])
def council_callback():
    """Microsoft sends the browser back here with a code and the state: check both, and the ID token they lead
    to, then sign in the staff account with that address, if there is one that may sign in."""
    _council_set_up()
    try:
        identity = council.identity_from_callback()
        user = council.sign_in_account(identity)
    except council.CouncilSignInRefused as refused:
        db.session.rollback()
        current_app.logger.info("council sign-in refused: %s", refused.reason)
        return render_template("auth/council_refused.html", message=refused.message), refused.status
    if current_user.is_authenticated:
        sessions.sign_out()  # signed in meanwhile in another tab: that sign-in ends, this one takes its place
    sessions.sign_in(user, remember=False)
    db.session.commit()
    return redirect(_safe_next(session.pop(_COUNCIL_NEXT, None)) or home_for(user), 303)


# --- a leader's one-time sign-in link ------------------------------------------------------------


@bp.route("/sign-in/email-link", methods=["GET", "POST"])
@email_link_limits("sign-in-link")
def request_link():
    """Leaders sign in from an emailed link. The answer is the same whoever the address belongs to."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        credentials.send_sign_in_link(form.email.data)
        db.session.commit()
        minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
        return render_template(
            "auth/link_sent.html",
            email=form.email.data.strip(),
            whose="belongs to a leader's account",
            what="a sign-in link",
            detail=f"Open it on the phone or computer you want to use. It works once, within {minutes} minutes, "
            "and keeps you signed in there.",
            again_url=url_for(".request_link"),
            again="ask for another link",
            help="Links are only for leaders' accounts: organisers and stewards sign in with their password (and "
            "can set a new one from “Forgotten your password?” on the sign-in page). If you are a leader and "
            "nothing comes, an organiser can look up the address and role of your account on their Team page, "
            "and on their Mail page whether a link was sent to it.",
        )
    if not form.is_submitted() and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    status = 422 if form.is_submitted() else 200
    return render_template("auth/email_link.html", form=form), status


def _link_refused(found: credentials.LinkCheck):
    """A link that won't sign in: say why, and offer another straight away (to its own address, when known)."""
    form = EmailLinkForm(formdata=None, email=found.user.email if found.user else "")
    status = {"unknown": 404, "used": 410, "expired": 410}[found.problem or "unknown"]
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    return render_template("auth/link_refused.html", problem=found.problem, form=form, minutes=minutes), status


@bp.route("/sign-in/link/<token>", methods=["GET", "POST"])
# Only a guess counts or is refused: a link we issued (its MAC checks out) always gets its answer.
@limiter.limit(
    lambda: current_app.config["LINK_LOOKUP_RATE_LIMIT"], deduct_when=failed_lookup, exempt_when=issued_sign_in_link
)
def link_sign_in(token: str):
    """The emailed link. Opening it (GET) spends nothing and signs nobody in: it shows a button, "Sign in as
    <name>", and only that button's POST (with its CSRF token) signs in and uses the link up. Mail scanners open
    links, and some run the page's scripts too (Microsoft Defender's does), but none presses a button; a page
    that posted itself would sign the scanner in. We chose the press over "only in the browser that asked for
    the link": leaders ask on one device and open their email on another (the laptop, then the phone)."""
    found = credentials.check_sign_in_link(token)
    if current_user.is_authenticated and found.user is not None and current_user.id == found.user.id:
        return redirect(home_for(current_user))  # opened again on the phone it already signed in
    if found.problem is not None:
        return _link_refused(found)
    form = ConfirmForm()
    if request.method == "GET":
        return render_template("auth/link_sign_in.html", form=form, user=found.user)
    if not form.validate_on_submit():
        abort(400)
    spent = credentials.use_sign_in_link(token)
    if spent.problem is not None or spent.user is None:
        db.session.rollback()
        return _link_refused(spent)
    sessions.sign_in(spent.user, remember=True)  # remembered on their own phone: the next visit needs no link
    db.session.commit()
    return redirect(home_for(spent.user), 303)


# --- a staff invitation, and "Forgotten your password?" --------------------------------------------------

_staff_link_limit = limiter.limit(
    lambda: current_app.config["LINK_LOOKUP_RATE_LIMIT"],
    scope="staff-link",
    deduct_when=failed_lookup,
    exempt_when=issued_staff_link,
)


def _staff_link_refused(found: staff_links.StaffLinkCheck, kind: str):
    """A used (or replaced by events), expired or unknown link: a sentence and what to do next, 410 or 404."""
    return render_template(
        "auth/staff_link_refused.html", problem=found.problem, kind=kind, user=found.user
    ), found.status


@bp.route("/sign-in/join/<token>", methods=["GET", "POST"])
@_staff_link_limit
def join(token: str):
    """An invitation to the team. Opening it (GET) shows the form and spends nothing, so a mail scanner that
    follows links changes nothing; only the POST (with its CSRF token) opens the account and signs in."""
    found = staff_links.check(token, staff_links.StaffLinkPurpose.INVITATION)
    if found.problem is not None or found.user is None:
        return _staff_link_refused(found, "invitation")
    user = found.user
    by_link = user.role in credentials.SIGN_IN_BY_LINK
    form = NewPasswordForm(formdata=None) if request.method == "GET" else NewPasswordForm()
    link_form = ConfirmForm(formdata=None)
    if request.method == "POST":
        without_password = request.form.get("how") == "link"
        stale = without_password and not ConfirmForm().validate_on_submit()
        if stale:
            flash(STALE_FORM, "error")  # nothing done: the page comes back with a fresh token to press again
        elif without_password or form.validate_on_submit():
            outcome = run_action(
                lambda: invites.accept(
                    token,
                    password=None if without_password else form.new_password.data,
                    repeated=None if without_password else form.repeat_password.data,
                ),
                form=form,
            )
            if outcome.ok and outcome.value.problem is not None:
                return _staff_link_refused(outcome.value, "invitation")
            if outcome.ok:
                sessions.sign_in(user, remember=without_password)
                db.session.commit()
                flash(f"Welcome, {user.name}: you're signed in.", "success")
                return redirect(home_for(user), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/join.html", form=form, link_form=link_form, user=user, by_link=by_link), status


@bp.route("/sign-in/forgotten-password", methods=["GET", "POST"])
@email_link_limits("password-reset")
def forgotten_password():
    """Staff ask for a reset link. The answer, and the work behind it, are the same whoever the address is."""
    form = EmailLinkForm()
    if form.validate_on_submit():
        password_reset.send_reset_link(form.email.data)
        db.session.commit()
        minutes = current_app.config["PASSWORD_RESET_MINUTES"]
        return render_template(
            "auth/link_sent.html",
            email=form.email.data.strip(),
            whose="belongs to an active staff account",
            what="a link to choose a new password",
            detail=f"It works once, within {minutes} minutes. Your password stays as it is until you use it.",
            again_url=url_for(".forgotten_password"),
            again="ask for another link",
            help="Delegates don't have a password: use the link in your invitation. If you were invited to the team "
            "and haven't accepted yet, use the invitation's link (an organiser can re-send it).",
        )
    if not form.is_submitted() and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgotten_password.html", form=form), status


@bp.route("/sign-in/reset/<token>", methods=["GET", "POST"])
@_staff_link_limit
def reset_password(token: str):
    """The emailed reset link: the form (GET), then the new password (POST), which signs out every other sign-in."""
    found = staff_links.check(token, staff_links.StaffLinkPurpose.PASSWORD_RESET)
    if found.problem is not None or found.user is None:
        return _staff_link_refused(found, "reset")
    user = found.user
    form = NewPasswordForm(formdata=None) if request.method == "GET" else NewPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        outcome = run_action(
            lambda: password_reset.reset_password(
                token, password=form.new_password.data, repeated=form.repeat_password.data
            ),
            form=form,
        )
        if outcome.ok and outcome.value.problem is not None:
            return _staff_link_refused(outcome.value, "reset")
        if outcome.ok:
            sessions.sign_in(user, remember=False)
            db.session.commit()
            flash(
                "Your new password is set and you're signed in here. Everywhere else you were signed in (other "
                "browsers, remembered phones, scanners' API tokens) has been signed out.",
                "success",
            )
            return redirect(home_for(user), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/reset_password.html", form=form, user=user), status


_PRIVATE = {"auth.link_sign_in", "auth.join", "auth.reset_password", "auth.council_callback"}
bp.after_request(lambda response: private_page(response) if request.endpoint in _PRIVATE else response)

mark(sign_in, allowed_roles=None, rerenders_stale_form=True)  # public
mark(request_link, allowed_roles=None, rerenders_stale_form=True)  # public
mark(council_sign_in, allowed_roles=None)  # public: Microsoft and the account's address decide who signs in
mark(council_callback, allowed_roles=None)  # public: only this browser's own state and a valid ID token sign in
mark(link_sign_in, allowed_roles=None)  # public: the token is the credential
mark(join, allowed_roles=None, rerenders_stale_form=True)  # public: the token is the credential
mark(forgotten_password, allowed_roles=None, rerenders_stale_form=True)  # public
mark(reset_password, allowed_roles=None, rerenders_stale_form=True)  # public: the token is the credential
