"""The delegate's badge (page, PNG, PDF, offline worker) and the organisers' badge printing and code reissue."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.badges import apple_wallet, builders, google_wallet, rules, wallet
from app.badges.forms import NoPlaceBadgeForm, PrintForm, ReissueForm, ReprintForm, RoleForm
from app.core.actions import confirm_step, run_action
from app.core.auth.decorators import mark, organiser_required
from app.core.db import db
from app.core.downloads import download
from app.core.extensions import personal_link_limit
from app.core.security import private_page
from app.core.summit.settings import find_summit
from invitations import links
from invitations import people as invitation_people
from invitations.models import Invitation

bp = Blueprint("badges", __name__)
admin_bp = Blueprint("badge_admin", __name__, url_prefix="/organiser/badges")

personal_link_limit()(bp)
# As every personal page: never in a shared cache, never leaked as a referrer. (The service worker keeps its
# own copy of the badge page on the delegate's phone, which no-store does not prevent.)
bp.after_request(private_page)


def _holder(token: str) -> Invitation:
    """A live invitation behind the link, or 404: handed-on and revoked invitations have no badge."""
    invitation = links.invitation_for_link(token, live=False)
    if not rules.has_badge(invitation):
        abort(404)  # handed on: the badge went with the place, so this link has none (404, not 410)
    return invitation


@bp.get("/i/<token>/badge")
def page(token: str):
    invitation = _holder(token)
    badge = rules.badge_for(invitation)
    summit = find_summit()
    config = current_app.config
    apple = google = None
    if apple_wallet.configured(config) or google_wallet.configured(config):
        facts = wallet.pass_facts(invitation, summit)
        if facts is not None:
            apple = url_for(".pkpass", token=token) if apple_wallet.available(config) else None
            google = google_wallet.save_link(facts, config) if google_wallet.available(config) else None
    return render_template(
        "badges/badge.html",
        invitation=invitation,
        token=token,
        badge=badge,
        summit=summit,
        has_place=rules.has_summit_place(invitation),
        qr=builders.qr_data_uri(invitation.code, box_size=12),
        apple_wallet_url=apple,
        google_wallet_url=google,
    )


@bp.get("/i/<token>/badge.pkpass")
def pkpass(token: str):
    """The badge as an Apple Wallet pass: for a confirmed place, while Apple Wallet is set up and can sign."""
    invitation = _holder(token)
    config = current_app.config
    facts = wallet.pass_facts(invitation)
    if facts is None or not apple_wallet.available(config):
        abort(404, "There is no Apple Wallet pass for this badge: it is for a confirmed place at the summit.")
    body = apple_wallet.pkpass_from_config(facts, config)
    return download(body, apple_wallet.MIMETYPE, "new-horizons-badge.pkpass")


@bp.get("/i/<token>/badge.png")
def png(token: str):
    invitation = _holder(token)
    return Response(builders.qr_png(invitation.code), mimetype="image/png")


@bp.get("/i/<token>/badge.pdf")
def pdf(token: str):
    invitation = _holder(token)
    body = builders.badge_pdf(rules.badge_for(invitation))
    return download(body, "application/pdf", "new-horizons-badge.pdf", inline=True)


@bp.get("/badge-sw.js")
def service_worker():
    """The badge page's offline copy. Served from the root so it may control /i/<token>/badge (its scope)."""
    response = send_from_directory(
        current_app.static_folder or "static", "js/badge-sw.js", mimetype="text/javascript", max_age=0
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


# Public, like the static files; no-cache, so the phone fetches a new worker when there is one.
mark(service_worker, allowed_roles=None, keeps_cache_control=True)


# --- organisers ----------------------------------------------------------------------------------


def _back(form, invitation: Invitation):
    if form.back.data == "invitation":
        return redirect(url_for("organiser.invitation", invitation_id=invitation.id))
    return redirect(url_for(".index"))


def _no_place_form(**kwargs) -> NoPlaceBadgeForm:
    """The staff and speakers form, its staff accounts to tick listed now (kwargs: formdata=None for a blank one)."""
    form = NoPlaceBadgeForm(**kwargs)
    form.staff.choices = [
        SelectChoice(user.id, f"{user.name} ({', '.join(filter(None, [user.role.label, user.organisation]))})")
        for user in rules.staff_accounts()
    ]
    return form


def _index_page(no_place_form: NoPlaceBadgeForm | None = None) -> str:
    people = rules.registered_invitations()
    printed = rules.printed_fingerprints()
    due = {inv.id for inv in people if printed.get(inv.id) != rules.fingerprint(inv)}
    return render_template(
        "badges/organiser.html",
        form=PrintForm(),
        no_place_form=no_place_form or _no_place_form(formdata=None),
        people=people,
        due=due,
        printed=printed,
        last=rules.last_print(),
        reissue=ReissueForm(),
        layouts=builders.LAYOUTS,
        roles=builders.ROLES,
    )


@admin_bp.get("")
@organiser_required
def index():
    return _index_page()


@admin_bp.post("/no-place")
@organiser_required
def print_no_place():
    """Badges for staff, speakers and guests, who hold no delegate place: the role band and no QR."""
    form = _no_place_form()
    if not form.validate_on_submit():
        return _index_page(form), 422
    chosen = set(form.staff.data or [])
    staff = [user for user in rules.staff_accounts() if user.id in chosen]
    badges = rules.no_place_badges(staff, form.people, form.band.data)
    body = builders.badge_sheets_pdf(badges, form.layout.data)
    rules.record_no_place_print(badges, layout=form.layout.data, actor=current_user)
    db.session.commit()
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="badges-staff-and-speakers-{form.layout.data}.pdf"'},
    )


mark(print_no_place, rerenders_stale_form=True)


@admin_bp.post("/<int:invitation_id>/reprint")
@organiser_required
def reprint(invitation_id: int):
    """One badge again, from the invitation's page: the PDF, and the reprint recorded there."""
    invitation = invitation_people.get_invitation(invitation_id)
    if not ReprintForm().validate_on_submit():
        abort(400)
    if not rules.has_badge(invitation):
        flash("This invitation is no longer live, so it has no badge to print.", "error")
        return redirect(url_for("organiser.invitation", invitation_id=invitation.id))
    return reprinted(invitation, via="invitation")


def reprinted(invitation: Invitation, *, via: str) -> Response:
    """Record a single reprint, commit, and answer with the badge's PDF (the scanner's reprint uses it too)."""
    rules.record_reprint(invitation, via=via, actor=current_user)
    body = builders.badge_pdf(rules.badge_for(invitation))
    db.session.commit()
    return Response(
        body,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="badge-{invitation.id}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@admin_bp.post("/print")
@organiser_required
def print_sheets():
    form = PrintForm()
    if not form.validate_on_submit():
        flash("Choose which badges to print and a layout.", "error")
        return redirect(url_for(".index"))
    people = rules.badges_to_print(form.which.data)
    if not people:
        flash("There are no badges to print: every registered delegate's badge has been printed as it is now.", "info")
        return redirect(url_for(".index"))
    body = builders.badge_sheets_pdf([rules.badge_for(inv) for inv in people], form.layout.data)
    rules.record_print(people, which=form.which.data, layout=form.layout.data, actor=current_user)
    db.session.commit()
    return download(body, "application/pdf", f"badges-{form.which.data}-{form.layout.data}.pdf")


@admin_bp.get("/preview.pdf")
@organiser_required
def preview():
    """The same sheets without recording a print batch (to check the layout first)."""
    which = request.args.get("which", "all")
    layout = request.args.get("layout", builders.DEFAULT_LAYOUT)
    if which not in rules.PRINT_FILTERS or layout not in builders.LAYOUTS:
        abort(400)
    people = rules.badges_to_print(which)
    body = builders.badge_sheets_pdf([rules.badge_for(inv) for inv in people], layout)
    return download(body, "application/pdf", "badges-preview.pdf", inline=True)


@admin_bp.route("/<int:invitation_id>/reissue-code", methods=["GET", "POST"])
@organiser_required
def reissue_code(invitation_id: int):
    """A new code for a lost or copied badge, after a page that says the printed badge stops working."""
    invitation = invitation_people.get_invitation(invitation_id)
    form = ReissueForm()
    if form.is_submitted() and not form.validate_on_submit():
        abort(400)
    if form.confirmed:
        run_action(
            lambda: rules.reissue_code(invitation, actor=current_user),
            success=(
                f"{invitation.name} has a new badge code. Their old badge no longer works: print them a new one "
                "(it is in “new or changed since the last print”), and their phone badge updates when they next "
                "open it."
            ),
        )
        return _back(form, invitation)
    back = form.back.data if form.is_submitted() else request.args.get("back", "")
    back = back if back in ("invitation", "index") else "index"
    to_invitation = back == "invitation"
    return confirm_step(
        form,
        heading=f"Reissue {invitation.name}'s badge code?",
        consequences=[
            "Reissuing the code stops the printed badge from working at the door: the scanner will answer "
            "“Not a valid badge”.",
            f"Print {invitation.name} a new badge (it will be among “new or changed since the last print”). The badge "
            "on their phone shows the new code when they next open it.",
        ],
        button="Reissue the code",
        back=back,
        back_url=url_for("organiser.invitation", invitation_id=invitation.id) if to_invitation else url_for(".index"),
        back_label=f"Back to {invitation.name}" if to_invitation else "Back to the badges",
    )


@admin_bp.post("/<int:invitation_id>/role")
@organiser_required
def set_role(invitation_id: int):
    invitation = invitation_people.get_invitation(invitation_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    run_action(
        lambda: rules.set_badge_role(invitation, form.badge_role.data, actor=current_user),
        success=lambda _: f"{invitation.name}'s badge says {builders.ROLES[invitation.badge_role][0]}.",
    )
    return _back(form, invitation)


@admin_bp.app_context_processor
def _badge_roles():
    # For badges/_organiser_actions.html, included on the organisers' invitation page.
    return {"badge_roles": builders.ROLES, "reprint_places": rules.REPRINT_PLACES}


@admin_bp.app_template_global("badge_reprints")
def badge_reprints(invitation: Invitation):
    """For the organisers' invitation page: when this badge was printed again, and by whom."""
    return rules.reprints(invitation)
