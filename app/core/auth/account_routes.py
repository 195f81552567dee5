"""Every staff member's own account page (change the password, sign out everywhere), and the organisers' Team
page (every staff account: invited, invitations re-sent, roles changed, deactivated and reactivated there)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.actions import run_action
from app.core.auth import accounts, invites, sessions
from app.core.auth.decorators import mark, organiser_required, roles_required
from app.core.auth.forms import InviteForm, PasswordChangeForm, RoleForm
from app.core.auth.models import Role, User
from app.core.db import db
from app.core.extensions import limiter
from app.core.forms import ConfirmForm

bp = Blueprint("account", __name__, url_prefix="/account")
team_bp = Blueprint("team", __name__, url_prefix="/organiser/team")

staff_required = roles_required(Role.ORGANISER, Role.LEADER, Role.STEWARD)


def _account_page(password_form: PasswordChangeForm, status: int = 200):
    return render_template(
        "auth/account.html", password_form=password_form, everywhere_form=ConfirmForm(formdata=None)
    ), status


@bp.get("")
@staff_required
def account():
    return _account_page(PasswordChangeForm(formdata=None))


@bp.post("/password")
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"])  # guesses at the current password
@staff_required
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    user = current_user._get_current_object()
    remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies

    def change() -> None:
        accounts.change_password(
            user, current=form.current_password.data, new=form.new_password.data, repeated=form.repeat_password.data
        )
        sessions.sign_in(user, remember=remembered)  # this browser stays signed in, on a sign-in of its own

    outcome = run_action(
        change,
        form=form,
        success="Your password is changed. You're still signed in here; everywhere else you were signed in "
        "(other browsers, remembered phones, scanners' API tokens) has been signed out.",
    )
    if not outcome.ok:
        return _account_page(form, 422)
    return redirect(url_for(".account"), 303)


@bp.post("/sign-out-everywhere")
@staff_required
def sign_out_everywhere():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    accounts.sign_out_everywhere(current_user._get_current_object())
    sessions.sign_out()
    db.session.commit()
    flash(
        "You're signed out everywhere: on every browser and phone, and every scanner's API token of your account "
        "has stopped working. Sign in again here when you need to.",
        "info",
    )
    return redirect(url_for("auth.sign_in"), 303)


# --- the organisers' Team page ---------------------------------------------------------------------------


def _team_page(invite_form: InviteForm | None = None, status: int = 200):
    return render_template(
        "auth/team.html",
        people=accounts.team(),
        invite_form=invite_form or InviteForm(formdata=None),
        resend_form=ConfirmForm(formdata=None),
    ), status


@team_bp.get("/")
@organiser_required
def team():
    return _team_page()


@team_bp.post("/invite")
@organiser_required
def invite():
    """Make the account (inactive until accepted) and email the person a one-time link to join."""
    form = InviteForm()
    if not form.validate_on_submit():
        return _team_page(form, 422)
    outcome = run_action(
        lambda: invites.invite(
            form.email.data, name=form.name.data, role=Role(form.role.data), actor=current_user._get_current_object()
        ),
        form=form,
        success=lambda user: (
            f"{user.name} is invited as {user.role.label.lower()}: we've emailed {user.email} a "
            f"link to join, which works once within {current_app.config['STAFF_INVITATION_DAYS']} days."
        ),
    )
    if not outcome.ok:
        return _team_page(form, 422)
    return redirect(url_for(".team"), 303)


@team_bp.post("/<int:user_id>/resend")
@organiser_required
def resend_invitation(user_id: int):
    person = _target(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: invites.resend(person, actor=current_user._get_current_object()),
        success=f"We've emailed {person.name} a new link to join; the one sent before no longer works.",
    )
    return redirect(url_for(".team"), 303)


@team_bp.route("/<int:user_id>/withdraw", methods=["GET", "POST"])
@organiser_required
def withdraw_invitation(user_id: int):
    """The confirmation page (GET), or taking back an invitation not yet accepted (POST): its link then says so."""
    person = _target(user_id)
    form = ConfirmForm()
    if request.method == "GET":
        if not person.invitation_pending:  # an old tab, or another organiser got there first
            flash(f"{person.name} has no invitation waiting to be accepted, so there is nothing to withdraw.", "info")
            return redirect(url_for(".team"))
        return render_template("auth/team_withdraw.html", person=person, form=form)
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: invites.withdraw(person, actor=current_user._get_current_object()),
        success=f"{person.name}'s invitation is withdrawn: the link we emailed them no longer works. To invite them "
        "after all, use “Invite again”.",
    )
    return redirect(url_for(".team"), 303)


@team_bp.route("/<int:user_id>/role", methods=["GET", "POST"])
@organiser_required
def change_role(user_id: int):
    """The role page (GET), or the change (POST). A change to anything but organiser signs the person out
    everywhere."""
    person = _target(user_id)
    form = RoleForm(formdata=None, role=person.role.value) if request.method == "GET" else RoleForm()
    if request.method == "POST" and form.validate_on_submit():
        role = Role(form.role.data)
        outcome = run_action(
            lambda: accounts.change_role(person, role=role, actor=current_user._get_current_object()),
            form=form,
            success=f"{person.name} is now a{'n' if role == Role.ORGANISER else ''} {role.value}."
            + ("" if role == Role.ORGANISER else " They are signed out everywhere and sign in afresh."),
        )
        if outcome.ok:
            return redirect(url_for(".team"), 303)
        if outcome.field is None:
            return redirect(url_for(".team"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("auth/team_role.html", person=person, form=form), status


def _target(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, "There is no staff account with that number. It may have been removed.")
    return user


def _confirm_or_act(user_id: int, *, active: bool):
    """The confirmation page (GET), or the change it asks about (POST), then back to the Team page."""
    person = _target(user_id)
    form = ConfirmForm()
    if request.method == "GET":
        if person.active == active:  # an old tab, or another organiser got there first
            flash(f"{person.name}'s account is already {'active' if active else 'deactivated'}.", "info")
            return redirect(url_for(".team"))
        return render_template("auth/team_confirm.html", person=person, active=active, form=form)
    if not form.validate_on_submit():
        abort(400)
    if active:
        done = f"{person.name}'s account is active again. They sign in afresh (their old sessions stay ended)."
    else:
        done = (
            f"{person.name}'s account is deactivated: they are signed out everywhere, and their scanners' API "
            "tokens have stopped working."
        )
    run_action(
        lambda: accounts.set_active(person, active=active, actor=current_user._get_current_object()), success=done
    )
    return redirect(url_for(".team"), 303)


@team_bp.route("/<int:user_id>/deactivate", methods=["GET", "POST"])
@organiser_required
def deactivate(user_id: int):
    return _confirm_or_act(user_id, active=False)


@team_bp.route("/<int:user_id>/reactivate", methods=["GET", "POST"])
@organiser_required
def reactivate(user_id: int):
    return _confirm_or_act(user_id, active=True)


mark(change_password, rerenders_stale_form=True)
mark(invite, rerenders_stale_form=True)
mark(change_role, rerenders_stale_form=True)
