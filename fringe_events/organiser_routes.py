"""Organisers' screens for the fringe programme: events, changes, cancellations and attendance lists."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.core.actions import run_action
from app.core.auth.decorators import mark, organiser_required
from app.core.db import db, utcnow
from app.core.forms import ConfirmForm
from fringe_events import attendance_lists, calendars, history, programme
from fringe_events.forms import AttendanceForm, CancelEventForm, EventForm, PersonForm
from fringe_events.models import FringeEvent
from invitations.people import get_invitation

bp = Blueprint("fringe_organiser", __name__, url_prefix="/organiser/fringe")


def _data(form: EventForm) -> programme.EventData:
    return programme.EventData(
        title=form.title.data or "",
        venue=form.venue.data or "",
        address=form.address.data or "",
        description=form.description.data or "",
        theme=form.theme.data or "",
        host_organisation=form.host_organisation.data or "",
        host_lead=form.host_lead.data or "",
        starts_at=form.starts_at.data,
        ends_at=form.ends_at.data,
        capacity=form.capacity.data,
        joining_link=form.joining_link.data or "",
    )


def _changes_sentence(outcome: programme.EventUpdate) -> str:
    moved = "; ".join(f"{label}: {before} → {after}" for label, before, after in outcome.changes)
    told = (
        f"We've emailed the {outcome.notified} {'person' if outcome.notified == 1 else 'people'} signed up an updated calendar entry."
        if outcome.notified
        else "Nobody is signed up yet, so nobody needed telling."
    )
    return f"What changed: {moved}. {told}"


def _added(event: FringeEvent) -> str:
    return f"{event.title} is added to the programme. Invitees can sign up for it from their link."


def _saved(outcome: programme.EventUpdate) -> str:
    return "Saved. " + (
        _changes_sentence(outcome) if outcome.changes else "The time and place are unchanged, so nobody was emailed."
    )


@bp.get("/")
@organiser_required
def index():
    return render_template("fringe_events/organiser_index.html", summaries=history.event_summaries())


@bp.route("/new", methods=["GET", "POST"])
@organiser_required
def new_event():
    form = EventForm()
    if form.validate_on_submit():
        done = run_action(lambda: programme.create_event(_data(form), actor=current_user), form=form, success=_added)
        if done.ok:
            return redirect(url_for(".event", event_id=done.value.id))
    status = 422 if form.is_submitted() else 200
    return render_template("fringe_events/organiser_form.html", form=form, event=None), status


@bp.route("/<int:event_id>/copy", methods=["GET", "POST"])
@organiser_required
def copy_event(event_id: int):
    """ "Copy this event": the new-event form filled in with this event's details, its title "Copy of …". Nothing
    is on the programme until the organiser has changed what differs (the date, say) and added it."""
    original = programme.get_event(event_id)
    form = EventForm()
    if not form.is_submitted():
        form = EventForm(obj=original)
        form.title.data = f"Copy of {original.title}"[:200]
    if form.validate_on_submit():
        done = run_action(
            lambda: programme.create_event(_data(form), actor=current_user, copied_from=original),
            form=form,
            success=_added,
        )
        if done.ok:
            return redirect(url_for(".event", event_id=done.value.id))
    status = 422 if form.is_submitted() else 200
    return render_template("fringe_events/organiser_form.html", form=form, event=None, copy_of=original), status


@bp.get("/<int:event_id>")
@organiser_required
def event(event_id: int):
    fringe_event = programme.get_event(event_id)
    sheet = attendance_lists.attendance_sheet(fringe_event)
    return render_template(
        "fringe_events/organiser_event.html",
        event=fringe_event,
        sheet=sheet,
        changes=programme.event_changes(fringe_event.id),
        form=ConfirmForm(),
        place=calendars.place_of(fringe_event),
    )


@bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_event(event_id: int):
    fringe_event = programme.get_event(event_id)
    form = EventForm(obj=fringe_event)
    if form.validate_on_submit():
        done = run_action(
            lambda: programme.update_event(fringe_event, _data(form), actor=current_user), form=form, success=_saved
        )
        if done.ok:
            return redirect(url_for(".event", event_id=fringe_event.id))
    status = 422 if form.is_submitted() else 200
    return render_template("fringe_events/organiser_form.html", form=form, event=fringe_event), status


@bp.route("/<int:event_id>/cancel", methods=["GET", "POST"])
@organiser_required
def cancel_event(event_id: int):
    fringe_event = programme.get_event(event_id)
    form = CancelEventForm()
    if form.validate_on_submit():
        run_action(
            lambda: programme.cancel_event(fringe_event, reason=form.reason.data or "", actor=current_user),
            success=lambda outcome: f"{fringe_event.title} is cancelled. " + _changes_sentence(outcome),
        )
        return redirect(url_for(".event", event_id=fringe_event.id))
    status = 422 if form.is_submitted() else 200
    return render_template("fringe_events/organiser_cancel.html", form=form, event=fringe_event), status


@bp.post("/<int:event_id>/reinstate")
@organiser_required
def reinstate_event(event_id: int):
    fringe_event = programme.get_event(event_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    run_action(
        lambda: programme.reinstate_event(fringe_event, actor=current_user),
        success=lambda outcome: f"{fringe_event.title} is back on. " + _changes_sentence(outcome),
    )
    return redirect(url_for(".event", event_id=fringe_event.id))


# --- attendance ----------------------------------------------------------------------------------


def _sheet_page(fringe_event: FringeEvent, form: AttendanceForm, status: int = 200):
    q = (request.args.get("q") or "").strip()
    return render_template(
        "fringe_events/organiser_attendance.html",
        event=fringe_event,
        form=form,
        q=q,
        sheet=attendance_lists.attendance_sheet(fringe_event, q),
    ), status


@bp.get("/<int:event_id>/attendance")
@organiser_required
def attendance(event_id: int):
    return _sheet_page(programme.get_event(event_id), AttendanceForm())


def _not_started_yet(fringe_event: FringeEvent, form) -> bool:
    """Attendance for an event that hasn't started is almost always a slip (the wrong event's list):
    ask first, unless this is the answer to that question."""
    return fringe_event.starts_at > utcnow() and form.before_start.data != "yes"


def _confirm_before_start(fringe_event: FringeEvent, form, people, action: str):
    return render_template(
        "fringe_events/organiser_confirm_early.html", event=fringe_event, form=form, people=people, action=action
    ), 409


@bp.post("/<int:event_id>/attendance")
@organiser_required
def mark_attendance(event_id: int):
    fringe_event = programme.get_event(event_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        abort(400)
    if form.attended.data and _not_started_yet(fringe_event, form):
        people = [get_invitation(i) for i in form.attended.data]
        action = url_for(".mark_attendance", event_id=event_id, q=request.args.get("q") or None)
        return _confirm_before_start(fringe_event, form, people, action)
    done = run_action(lambda: attendance_lists.mark_attended(fringe_event, form.attended.data or [], by=current_user))
    if not done.ok:
        return redirect(url_for(".attendance", event_id=event_id))
    if done.value:
        flash(f"{done.value} {'person' if done.value == 1 else 'people'} marked as attended.", "success")
    else:
        flash("Nobody new was ticked, so nothing changed.", "info")
    return redirect(url_for(".attendance", event_id=event_id, q=request.args.get("q") or None))


@bp.post("/<int:event_id>/attendance/undo")
@organiser_required
def undo_attendance(event_id: int):
    fringe_event = programme.get_event(event_id)
    form = PersonForm()
    if not form.validate_on_submit():
        abort(400)
    person = get_invitation(form.invitation_id.data)
    if attendance_lists.undo(fringe_event, person.id, by=current_user):
        db.session.commit()
        flash(f"{person.name} is no longer marked as attending.", "success")
    else:
        flash(f"{person.name} wasn't marked as attending, so nothing changed.", "info")
    return redirect(url_for(".attendance", event_id=event_id, q=request.args.get("q") or None))


def _walked_in(person, attendance, created: bool) -> None:
    if not created:
        flash(f"{person.name} was already recorded as attending.", "info")
    elif attendance.walk_in:
        flash(f"{person.name} is recorded as a walk-in.", "success")
    else:
        flash(f"{person.name} was signed up, and is now marked as attended.", "success")


def _walk_in_page(fringe_event: FringeEvent, form: PersonForm):
    q = (request.args.get("q") or "").strip()
    people = attendance_lists.search_invitees(q)
    return render_template(
        "fringe_events/organiser_walk_in.html",
        event=fringe_event,
        form=form,
        q=q,
        people=people,
        attended=attendance_lists.attended_ids(fringe_event, [p.id for p in people]),
    )


@bp.route("/<int:event_id>/walk-in", methods=["GET", "POST"])
@organiser_required
def walk_in(event_id: int):
    fringe_event = programme.get_event(event_id)
    form = PersonForm()
    if form.validate_on_submit():
        person = get_invitation(form.invitation_id.data)
        if _not_started_yet(fringe_event, form):
            return _confirm_before_start(fringe_event, form, [person], url_for(".walk_in", event_id=event_id))
        done = run_action(lambda: attendance_lists.record_walk_in(fringe_event, person, by=current_user))
        if not done.ok:
            return redirect(url_for(".walk_in", event_id=event_id))
        _walked_in(person, *done.value)
        return redirect(url_for(".attendance", event_id=event_id))
    if form.is_submitted():
        abort(400)
    return _walk_in_page(fringe_event, form)


# A form sent with a stale token comes back filled in (app.__init__.stale_form): each validates before it acts.
for _view in (new_event, edit_event, cancel_event, copy_event):
    mark(_view, rerenders_stale_form=True)
