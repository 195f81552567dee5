"""Delegates' fringe pages under their personal link (/i/<token>/fringe…, /i/<token>/calendar.ics), the
person's read-only calendar feed (/calendar/feed/<feed token>.ics), and the public calendar files
(/calendar/summit.ics, /calendar/fringe/<slug>.ics), which carry no personal data."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, url_for

from app.core.actions import run_action
from app.core.downloads import name_download
from app.core.extensions import personal_link_limit
from app.core.security import private_page
from fringe_events import calendars, delegate_view, history, signups
from fringe_events import programme as fringe_programme
from fringe_events.forms import SignupForm
from fringe_events.models import FringeEvent
from invitations.links import calendar_token_for, invitation_for_calendar_feed, invitation_for_link
from invitations.routes import page_context

bp = Blueprint("fringe", __name__, url_prefix="/i")
calendar_bp = Blueprint("calendar", __name__, url_prefix="/calendar")

personal_link_limit()(bp)
bp.after_request(private_page)

ICS_TYPE = "text/calendar; charset=utf-8"


@bp.record_once
def _template_helpers(state) -> None:
    # The organiser's invitation page asks for the warm-up history through this service function; the delegate's
    # pages are handed what they show by their views.
    state.app.jinja_env.globals.update(
        fringe_history=history.warm_up_history, webcal=calendars.webcal_url, calendar_token_for=calendar_token_for
    )


def _event(slug: str) -> FringeEvent:
    event = fringe_programme.event_by_slug(slug)
    if event is None:
        abort(404)
    return event


def _back(token: str, slug: str, back: str | None):
    if back == "event":
        return redirect(url_for(".event", token=token, slug=slug))
    if back == "home":
        return redirect(url_for("invitations.home", token=token) + "#fringe")
    return redirect(url_for(".programme", token=token))


@bp.get("/<token>/fringe")
def programme(token: str):
    invitation = invitation_for_link(token)
    context = page_context(invitation, token)
    programme = delegate_view.programme_for(invitation)
    links = delegate_view.calendar_links(invitation, context["summit"], programme)
    return render_template("fringe_events/programme.html", programme=programme, calendar_links=links, **context)


@bp.get("/<token>/fringe/<slug>")
def event(token: str, slug: str):
    invitation = invitation_for_link(token)
    fringe_event = _event(slug)
    item = delegate_view.programme_item(invitation, fringe_event)
    return render_template(
        "fringe_events/event.html",
        **page_context(invitation, token, item=item, links=calendars.event_add_links(fringe_event)),
    )


@bp.post("/<token>/fringe/<slug>/sign-up")
def sign_up(token: str, slug: str):
    invitation = invitation_for_link(token)
    fringe_event = _event(slug)
    form = SignupForm()
    if not form.validate_on_submit():
        abort(400)
    signed_up = f"You're signed up for {fringe_event.title}. We've emailed you the details and a calendar entry."
    done = run_action(lambda: signups.sign_up(invitation, fringe_event), quiet=signups.FringeFull, success=signed_up)
    if isinstance(done.error, signups.FringeFull):
        context = page_context(invitation, token, event=fringe_event, message=done.error.message)
        return render_template("fringe_events/full.html", **context), 409
    return _back(token, slug, form.back.data)


@bp.post("/<token>/fringe/<slug>/cancel")
def cancel(token: str, slug: str):
    invitation = invitation_for_link(token)
    fringe_event = _event(slug)
    form = SignupForm()
    if not form.validate_on_submit():
        abort(400)
    given_back = f"You're no longer signed up for {fringe_event.title}. Your place has gone back for someone else."
    run_action(
        lambda: signups.cancel_signup(invitation, fringe_event),
        success=lambda cancelled: given_back if cancelled else None,
    )
    return _back(token, slug, form.back.data)


def _personal_ics(invitation) -> Response:
    return Response(
        calendars.personal_calendar(invitation),
        content_type=ICS_TYPE,
        headers={"Content-Disposition": 'attachment; filename="new-horizons.ics"'},
    )


@bp.get("/<token>/calendar.ics")
def calendar(token: str):
    """The person's own download of their calendar, from their page."""
    return _personal_ics(invitation_for_link(token))


@calendar_bp.get("/feed/<feed_token>.ics")
@personal_link_limit()
def feed(feed_token: str):
    """The person's feed, the address calendar apps subscribe to: its own token, which opens this and nothing
    else, since the address goes to the calendar provider's servers and to anyone the calendar is shared with."""
    return private_page(_personal_ics(invitation_for_calendar_feed(feed_token)))


# --- public calendar files -------------------------------------------------------------------------


def _public_ics(body: bytes, filename: str) -> Response:
    response = Response(
        body,
        content_type=ICS_TYPE,
        # nothing personal in it; short, so changes reach people soon
        headers={"Cache-Control": "public, max-age=300"},
    )
    return name_download(response, filename)


@calendar_bp.get("/summit.ics")
def summit():
    return _public_ics(calendars.public_summit_calendar(), "new-horizons-summit.ics")


@calendar_bp.get("/fringe/<slug>.ics")
def fringe_event(slug: str):
    return _public_ics(calendars.public_event_calendar(_event(slug)), f"{slug}.ics")
