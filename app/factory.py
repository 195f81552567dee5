"""The application factory: extensions, blueprints, error handlers, CLI."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.errors import Conflict, DomainError, SummitNotSetUp
from app.core.extensions import (
    csrf,
    limiter,
    login_manager,
    retry_after_seconds,
    spare_views_that_count_their_own_limits,
)
from app.core.forms import STALE_FORM
from app.core.json_bodies import JSONProvider
from app.core.logs import configure_logging
from app.core.logs import safe_path as _safe_path
from app.core.session_cookie import SessionCookieExceptUnder
from config import Config, ProductionConfig, config_from_env


def create_app(config: type[Config] | dict | None = None) -> Flask:
    # Named after the package, not this module: the logger is "app", and templates and static files are found in app/.
    app = Flask("app", instance_relative_config=False)
    app.json = JSONProvider(app)  # a body nested too deep is a 400, not a 500
    if isinstance(config, dict):
        # A dict is a whole configuration (settings_of(SomeConfig), perhaps changed): APP_ENV has no say in it.
        app.config.from_object(Config)
        app.config.update(config)
    else:
        app.config.from_object(config or config_from_env())
    configure_logging(app)
    if app.config.get("PRODUCTION"):
        ProductionConfig.check(app.config)
    register_proxies(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_security_headers(app)
    register_request_guards(app)
    register_commands(app)
    return app


def register_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXY_HOPS reverse proxies, the client is the address the nearest of them saw: without it every
    client would be the proxy, and one client's failures would use up every rate limit for everyone."""
    hops = app.config.get("TRUSTED_PROXY_HOPS") or 0
    if hops < 0:
        raise RuntimeError(
            f"TRUSTED_PROXY_HOPS is {hops}: set it to the number of reverse proxies in front (0 for none)."
        )
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    app.session_interface = SessionCookieExceptUnder(("/api/",))  # the JSON API takes bearer tokens, no cookies
    db.init_app(app)
    limiter.init_app(app)  # before CSRF: a form sent with a stale token is still counted (see stale_form)
    spare_views_that_count_their_own_limits(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    from app.core.auth.sessions import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    from app.core.auth import council

    council.init_app(app)  # signing in with a council account, when OIDC_ settings set it up


def register_blueprints(app: Flask) -> None:
    import invitations.import_routes  # noqa: F401  (the invitee import's pages, on the organiser blueprint)
    from app.core.auth.account_routes import bp as account_bp
    from app.core.auth.account_routes import team_bp
    from app.core.auth.routes import bp as auth_bp
    from app.core.mail.notify_receipts import bp as mail_notify_bp
    from app.core.mail.routes import bp as mail_bp
    from app.core.mail.webhook import bp as mail_webhook_bp
    from app.dashboards.audit_log import bp as audit_bp
    from app.dashboards.routes import bp as dashboards_bp
    from app.dashboards.wording_routes import bp as wording_bp
    from app.public.routes import bp as main_bp
    from invitations.mail_events import on_provider_event
    from invitations.organiser_routes import bp as organiser_bp
    from invitations.question_routes import bp as questions_bp
    from invitations.recovery_routes import bp as recovery_bp
    from invitations.routes import bp as invitations_bp
    from invitations.sending_routes import bp as sending_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(invitations_bp)
    app.register_blueprint(recovery_bp)
    app.register_blueprint(organiser_bp)
    app.register_blueprint(questions_bp)
    app.register_blueprint(sending_bp)
    app.register_blueprint(dashboards_bp)
    app.register_blueprint(mail_bp)
    app.register_blueprint(mail_webhook_bp)
    app.register_blueprint(mail_notify_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(wording_bp)
    from app.badges.routes import admin_bp as badge_admin_bp
    from app.badges.routes import bp as badges_bp
    from app.checkin.api import bp as checkin_api_bp
    from app.checkin.routes import bp as checkin_bp
    from app.checkin.routes import door_bp as checkin_door_bp

    for blueprint in (badges_bp, badge_admin_bp, checkin_api_bp, checkin_bp, checkin_door_bp):
        app.register_blueprint(blueprint)
    from fringe_events.organiser_routes import bp as fringe_organiser_bp
    from fringe_events.routes import bp as fringe_bp
    from fringe_events.routes import calendar_bp

    for blueprint in (fringe_bp, fringe_organiser_bp, calendar_bp):
        app.register_blueprint(blueprint)
    from app.texts.routes import bp as texts_bp

    app.register_blueprint(texts_bp)
    app.extensions["on_provider_event"] = on_provider_event
    from app.badges.subscriptions import connect as connect_badges
    from app.checkin.subscriptions import connect as connect_checkin
    from fringe_events.subscriptions import connect as connect_fringe
    from invitations.subscriptions import connect as connect_invitations

    connect_invitations()  # the mail worker expires offers that have run out
    connect_fringe()  # the fringe programme follows people who leave or hand on
    connect_checkin()  # the scan log forgets people who are erased
    connect_badges()  # a place that ends marks its Google Wallet pass inactive
    from app.core.mail import delivery
    from invitations import scheduled_sends

    delivery.round_starting.connect(scheduled_sends.on_mail_round)  # scheduled sends go when the worker runs


def register_errorhandlers(app: Flask) -> None:
    def render(status: int, title: str, message: str):
        return render_template("errors/error.html", status=status, title=title, message=message), status

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return render(error.status, "That didn't work", error.message)

    @app.errorhandler(SummitNotSetUp)
    def summit_not_set_up(error: SummitNotSetUp):
        """No summit yet: an organiser is taken to the set-up page (a fresh server's first page); anyone else is
        told it is coming, without a command they can't run."""
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(error="The summit has not been set up yet."), 404
        if current_user.is_authenticated and current_user.role == Role.ORGANISER:
            return redirect(url_for("organiser.summit_setup"), 303)
        return render(
            404,
            "The summit isn't set up yet",
            "The organisers are still setting the summit up. Please come back later.",
        )

    def page_as_it_stands() -> str | None:
        """Where a person who lost a race sees how things now stand: their own page, or the invitation's."""
        args = request.view_args or {}
        if "token" in args:
            return url_for("invitations.home", token=args["token"])
        if "invitation_id" in args and request.blueprint == "organiser":
            return url_for("organiser.invitation", invitation_id=args["invitation_id"])
        return None

    def conflict_answer(message: str):
        if request.path.startswith("/api/"):
            return jsonify(error=message), 409
        target = page_as_it_stands()
        if target is not None and request.method == "POST":
            flash(message, "error")
            return redirect(target, 303)
        return render(409, "That has already changed", message)

    @app.errorhandler(Conflict)
    def conflict(error: Conflict):
        db.session.rollback()
        return conflict_answer(error.message)

    @app.errorhandler(IntegrityError)
    def integrity_error(error: IntegrityError):
        # A unique or check constraint refused a second copy: the same thing was done a moment ago.
        db.session.rollback()
        app.logger.warning("Constraint refused a write on %s: %s", _safe_path(request.path), type(error.orig).__name__)
        return conflict_answer(
            "That was done a moment ago, perhaps in another tab, so nothing was saved twice. This is how it stands now."
        )

    def bad_personal_link(status: int, title: str, message: str):
        """A wrong, altered, old or handed-on personal link: never a dead end, always "Lost your link?"."""
        from app.core.auth.forms import EmailLinkForm

        if status == 404:
            title = "This link doesn't work"
            message = (
                "It may have been mistyped or cut short, or replaced by a newer link. "
                "We can email you your current link."
            )
        form = EmailLinkForm(formdata=None)
        page = render_template("errors/bad_link.html", title=title, message=message, lost_link_form=form)
        return app.make_response((page, status))

    @app.errorhandler(CSRFError)
    def stale_form(error: CSRFError):
        """A form whose token no longer checks out (open a long time, or the browser forgot its session):
        nothing from it is saved. A form with typed input comes back filled in, with a fresh token and
        the sentence; a one-button form sends the person back to press it again."""
        if request.is_json:
            return jsonify(error=STALE_FORM), 400
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "rerenders_stale_form", False) and view is not None:
            # The view's own form check fails on the same token (app.core.forms.Form), so it acts on nothing.
            g.csrf_valid = False
            return view(**(request.view_args or {}))
        flash(STALE_FORM, "error")
        back = request.referrer or ""
        if urlsplit(back).netloc != request.host:
            back = url_for("main.index")
        return redirect(back, 303)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308):
            return error
        db.session.rollback()
        titles = {
            400: ("Something in that request wasn't right", "Please go back, check what you entered and try again."),
            403: (
                "You can't see this page",
                "Your account doesn't have access to it. If you think it should, ask an organiser.",
            ),
            404: (
                "We can't find that page",
                "Check the address. If it came from an email, use the latest email we sent you.",
            ),
            405: ("That action isn't available here", "Please go back and use the buttons on the page."),
            410: ("This invitation has been handed on", "The person it was passed to has a link of their own."),
            413: ("That file is too large", "Files can be up to 8 MB. Split it and try again."),
            429: ("Too many attempts", "Please wait a minute and try again."),
        }
        title, message = titles.get(error.code or 500, (error.name, error.description or ""))
        if error.description and error.description != type(error).description:
            message = error.description  # a specific reason given with abort(): say it
        if error.code in (404, 410) and request.path.startswith("/i/"):
            response = bad_personal_link(error.code, title, message)
        else:
            response = app.make_response(render(error.code or 500, title, message))
        if error.code == 429:
            response.headers["Retry-After"] = str(retry_after_seconds())
        return response

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        app.logger.exception("Unhandled error on %s", _safe_path(request.path))
        db.session.rollback()
        return render(
            500,
            "Sorry, something went wrong on our side",
            "Nothing you entered has been saved. Please try again in a minute; if it keeps happening, contact the organisers.",
        )


def register_template_helpers(app: Flask) -> None:
    from app.core import mobile_numbers, timefmt

    app.jinja_env.filters.update(timefmt.FILTERS)
    app.jinja_env.filters["mobile"] = mobile_numbers.shown
    app.jinja_env.globals["span"] = timefmt.span
    app.jinja_env.globals["now"] = utcnow

    @app.context_processor
    def site_name() -> dict:
        """The summit's name as organisers set it, for every page's title, header and footer: looked up once a
        request, and the default name when there is no summit yet or the database can't answer (an error page)."""
        if "site_name" not in g:
            from app.core.summit import settings as summit_settings

            try:
                g.site_name = summit_settings.summit_name()
            except SQLAlchemyError:
                db.session.rollback()
                g.site_name = summit_settings.DEFAULT_NAME
        return {"site_name": g.site_name}


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def register_request_guards(app: Flask) -> None:
    @app.before_request
    def refuse_nul_characters():
        """A NUL can't be stored in PostgreSQL text and never belongs in a form: refuse it up front. The query string
        is looked at as it came (a NUL in it is `%00`), so a request without one parses nothing here."""
        values = []
        if request.method in ("POST", "PUT", "PATCH"):
            if request.mimetype in _FORM_TYPES:
                values = list(request.form.values())
            else:
                raw = request.get_data(cache=True)
                if b"\x00" in raw or b"\\u0000" in raw:
                    abort(400, "The request contains a NUL character, which isn't accepted.")
        query = request.query_string
        if b"%00" in query or b"\x00" in query or any("\x00" in value for value in values):
            abort(400, "The form contains a NUL character, which isn't accepted. Please retype the text.")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config.get("PRODUCTION"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_commands(app: Flask) -> None:
    from app.cli import backup_command, db_cli, demo_command
    from app.core.auth.cli import users_cli
    from app.core.mail.cli import mail_cli
    from invitations.cli import invitations_cli, privacy_cli, summit_cli

    for command in (
        db_cli,
        demo_command,
        backup_command,
        users_cli,
        mail_cli,
        invitations_cli,
        summit_cli,
        privacy_cli,
    ):
        app.cli.add_command(command)
    from fringe_events.cli import fringe_cli

    app.cli.add_command(fringe_cli)
    from app.cli import check_command

    summit_cli.add_command(check_command)
