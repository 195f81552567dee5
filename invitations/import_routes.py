"""The organisers' invitee import, on the organiser blueprint: upload a spreadsheet or CSV, choose its columns
when they aren't clear, add unknown champions as leaders, see exactly what will happen, then confirm."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.core.actions import run_action
from app.core.auth import invites
from app.core.auth.decorators import organiser_required
from app.core.auth.models import Role, User
from app.core.db import db
from invitations import import_columns, import_previews, people
from invitations.forms import ImportConfirmForm, ImportForm, columns_form, leaders_form
from invitations.import_check import ImportCheck, check_invitee_file, import_notes
from invitations.models import ImportPreview
from invitations.organiser_routes import bp

GONE = (
    "That checked file is no longer kept (it was imported already, or was checked more than an hour ago), "
    "so nothing was imported. Upload it again to check it."
)


def champion_map() -> dict[str, int]:
    return {
        email: id_ for id_, email in db.session.execute(select(User.id, User.email).where(User.role == Role.LEADER))
    }


def check_kept(preview: ImportPreview, champions: dict[str, int]) -> ImportCheck:
    """The kept file checked as it stands now, with the columns it was previewed with: the confirm imports
    exactly what the preview showed, whatever another organiser chooses for these headings meanwhile."""
    check = check_invitee_file(preview.content, champions.keys(), chosen=preview.columns)
    if check.table is not None and check.columns is not None and preview.columns is not None:
        headings = check.table.headings
        if preview.columns == [import_columns.meaning_of(h) for h in headings]:
            check.columns.how = "headings"
        elif preview.columns == import_columns.remembered_columns(headings):
            check.columns.how = "remembered"
    return check


def guess_name(email: str) -> str:
    """A first guess at a leader's name from their address (jo.smith@… → Jo Smith), for the organiser to correct."""
    local = email.split("@", 1)[0]
    words = [w for w in local.replace("_", ".").replace("-", ".").split(".") if w and not w.isdigit()]
    return " ".join(w.capitalize() for w in words) or local


def _unknown_people(check: ImportCheck) -> list[tuple[str, str]]:
    return [(c.email, guess_name(c.email)) for c in check.unknown_champions]


def _others_accounts(check: ImportCheck) -> dict[str, User]:
    """Unknown champions whose address has a staff account that isn't a leader's (it can't be added again)."""
    emails = [c.email for c in check.unknown_champions]
    if not emails:
        return {}
    return {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}


def _render(
    check: ImportCheck, preview: ImportPreview | None, filename: str, status: int | None = None, leaders_sent=None
):
    plan = None
    confirm = None
    if check.ok:
        plan = people.plan_import(check.rows, champion_map())
        confirm = ImportConfirmForm(preview=preview.id) if preview else None
    columns = None
    if check.table is not None and check.columns is not None and preview is not None:
        columns = columns_form(check.table.headings, check.columns.choices)
    others = _others_accounts(check)
    invitable = [(email, name) for email, name in _unknown_people(check) if email not in others]
    leaders = leaders_sent or (leaders_form(invitable) if invitable and preview is not None else None)
    if status is None:
        status = 422 if check.problem_count or check.needs_columns else 200
    return render_template(
        "invitations/organiser_import.html",
        form=ImportForm(),
        check=check,
        plan=plan,
        confirm=confirm,
        preview=preview,
        filename=filename,
        columns=columns,
        leaders=leaders,
        invitable=invitable,
        others=others,
        samples=_samples(check),
        notes=import_notes(check),
    ), status


def _samples(check: ImportCheck) -> list[str]:
    """A value or two from each column, to help choose what it holds."""
    if check.table is None:
        return []
    width = len(check.table.headings)
    found: list[list[str]] = [[] for _ in range(width)]
    for _, cells in check.table.records[:50]:
        for i in range(min(width, len(cells))):
            if cells[i].strip() and len(found[i]) < 2:
                found[i].append(cells[i].strip()[:40])
    return [", ".join(values) for values in found]


@bp.route("/invitations/import", methods=["GET", "POST"])
@organiser_required
def import_invitations():
    form = ImportForm()
    if not form.validate_on_submit():
        status = 422 if form.is_submitted() else 200
        return render_template("invitations/organiser_import.html", form=form, check=None), status
    data = form.file.data.read()
    filename = form.file.data.filename or ""
    check = check_invitee_file(data, champion_map().keys())
    if check.table is None:  # not a spreadsheet or CSV we can read: nothing to keep
        return _render(check, None, filename, 422)
    remembered = import_columns.remembered_columns(check.table.headings)
    if remembered is not None:
        check = check_invitee_file(data, champion_map().keys(), remembered=remembered)
    # Kept here until confirmed (an hour at most), with the columns it is read with: the forms after this carry
    # its id, never the file.
    kept = import_previews.keep_preview(current_user.id, filename, data)
    preview = import_previews.find_preview(kept, current_user.id)
    assert preview is not None and check.columns is not None
    import_previews.choose_columns(preview, check.columns.choices)
    db.session.commit()
    return _render(check, preview, filename)


def _kept_or_gone(preview_id: str) -> ImportPreview | None:
    if len(preview_id) > 64:
        abort(404)
    return import_previews.find_preview(preview_id, current_user.id)


def _gone():
    flash(GONE, "error")
    return render_template("invitations/organiser_import.html", form=ImportForm(), check=None), 410


@bp.get("/invitations/import/<preview_id>")
@organiser_required
def import_preview(preview_id: str):
    preview = _kept_or_gone(preview_id)
    if preview is None:
        return _gone()
    return _render(check_kept(preview, champion_map()), preview, preview.filename, 200)


@bp.post("/invitations/import/<preview_id>/columns")
@organiser_required
def choose_import_columns(preview_id: str):
    preview = _kept_or_gone(preview_id)
    if preview is None:
        return _gone()
    check = check_kept(preview, champion_map())
    if check.table is None:
        abort(400)
    headings = check.table.headings
    form = columns_form(headings, check.columns.choices if check.columns else [])
    if not form.validate_on_submit():
        flash("Choose what each column holds from the list, then press Use these columns.", "error")
        return _render(check, preview, preview.filename, 422)
    choices = [form[f"column_{i}"].data for i in range(len(headings))]

    def choose() -> None:
        import_previews.choose_columns(preview, choices)
        import_columns.remember_columns(headings, choices, current_user.id)

    run_action(choose, success="Columns chosen. They will be used for the next file with these headings too.")
    return redirect(url_for(".import_preview", preview_id=preview.id))


@bp.post("/invitations/import/<preview_id>/leaders")
@organiser_required
def add_import_leaders(preview_id: str):
    preview = _kept_or_gone(preview_id)
    if preview is None:
        return _gone()
    check = check_kept(preview, champion_map())
    others = _others_accounts(check)
    invitable = [(email, name) for email, name in _unknown_people(check) if email not in others]
    if not invitable:
        flash("There are no unknown champions to add: every champion in the file is a leader now.", "success")
        return redirect(url_for(".import_preview", preview_id=preview.id))
    form = leaders_form(invitable)
    if not form.validate_on_submit():
        return _render(check, preview, preview.filename, 422, leaders_sent=form)
    people_named = [(email, form[f"name_{i}"].data) for i, (email, _) in enumerate(invitable)]
    days = current_app.config["STAFF_INVITATION_DAYS"]
    run_action(
        lambda: invites.invite_leaders(people_named, actor=current_user._get_current_object()),
        success=lambda added: (
            f"{len(added)} leader{'s' if len(added) != 1 else ''} invited: {', '.join(u.name for u in added)}. "
            f"We've emailed each a link to join the team, which works once within {days} days; they show on the "
            "Team page as Invited until they accept."
        ),
    )
    return redirect(url_for(".import_preview", preview_id=preview.id))


@bp.post("/invitations/import/confirm")
@organiser_required
def confirm_import():
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    preview = import_previews.find_preview(form.preview.data, current_user.id)
    if preview is None:
        return _gone()
    champions = champion_map()
    check = check_kept(preview, champions)
    import_previews.forget_preview(preview)
    if not check.ok:
        # Something changed since the preview (a champion removed, say): show the errors, import nothing.
        db.session.commit()  # the file is forgotten: it needs fixing and uploading again
        flash("The file no longer checks out, so nothing was imported. See the problems below.", "error")
        return _render(check, None, preview.filename, 422)
    outcome = people.import_invitees(check.rows, champions, actor=current_user)
    db.session.commit()
    flash(
        f"Imported: {outcome.created} new invitations, {outcome.updated} updated, {outcome.unchanged} unchanged.",
        "success",
    )
    return redirect(url_for(".invitations"))
