""" "Forgotten your password?": a one-time reset link emailed to a staff account's address, with the same answer
and the same work whoever the address belongs to; setting the new password ends every other sign-in."""

from __future__ import annotations

from flask import current_app

from app.core import audit
from app.core.auth import credentials, staff_links
from app.core.auth.credentials import MIN_PASSWORD_LENGTH
from app.core.auth.models import StaffLinkPurpose
from app.core.auth.sessions import end_every_sign_in
from app.core.errors import ValidationFailed
from app.core.mail.outbox import enqueue
from app.core.summit import settings as summit_settings
from app.core.urls import external_url


def send_reset_link(email: str) -> bool:
    """Email a reset link to the active staff account at this address; for any other address, nothing is sent.
    Either way a token is made and no password is hashed, and the page answers the same, so neither the answer nor
    its time says who has an account. Returns whether a link was sent (for tests, never for the page)."""
    token = staff_links.new_token(StaffLinkPurpose.PASSWORD_RESET)
    user = credentials.find_user(email)
    if user is None or not user.active or user.invitation_pending:
        return False
    staff_links.issue(user, StaffLinkPurpose.PASSWORD_RESET, token=token)
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    enqueue(
        "password_reset",
        to_email=user.email,
        to_name=user.name,
        subject=f"Choose a new password for {summit_settings.summit_name()}",
        context={"user": user, "link": external_url("auth.reset_password", token=token), "minutes": minutes},
    )
    return True


def reset_password(token: str, *, password: str, repeated: str) -> staff_links.StaffLinkCheck:
    """Spend the link and set the new password, ending every session, remember cookie and API token of the
    account (the view then signs this browser in afresh). A check with a problem is returned as it is."""
    found = staff_links.check(token, StaffLinkPurpose.PASSWORD_RESET)
    if found.problem is not None or found.user is None:
        return found
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="new_password"
        )
    if password != repeated:
        raise ValidationFailed("The two passwords are different. Type the same one twice.", field="repeat_password")
    spent = staff_links.use(token, StaffLinkPurpose.PASSWORD_RESET)
    if spent.problem is not None or spent.user is None:
        return spent
    user = spent.user
    user.set_password(password)
    revoked = end_every_sign_in(user)
    audit.record("staff.password_reset", actor=user, user_id=user.id, tokens_revoked=revoked)
    return spent
