"""Public pages (landing, privacy notice, accessibility statement, health) and the staff home page."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy import text

from app.core.auth.decorators import roles_required
from app.core.auth.models import Role
from app.core.db import db
from app.core.summit import settings as summit_settings
from app.dashboards.routes import render_leader_page

bp = Blueprint("main", __name__)

# When the accessibility statement was prepared and last reviewed: change it whenever the statement is reviewed.
ACCESSIBILITY_STATEMENT_REVIEWED = date(2026, 12, 1)


@bp.get("/")
def index():
    if current_user.is_authenticated and current_user.role == Role.ORGANISER:
        return redirect(url_for("organiser.dashboard"))
    return render_template("public/index.html", summit=summit_settings.find_summit())


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", summit=summit_settings.find_summit())


@bp.get("/accessibility")
def accessibility():
    """The accessibility statement UK public-sector websites must publish (the GOV.UK model's sections)."""
    reviewed = ACCESSIBILITY_STATEMENT_REVIEWED
    return render_template(
        "public/accessibility.html",
        summit=summit_settings.find_summit(),
        contact=current_app.config["MAIL_FROM"],
        prepared=f"{reviewed.day} {reviewed:%B %Y}",
    )


@bp.get("/favicon.ico")
def favicon():
    """For browsers that ask for /favicon.ico whatever the page says (pages link the SVG icon)."""
    icons = Path(current_app.static_folder or "static") / "icons"
    return send_from_directory(icons, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=86400)


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
    return render_template("public/staff_home.html", summit=summit_settings.find_summit())
