"""Organisers' screens for invitations, the summit settings and the waiting list."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import func, or_, select

from app.core import paging
from app.core.actions import Outcome, confirm_step, run_action
from app.core.audit import AuditEvent
from app.core.auth.decorators import mark, organiser_required
from app.core.auth.models import Role, User
from app.core.csv_export import to_csv
from app.core.db import db, utcnow
from app.core.downloads import download
from app.core.errors import Conflict
from app.core.forms import ConfirmForm, ConfirmStepForm
from app.core.mail.models import OutboxMessage
from app.core.summit import settings as summits
from invitations import dashboards, links, mailing, people, summit_changes, waitlist
from invitations.forms import InvitationForm, SetUpForm, SummitForm
from invitations.models import Invitation, InvitationState

bp = Blueprint("organiser", __name__, url_prefix="/organiser")
PAGE_SIZE = 50


def _leaders() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.LEADER).order_by(User.name)))


def _filtered_invitations():
    query = select(Invitation)
    q = (request.args.get("q") or "").strip()
    if q:
        like = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Invitation.name).like(like),
                Invitation.email.like(like),
                func.lower(Invitation.organisation).like(like),
            )
        )
    state = request.args.get("state") or ""
    if state:
        try:
            query = query.where(Invitation.state == InvitationState(state))
        except ValueError:
            abort(400)
    organisation = request.args.get("organisation") or ""
    if organisation:
        query = query.where(Invitation.organisation == organisation)
    champion = request.args.get("champion") or ""
    if champion:
        if champion == "none":
            query = query.where(Invitation.champion_id.is_(None))
        elif champion.isdigit():
            query = query.where(Invitation.champion_id == int(champion))
        else:
            abort(400)
    return query


@bp.get("/invitations")
@organiser_required
def invitations():
    query = _filtered_invitations()
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = paging.requested_page(total, PAGE_SIZE)
    rows = db.session.scalars(
        query.order_by(Invitation.name, Invitation.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    champions = {u.id: u for u in _leaders()}
    organisations = db.session.scalars(
        select(Invitation.organisation).distinct().order_by(Invitation.organisation)
    ).all()
    return render_template(
        "invitations/organiser_invitations.html",
        rows=rows,
        total=total,
        page=page,
        pages=paging.page_count(total, PAGE_SIZE),
        champions=champions,
        organisations=organisations,
        states=list(InvitationState),
        args=request.args,
    )


@bp.get("/invitations/export.csv")
@organiser_required
def export_invitations():
    rows = db.session.scalars(_filtered_invitations().order_by(Invitation.name, Invitation.id)).all()
    champions = {u.id: u.email for u in _leaders()}
    body = to_csv(
        [
            "email",
            "name",
            "organisation",
            "job_title",
            "champion_email",
            "state",
            "sent_at",
            "opened_at",
            "responded_at",
        ],
        (
            [
                i.email,
                i.name,
                i.organisation,
                i.job_title,
                champions.get(i.champion_id, ""),
                i.state.value,
                i.sent_at.isoformat() if i.sent_at else "",
                i.opened_at.isoformat() if i.opened_at else "",
                i.responded_at.isoformat() if i.responded_at else "",
            ]
            for i in rows
        ),
    )
    return download(body, "text/csv", "invitations.csv", headers={"Cache-Control": "no-store"})


def _invitation_form(invitation: Invitation | None = None) -> InvitationForm:
    form = InvitationForm(obj=invitation)
    form.champion_id.choices = [(0, "No champion")] + [
        (u.id, f"{u.name} ({u.organisation})" if u.organisation else u.name) for u in _leaders()
    ]
    if invitation is not None and not form.is_submitted():
        form.champion_id.data = invitation.champion_id or 0
    return form


def _invitee_data(form: InvitationForm) -> people.InviteeData:
    return people.InviteeData(
        email=form.email.data,
        name=form.name.data,
        organisation=form.organisation.data,
        job_title=form.job_title.data or "",
        sector=form.sector.data or "",
        champion_id=form.champion_id.data or None,
    )


@bp.route("/invitations/new", methods=["GET", "POST"])
@organiser_required
def new_invitation():
    form = _invitation_form()
    if form.validate_on_submit():
        done = run_action(
            lambda: people.create_invitation(_invitee_data(form), actor=current_user),
            form=form,
            success=lambda new: f"{new.name} is invited. Their invitation has not been emailed yet.",
        )
        if done.ok:
            return redirect(url_for(".invitation", invitation_id=done.value.id))
    status = 422 if form.is_submitted() else 200
    return render_template("invitations/organiser_invitation_form.html", form=form, invitation=None), status


@bp.get("/invitations/<int:invitation_id>")
@organiser_required
def invitation(invitation_id: int):
    inv = people.get_invitation(invitation_id)
    history = db.session.scalars(
        select(AuditEvent).where(AuditEvent.invitation_id == inv.id).order_by(AuditEvent.at.desc()).limit(50)
    ).all()
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == inv.id).order_by(OutboxMessage.id.desc()).limit(50)
    ).all()
    return render_template(
        "invitations/organiser_invitation.html",
        invitation=inv,
        history=history,
        form=ConfirmForm(),
        messages=messages,
        link=links.personal_url(inv),
    )


@bp.route("/invitations/<int:invitation_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_invitation(invitation_id: int):
    inv = people.get_invitation(invitation_id)
    form = _invitation_form(inv)
    if form.validate_on_submit():
        done = run_action(
            lambda: people.update_invitation(inv, _invitee_data(form), actor=current_user), form=form, success="Saved."
        )
        if done.ok:
            return redirect(url_for(".invitation", invitation_id=inv.id))
    status = 422 if form.is_submitted() else 200
    return render_template("invitations/organiser_invitation_form.html", form=form, invitation=inv), status


_PLACE_GOES = {
    InvitationState.REGISTERED: "Their place at the summit is given up and offered to the first person on the "
    "waiting list.",
    InvitationState.OFFERED: "The place offered to them passes to the next person waiting.",
    InvitationState.WAITLISTED: "They leave the waiting list.",
}


def _as_it_stands(inv: Invitation, done: Outcome) -> ResponseReturnValue:
    """Back to the invitation's page after a one-button action: 302 when it was done; 303 when it had already
    changed (another organiser was quicker), the sentence flashed there, as the app answers any such race."""
    return redirect(url_for(".invitation", invitation_id=inv.id), 302 if done.ok else 303)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["GET", "POST"])
@organiser_required
def revoke_invitation(invitation_id: int):
    inv = people.get_invitation(invitation_id)
    form = ConfirmStepForm()
    if form.is_submitted() and not form.validate_on_submit():
        abort(400)
    if form.confirmed:
        done = run_action(
            lambda: people.revoke_invitation(inv, actor=current_user),
            success=f"{inv.name}'s invitation is revoked: their link and badge no longer work.",
            errors=Conflict,
        )
        return _as_it_stands(inv, done)
    consequences = [
        f"{inv.name}'s personal link stops working at once, and so does their badge, at the door too.",
        *([_PLACE_GOES[inv.state]] if inv.state in _PLACE_GOES else []),
        "Their fringe sign-ups are cancelled, and those places go back for others.",
    ]
    return confirm_step(
        form,
        heading=f"Revoke {inv.name}'s invitation?",
        consequences=consequences,
        button="Revoke the invitation",
        back_url=url_for(".invitation", invitation_id=inv.id),
        back_label=f"Back to {inv.name}",
    )


@bp.post("/invitations/<int:invitation_id>/send")
@organiser_required
def send_invitation(invitation_id: int):
    inv = people.get_invitation(invitation_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    done = run_action(
        lambda: mailing.send_invitation(inv, actor=current_user),
        success=f"The invitation to {inv.name} is queued to send.",
        errors=Conflict,
    )
    return _as_it_stands(inv, done)


@bp.route("/invitations/<int:invitation_id>/new-link", methods=["GET", "POST"])
@organiser_required
def reissue_link(invitation_id: int):
    inv = people.get_invitation(invitation_id)
    form = ConfirmStepForm()
    if form.is_submitted() and not form.validate_on_submit():
        abort(400)
    if form.confirmed:
        done = run_action(
            lambda: links.reissue_link(inv, actor=current_user),
            success="A new link is made and the old one no longer works. Send the invitation again so they have it.",
            errors=Conflict,
        )
        return _as_it_stands(inv, done)
    return confirm_step(
        form,
        heading=f"Make a new link for {inv.name}?",
        consequences=[
            f"The link in every email we've sent {inv.name} stops working at once, and so does any bookmark of it.",
            "They can't reach their page until you send the invitation again with the new link.",
        ],
        button="Make a new link",
        back_url=url_for(".invitation", invitation_id=inv.id),
        back_label=f"Back to {inv.name}",
    )


# The settings the audit log records as "before → after", in words (time and place come as outcome.changes).
def _change_summit(form: SummitForm) -> summit_changes.SummitChange:
    return summit_changes.edit_summit(
        actor=current_user,
        name=form.name.data,
        tagline=form.tagline.data or "",
        venue=form.venue.data,
        address=form.address.data,
        starts_at=form.starts_at.data,
        ends_at=form.ends_at.data,
        registration_opens_at=form.registration_opens_at.data,
        registration_closes_at=form.registration_closes_at.data,
        clear_opens=form.registration_opens_at.data is None,
        clear_closes=form.registration_closes_at.data is None,
        capacity=form.capacity.data,
        target=form.target.data,
        offer_hold_hours=form.offer_hold_hours.data,
        signatory_name=form.signatory_name.data or "",
        signatory_role=form.signatory_role.data or "",
        sender_email=form.sender_email.data or "",
        leaders_may_nudge_unsent=bool(form.leaders_may_nudge_unsent.data),
    )


def _summit_saved(outcome: summit_changes.SummitChange) -> str:
    if not outcome.changes:
        return "The summit's settings are saved."
    changed = "".join(f" {label}: {before} → {after}." for label, before, after in outcome.changes)
    told = (
        f" We've emailed the {outcome.notified} registered delegate{'s' if outcome.notified != 1 else ''} "
        "an updated calendar entry."
        if outcome.notified
        else " Nobody is registered yet, so nobody needed telling."
    )
    return f"The summit's settings are saved. What changed:{changed}{told}"


def _set_up_form() -> SetUpForm:
    """The set-up form, filled in with the usual summit for a first look (every field can be changed)."""
    form = SetUpForm()
    if not form.is_submitted():
        starts, ends = summits.default_summit_times()
        form.name.data = summits.DEFAULT_NAME
        form.venue.data = summits.DEFAULT_VENUE
        form.address.data = summits.DEFAULT_ADDRESS
        form.starts_at.data, form.ends_at.data = starts, ends
        form.capacity.data, form.target.data = 350, 300
    return form


def _set_up(form: SetUpForm):
    return summit_changes.set_up_summit(
        summit_changes.SummitSetUp(
            name=form.name.data,
            venue=form.venue.data,
            address=form.address.data,
            starts_at=form.starts_at.data,
            ends_at=form.ends_at.data,
            capacity=form.capacity.data,
            target=form.target.data,
            signatory_name=form.signatory_name.data or "",
            signatory_role=form.signatory_role.data or "",
            sender_email=form.sender_email.data or "",
        ),
        actor=current_user,
    )


@bp.route("/set-up", methods=["GET", "POST"])
@organiser_required
def summit_setup():
    """A fresh server's first organiser page: every organiser page leads here until the summit exists."""
    if summits.find_summit() is not None:
        if request.method == "POST":
            flash("The summit is already set up; change it here.", "info")
            return redirect(url_for(".summit_settings"), 303)
        return redirect(url_for(".summit_settings"))
    form = _set_up_form()
    if form.validate_on_submit():
        done = run_action(
            lambda: _set_up(form),
            form=form,
            success=lambda summit: f"{summit.name} is set up. Next, add your invitees and fringe events.",
        )
        if done.ok:
            return redirect(url_for(".dashboard"))
    status = 422 if form.is_submitted() else 200
    return render_template("invitations/organiser_set_up.html", form=form), status


@bp.route("/summit", methods=["GET", "POST"])
@organiser_required
def summit_settings():
    summit = summits.get_summit()
    form = SummitForm(obj=summit)
    if form.validate_on_submit():
        done = run_action(lambda: _change_summit(form), form=form, success=_summit_saved)
        if done.ok:
            return redirect(url_for(".summit_settings"))
    status = 422 if form.is_submitted() else 200
    return render_template("invitations/organiser_summit.html", form=form, summit=summit), status


@bp.get("/waiting-list")
@organiser_required
def waiting_list():
    # Reads only: an offer that has run out is shown as lapsed, and expired by the mail worker or the next write.
    now = utcnow()
    entries = dashboards.waiting_list()
    return render_template(
        "invitations/organiser_waiting_list.html",
        entries=entries,
        lapsed={entry.id for entry in entries if waitlist.offer_lapsed(entry, now)},
        summit=summits.get_summit(),
    )


# A form sent with a stale token comes back filled in (app.__init__.stale_form): each validates before it acts.
for _view in (new_invitation, edit_invitation, summit_settings, summit_setup):
    mark(_view, rerenders_stale_form=True)
