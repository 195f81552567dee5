"""Organisers invite their team from the browser: an account made inactive and awaiting its invitation, a
one-time link emailed through the outbox, re-sent when needed, and accepted by the person it was sent to."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.auth import credentials, staff_links
from app.core.auth.credentials import MIN_PASSWORD_LENGTH, SIGN_IN_BY_LINK
from app.core.auth.models import Role, StaffLinkPurpose, User
from app.core.db import db, utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.mail.outbox import enqueue
from app.core.summit import settings as summit_settings
from app.core.urls import external_url

# Why inactive until accepted, rather than active with no password: every way in (the password form, an emailed
# sign-in link, a remembered cookie, an API token) already refuses an inactive account, so nobody gets in until
# the person holding the address has opened the link; and an organiser who hasn't joined yet doesn't count as
# "another active organiser" for the rule that the last one stays.


def _send(user: User, actor: User) -> None:
    token = staff_links.issue(user, StaffLinkPurpose.INVITATION)
    days = current_app.config["STAFF_INVITATION_DAYS"]
    enqueue(
        "staff_invitation",
        to_email=user.email,
        to_name=user.name,
        subject=f"Join the team for {summit_settings.summit_name()}",
        context={
            "user": user,
            "inviter": actor.name,
            "link": external_url("auth.join", token=token),
            "days": days,
            "by_link": user.role in SIGN_IN_BY_LINK,
        },
    )


def invite(email: str, *, name: str, role: Role, actor: User, source: str = "team") -> User:
    """Make the account (inactive, awaiting its invitation) and email the link. An address with an account
    already, in any case, is refused with the field named. The caller commits."""
    if credentials.find_user(email) is not None:
        raise ValidationFailed(
            f"There is already an account for {email.strip()}: find it in the list below.", field="email"
        )
    try:
        with db.session.begin_nested():  # two organisers inviting one address at once: one account, one answer
            user = credentials.create_user(email, name=name, role=role, password=None)
    except IntegrityError:
        raise ValidationFailed(
            f"There is already an account for {email.strip()}: find it in the list below.", field="email"
        ) from None
    except ValidationFailed as error:
        raise ValidationFailed(error.message, field=error.field or "email") from None
    user.active = False
    user.invitation_pending = True
    _send(user, actor)
    audit.record("staff.invited", actor=actor, user_id=user.id, role=role.value, source=source)
    return user


def invite_leaders(people: list[tuple[str, str]], *, actor: User) -> list[User]:
    """Invite (email, name) pairs as leaders, as the Team page invites one (an account awaiting its invitation, a
    one-time link emailed): an invitee list's unknown champions. An address that has an account already is refused,
    and then nobody is invited. The caller commits."""
    invited = []
    for email, name in people:
        existing = credentials.find_user(email)
        if existing is not None:
            role = "a leader's" if existing.role == Role.LEADER else f"a {existing.role.value}'s"
            raise ValidationFailed(f"{existing.email} already has an account ({role}), so no leaders were invited.")
        user = invite(email, name=name, role=Role.LEADER, actor=actor, source="import")
        invited.append(user)
    return invited


def resend(user: User, *, actor: User) -> None:
    """A new link, by email; the old one stops working. A withdrawn invitation is sent again this way too."""
    db.session.refresh(user)
    if not user.invitation_pending and user.invitation_withdrawn_at is None:
        raise Conflict(f"{user.name} has already accepted their invitation, so there is nothing to re-send.")
    user.invitation_pending = True
    user.invitation_withdrawn_at = None
    _send(user, actor)
    audit.record("staff.invitation_resent", actor=actor, user_id=user.id)


def withdraw(user: User, *, actor: User) -> None:
    """Take back an invitation not yet accepted: its link then refuses with a sentence saying so, and the account
    stays inactive until it is invited again. The caller commits."""
    db.session.refresh(user)
    if user.invitation_withdrawn_at is not None:
        raise Conflict(f"{user.name}'s invitation was already withdrawn, perhaps a moment ago in another tab.")
    if not user.invitation_pending:
        raise Conflict(
            f"{user.name} has already accepted their invitation, so there is nothing to withdraw: deactivate the "
            "account instead."
        )
    user.invitation_pending = False
    user.invitation_withdrawn_at = utcnow()
    audit.record("staff.invitation_withdrawn", actor=actor, user_id=user.id)


def accept(token: str, *, password: str | None, repeated: str | None) -> staff_links.StaffLinkCheck:
    """Spend the invitation and open the account: with the password chosen, or, for a leader, none (they sign
    in from emailed links). A check with a problem is returned as it is; the caller commits and signs in."""
    found = staff_links.check(token, StaffLinkPurpose.INVITATION)
    if found.problem is not None or found.user is None:
        return found
    user = found.user
    if password is None:
        if user.role not in SIGN_IN_BY_LINK:
            raise ValidationFailed("Choose a password to sign in with.", field="new_password")
    else:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValidationFailed(
                f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="new_password"
            )
        if password != repeated:
            raise ValidationFailed("The two passwords are different. Type the same one twice.", field="repeat_password")
    spent = staff_links.use(token, StaffLinkPurpose.INVITATION)
    if spent.problem is not None:
        return spent
    if password is not None:
        user.set_password(password)
    user.active = True
    user.invitation_pending = False
    audit.record("staff.joined", actor=user, user_id=user.id, with_password=password is not None)
    return spent
