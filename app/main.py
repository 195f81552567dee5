"""Public pages (landing, privacy notice, health) and the staff home page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from app.auth.decorators import roles_required
from app.auth.models import Role
from app.dashboards.routes import render_leader_page
from app.db import db
from app.summit import services as summit_services

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated and current_user.role == Role.ORGANISER:
        return redirect(url_for("organiser.dashboard"))
    return render_template("main/index.html", summit=summit_services.find_summit())


@bp.get("/privacy")
def privacy():
    return render_template("main/privacy.html", summit=summit_services.find_summit())


@bp.get("/ping")
def ping():
    """A constant answer with no database: the ceiling of the stack, for benchmarks and load balancers."""
    return "ok", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


@bp.get("/staff")
@roles_required(Role.ORGANISER, Role.LEADER, Role.STEWARD)
def staff_home():
    if current_user.role == Role.LEADER:
        return render_leader_page(current_user, readonly=False)
    return render_template("main/staff_home.html", summit=summit_services.find_summit())
