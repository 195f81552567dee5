"""Sign-in and sign-out for staff."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services
from app.auth.decorators import mark
from app.auth.forms import SignInForm
from app.auth.models import Role, User
from app.db import db
from app.extensions import limiter

bp = Blueprint("auth", __name__)


def load_user(user_id: str) -> User | None:
    try:
        return db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None


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
@limiter.limit(lambda: current_app.config["SIGNIN_RATE_LIMIT"], methods=["POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
        form.password.errors.append("That email and password don't match an account. Check them and try again.")
        return render_template("auth/sign_in.html", form=form), 401
    status = 422 if request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out():
    logout_user()
    flash("You're signed out.", "info")
    return redirect(url_for("auth.sign_in"))


mark(sign_in, allowed_roles=None)  # public
