""" "Lost your link?": a person types their email and, if they are invited, their current link is emailed
to that address. The page answers the same whoever the address belongs to, and is rate-limited."""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

from app.core.auth.decorators import mark
from app.core.auth.forms import EmailLinkForm
from app.core.db import db
from app.core.extensions import email_link_limits
from app.core.summit import settings as summit_settings
from invitations.mailing import send_current_link

bp = Blueprint("recovery", __name__)


@bp.route("/lost-link", methods=["GET", "POST"])
@email_link_limits("lost-link")
def lost_link():
    form = EmailLinkForm()
    if form.validate_on_submit():
        send_current_link(form.email.data)
        db.session.commit()
        return render_template(
            "auth/link_sent.html",
            email=form.email.data.strip(),
            whose=f"has an invitation to {summit_settings.summit_name()}",
            what="its personal link",
            detail="It can take a few minutes. That link is your current one: older links may no longer work.",
            again_url=url_for(".lost_link"),
            again="try another address",
            help="Perhaps a work address your invitation was sent to? If you think you should have been invited, "
            "reply to any email from the organisers.",
        )
    status = 422 if form.is_submitted() else 200
    return render_template("invitations/lost_link.html", form=form), status


mark(lost_link, allowed_roles=None, rerenders_stale_form=True)  # public
