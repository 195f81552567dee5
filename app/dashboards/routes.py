"""Leader and organiser views over the read models; rules live in invitations/chasing.py.

A leader reaches only their own invitees: any route given another leader's invitee answers 404, exactly as
for an invitation that doesn't exist, so the answer reveals nothing.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from app.badges import wallet_setup
from app.core import paging
from app.core.actions import run_action
from app.core.auth.decorators import mark, organiser_required, roles_required
from app.core.auth.models import Role
from app.core.csv_export import to_csv
from app.core.db import db, utcnow
from app.core.downloads import download
from app.core.summit import settings as summit_settings
from app.core.timefmt import short_day
from app.dashboards import charts, exports, leader_page, organiser_page, overview_cache
from app.dashboards.forms import ActionForm, AssignChampionForm, NoteForm, NudgeForm
from invitations import chasing, questions
from invitations.organiser_routes import bp as organiser_bp

bp = Blueprint("dashboards", __name__)
leader_required = roles_required(Role.LEADER)


@bp.app_template_global("leader_history")
def leader_history(invitation_id: int):
    """For the organisers' invitation page: the champion's notes, nudges and decisions."""
    return leader_page.leader_history(invitation_id)


@bp.app_template_filter("short_date")
def short_date(value) -> str:
    """Mon 3 Nov (and the year, when it isn't this one): a date in the tables and on the chart's axis."""
    return short_day(value) if value else ""


# --- the leader's page -----------------------------------------------------------------------


NOTICE_KEY = "leader_notice"


def back_to_card(invitation_id: int, message: str, tone: str = "success"):
    """Back to the leader's page with `message` shown in the person's own card, where the leader's eyes are
    (not as a flash 2,000 px above it); the page opens at that card, with focus on the message."""
    session[NOTICE_KEY] = {"id": invitation_id, "text": message, "tone": tone}
    return redirect(url_for(".leader_home", _anchor=f"notice-{invitation_id}"), 303)


def render_leader_page(leader, *, readonly: bool):
    """A page of the leader's list (`?page=`, clamped); back from an action, the page with that person on it."""
    summit = summit_settings.get_summit()
    totals = leader_page.leader_totals(leader)
    notice = None if readonly else session.pop(NOTICE_KEY, None)
    if notice and "page" not in request.args:
        number = leader_page.page_of(leader, notice["id"])
    else:
        number = paging.requested_page(totals.total, leader_page.PAGE_SIZE)
    page = leader_page.leader_page(leader, target=summit.target, page=number, totals=totals)
    return render_template(
        "dashboards/leader.html",
        page=page,
        summit=summit,
        readonly=readonly,
        action_form=ActionForm(),
        now=utcnow(),
        notice=notice,
        pager_endpoint="dashboards.leader_view" if readonly else "dashboards.leader_home",
        pager_params={"leader_id": leader.id} if readonly else {},
        page_size=leader_page.PAGE_SIZE,
    )


@bp.get("/leader")
@roles_required(Role.LEADER, Role.ORGANISER)
def leader_home():
    if current_user.role == Role.ORGANISER:
        return redirect(url_for(".leaders"))
    return render_leader_page(current_user, readonly=False)


@bp.route("/leader/invitees/<int:invitation_id>/nudge", methods=["GET", "POST"])
@leader_required
def nudge(invitation_id: int):
    invitation = chasing.invitee_for_leader(current_user, invitation_id)
    refusal = chasing.nudge_refusal(invitation, current_user)
    form = NudgeForm()
    if request.method == "GET":
        form.message.data = chasing.default_nudge_message(invitation, current_user)
    elif form.validate_on_submit():
        return _send_nudge(invitation, form.message.data)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "dashboards/nudge.html", invitation=invitation, form=form, refusal=refusal, summit=summit_settings.get_summit()
    ), status


def _send_nudge(invitation, message: str):
    done = run_action(
        lambda: chasing.nudge(invitation, current_user, message),
        errors=chasing.NudgeRefused,
        quiet=chasing.NudgeRefused,
    )
    if done.error is not None:
        return back_to_card(invitation.id, done.error.message, "error")
    return back_to_card(
        invitation.id, f"Nudge sent: your message to {invitation.name} is on its way. Any reply comes straight to you."
    )


@bp.post("/leader/invitees/<int:invitation_id>/nudge-now")
@leader_required
def nudge_now(invitation_id: int):
    """One tap: the pre-written message, as the Nudge page would fill it in ("Edit first" opens that page)."""
    invitation = chasing.invitee_for_leader(current_user, invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _send_nudge(invitation, chasing.default_nudge_message(invitation, current_user))


@bp.route("/leader/invitees/<int:invitation_id>/note", methods=["GET", "POST"])
@leader_required
def note(invitation_id: int):
    invitation = chasing.invitee_for_leader(current_user, invitation_id)
    form = NoteForm()
    if form.validate_on_submit():
        chasing.add_note(invitation, current_user, form.text.data)
        db.session.commit()
        return back_to_card(invitation_id, f"Noted for {invitation.name}.")
    status = 422 if form.is_submitted() else 200
    return render_template("dashboards/note.html", invitation=invitation, form=form), status


def _set_dont_chase(invitation_id: int, dont_chase: bool):
    invitation = chasing.invitee_for_leader(current_user, invitation_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    chasing.set_dont_chase(invitation, current_user, dont_chase)
    db.session.commit()
    return back_to_card(
        invitation_id,
        f"{invitation.name} won't be chased: no nudges, and they move to the end of their group."
        if dont_chase
        else f"{invitation.name} is back on your list to chase.",
    )


@bp.post("/leader/invitees/<int:invitation_id>/dont-chase")
@leader_required
def dont_chase(invitation_id: int):
    return _set_dont_chase(invitation_id, True)


@bp.post("/leader/invitees/<int:invitation_id>/chase-again")
@leader_required
def chase_again(invitation_id: int):
    return _set_dont_chase(invitation_id, False)


# --- organisers: leaders and champions ---------------------------------------------------------


LIST_PAGE_SIZE = 25  # rows a page of the leaders' list and of the breakdowns


@bp.get("/organiser/leaders")
@organiser_required
def leaders():
    """Every leader by name (then invitations with no champion), a page at a time."""
    summit = summit_settings.get_summit()
    rows = organiser_page.champion_rows(summit.target, organiser_page.tally().by_champion)
    page = paging.requested_page(len(rows), LIST_PAGE_SIZE)
    shown = organiser_page.with_notes(rows[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE])
    return render_template(
        "dashboards/leaders.html",
        champions=shown,
        summit=summit,
        page=page,
        pages=paging.page_count(len(rows), LIST_PAGE_SIZE),
    )


@bp.get("/organiser/breakdown/<any(organisation, sector):by>")
@organiser_required
def breakdown(by: str):
    """The dashboard's "by organisation" or "by sector" table in full, the most invited first, a page at a time."""
    counts = organiser_page.tally()
    rows = organiser_page.breakdown(counts.by_organisation if by == "organisation" else counts.by_sector)
    page = paging.requested_page(len(rows), LIST_PAGE_SIZE)
    return render_template(
        "dashboards/breakdown.html",
        by=by,
        rows=rows[(page - 1) * LIST_PAGE_SIZE : page * LIST_PAGE_SIZE],
        total=len(rows),
        page=page,
        pages=paging.page_count(len(rows), LIST_PAGE_SIZE),
    )


@bp.get("/organiser/leaders/<int:leader_id>")
@organiser_required
def leader_view(leader_id: int):
    return render_leader_page(chasing.find_leader(leader_id), readonly=True)


def _leader_choices():
    return [(0, "No champion")] + [
        (u.id, f"{u.name} ({u.organisation})" if u.organisation else u.name) for u in leader_page.leaders()
    ]


def _invitations_list_url(target: str | None) -> str:
    """Back to the invitations list the organiser came from (same filters), never anywhere else."""
    base = url_for("organiser.invitations")
    parts = urlsplit(target or "")
    if parts.scheme or parts.netloc or parts.path != base:
        return base
    return base + (f"?{parts.query}" if parts.query else "")


def _assigned(changed: int, form: AssignChampionForm) -> str:
    if form.champion_id.data:
        who = dict(form.champion_id.choices).get(form.champion_id.data, "")
        return f"{changed} invitation{'s' if changed != 1 else ''} now championed by {who}."
    return (
        f"{changed} invitation{'s' if changed != 1 else ''} no longer {'have' if changed != 1 else 'has'} a champion."
    )


@bp.post("/organiser/champions/assign")
@organiser_required
def assign_champion():
    form = AssignChampionForm()
    form.champion_id.choices = _leader_choices()
    back = _invitations_list_url(form.return_to.data)
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash("Choose a leader from the list.", "error")
        return redirect(back, 303)
    ids = [int(value) for value in request.form.getlist("invitation_id") if value.isdigit()]
    if not ids:
        flash("Tick the invitations you want to give a champion, then choose the leader.", "error")
        return redirect(back, 303)
    run_action(
        lambda: chasing.assign_champion(ids, form.champion_id.data or None, actor=current_user),
        success=lambda changed: _assigned(changed, form),
    )
    return redirect(back, 303)


def _posted_mapping(organisations: list[tuple[str, int]], leaders) -> dict[str, int]:
    """Each row of the form posts one organisation and one choice ("" leaves it as it is): the rows that
    name an organisation on the page and a leader."""
    known = {org for org, _ in organisations}
    leader_ids = {u.id for u in leaders}
    return {
        org: int(choice)
        for org, choice in zip(request.form.getlist("organisation"), request.form.getlist("leader_id"))
        if org in known and choice.isdigit() and int(choice) in leader_ids
    }


def _suggested_leaders(organisations: list[tuple[str, int]], leaders) -> dict[str, int | None]:
    """For each organisation, the first leader who works there (its name matched ignoring case and outer spaces), if any."""
    by_org: dict[str, int] = {}
    for leader in leaders:
        if leader.organisation:
            by_org.setdefault(leader.organisation.strip().lower(), leader.id)
    return {org: by_org.get(org.strip().lower()) for org, _ in organisations}


def _mapped(applied: dict[str, int]) -> str:
    total = sum(applied.values())
    return (
        f"{total} invitation{'s' if total != 1 else ''} in {len(applied)} organisation"
        f"{'s' if len(applied) != 1 else ''} now {'have' if total != 1 else 'has'} a champion."
    )


@bp.route("/organiser/champions", methods=["GET", "POST"])
@organiser_required
def champions():
    """Apply an organisation-to-leader mapping to every invitation there without a champion."""
    form = ActionForm()
    organisations = chasing.organisations_without_champion()
    leaders = leader_page.leaders()
    if form.validate_on_submit():
        mapping = _posted_mapping(organisations, leaders)
        if not mapping:
            flash("Choose a leader for at least one organisation.", "error")
            return redirect(url_for(".champions"), 303)
        run_action(lambda: chasing.apply_organisation_mapping(mapping, actor=current_user), success=_mapped)
        return redirect(url_for(".champions"), 303)
    if form.is_submitted():
        abort(400)
    return render_template(
        "dashboards/champions.html",
        form=form,
        organisations=organisations,
        leaders=leaders,
        suggestions=_suggested_leaders(organisations, leaders),
    )


# --- exports ---------------------------------------------------------------------------------

EXPORTS = {
    "delegates": ("delegates.csv", exports.delegates_rows),
    "needs": ("dietary-and-access.csv", exports.needs_rows),
    "attendance": ("attendance.csv", exports.attendance_rows),
    "follow-up": ("leaders-follow-up.csv", exports.follow_up_rows),
}


@bp.get("/organiser/exports/<any(delegates, needs, attendance, 'follow-up'):name>.csv")
@organiser_required
def export(name: str):
    filename, rows = EXPORTS[name]
    header, body = rows()
    return download(to_csv(header, body), "text/csv", filename, headers={"Cache-Control": "no-store"})


# --- the organisers' dashboard: organiser.dashboard, the first page of the organisers' screens ------


@organiser_bp.get("/", endpoint="dashboard")
@organiser_required
def organiser_dashboard():
    # Reads only: lapsed offers are shown as lapsed, and expired by the mail worker or the write that needs the place.
    return render_organiser_dashboard(summit_settings.get_summit())


def render_organiser_dashboard(summit):
    overview = overview_cache.organiser_overview(summit)
    bars, funnel_height = charts.funnel_bars(organiser_page.FUNNEL, overview.funnel)
    days = overview.days
    line = (
        charts.line_chart(
            [d.total for d in days], days[0].day if days else None, days[-1].day if days else None, target=summit.target
        )
        if days
        else None
    )
    return render_template(
        "dashboards/organiser_dashboard.html",
        summit=summit,
        o=overview,
        bars=bars,
        funnel_height=funnel_height,
        line=line,
        busy_days=[d for d in days if d.new],
        questions=questions.summaries(),
        wallet_warnings=wallet_setup.setup_warnings(current_app.config),
    )


# A form sent with a stale token comes back filled in (app.__init__.stale_form): each validates before it acts.
for _view in (nudge, note):
    mark(_view, rerenders_stale_form=True)
