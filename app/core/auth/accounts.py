"""What staff do to their own account (change the password, sign out everywhere) and organisers to others'
(deactivate, reactivate): each ends the account's other sign-ins and API tokens, and each is audited."""

from __future__ import annotations

from sqlalchemy import select

from app.core import audit
from app.core.auth.credentials import MIN_PASSWORD_LENGTH
from app.core.auth.models import Role, User
from app.core.auth.sessions import end_every_sign_in
from app.core.db import db
from app.core.errors import Conflict, ValidationFailed


def change_password(user: User, *, current: str, new: str, repeated: str) -> None:
    """Check the current password, set the new one, and end every sign-in and API token of the account (the
    view signs this browser in again). The caller commits."""
    if not user.check_password(current):
        raise ValidationFailed("That isn't your current password. Type it again.", field="current_password")
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"The new password must be at least {MIN_PASSWORD_LENGTH} characters long.", field="new_password"
        )
    if new != repeated:
        raise ValidationFailed("The two new passwords are different. Type the same one twice.", field="repeat_password")
    if new == current:
        raise ValidationFailed("The new password is the one you have now. Choose another.", field="new_password")
    user.set_password(new)
    revoked = end_every_sign_in(user)
    audit.record("staff.password_changed", actor=user, user_id=user.id, tokens_revoked=revoked)


def sign_out_everywhere(user: User) -> int:
    """End every session, remember cookie and API token of this account, this browser's included."""
    revoked = end_every_sign_in(user)
    audit.record("staff.signed_out_everywhere", actor=user, user_id=user.id, tokens_revoked=revoked)
    return revoked


def team() -> list[User]:
    """Every staff account: organisers, then leaders, then stewards, each by name."""
    order = {Role.ORGANISER: 0, Role.LEADER: 1, Role.STEWARD: 2}
    users = db.session.scalars(select(User)).all()
    return sorted(users, key=lambda u: (order.get(u.role, 9), u.name.lower(), u.id))


def _locked_active_organisers() -> list[int]:
    """The ids of the active organisers, their rows locked for the rest of the transaction (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already serialises writers), so two organisers deactivating each other at once can't both win."""
    query = select(User.id).where(User.role == Role.ORGANISER, User.active.is_(True)).with_for_update()
    return list(db.session.scalars(query))


def set_active(target: User, *, active: bool, actor: User) -> int:
    """Deactivate (ending every session, remember cookie and API token of the account on its next request) or
    reactivate a staff account. Nobody deactivates themselves, and the last active organiser stays. Returns how
    many API tokens were revoked. The caller commits."""
    organisers = _locked_active_organisers()
    db.session.refresh(target)
    db.session.refresh(actor)
    if actor.role != Role.ORGANISER or not actor.active:
        raise Conflict("Your own account has been deactivated in the meantime, so nothing was changed.")
    if active and target.invitation_withdrawn_at is not None:
        raise Conflict(
            f"{target.name}'s invitation was withdrawn before they accepted it, so there is nothing to reactivate: "
            "invite them again instead."
        )
    if active and target.invitation_pending:
        raise Conflict(
            f"{target.name} hasn't accepted their invitation yet, so there is nothing to reactivate: re-send the "
            "invitation instead."
        )
    if target.active == active:
        done = "reactivated" if active else "deactivated"
        raise Conflict(f"{target.name}'s account was already {done}, perhaps a moment ago in another tab.")
    revoked = 0
    if not active:
        if target.id == actor.id:
            raise ValidationFailed(
                "You can't deactivate your own account. Another organiser can, or use “Sign out everywhere”."
            )
        if target.role == Role.ORGANISER and [i for i in organisers if i != target.id] == []:
            raise ValidationFailed(
                f"{target.name} is the last active organiser, so their account stays: reactivate or add another "
                "organiser first."
            )
        target.active = False
        revoked = end_every_sign_in(target)
    else:
        target.active = True
    audit.record(
        "staff.deactivated" if not active else "staff.reactivated",
        actor=actor,
        user_id=target.id,
        tokens_revoked=revoked,
    )
    return revoked


def _is_lowered(before: Role, after: Role) -> bool:
    """Anything but a rise to organiser: what the person may do changes, so their sign-ins start afresh (a
    leader's scanner API token must not quietly become a steward's, which checks people in)."""
    return before != after and after != Role.ORGANISER


def change_role(target: User, *, role: Role, actor: User) -> int:
    """Make a staff member an organiser, a leader or a steward. Nobody changes their own role, and the last active
    organiser stays one. A change other than to organiser ends every session, remember cookie and API token of
    the account. Returns how many API tokens were revoked. The caller commits."""
    organisers = _locked_active_organisers()
    db.session.refresh(target)
    db.session.refresh(actor)
    if actor.role != Role.ORGANISER or not actor.active:
        raise Conflict("Your own account is no longer an active organiser's, so nothing was changed.")
    if target.role == role:
        raise Conflict(f"{target.name} is already a{'n' if role == Role.ORGANISER else ''} {role.value}.")
    if target.id == actor.id:
        raise ValidationFailed("You can't change your own role. Another organiser can.", field="role")
    if target.role == Role.ORGANISER and target.active and [i for i in organisers if i != target.id] == []:
        raise ValidationFailed(
            f"{target.name} is the last active organiser, so they stay one: make someone else an organiser first.",
            field="role",
        )
    before = target.role
    target.role = role
    signed_out = _is_lowered(before, role)
    revoked = end_every_sign_in(target) if signed_out else 0
    audit.record(
        "staff.role_changed",
        actor=actor,
        user_id=target.id,
        before=before.value,
        after=role.value,
        signed_out=signed_out and not target.invitation_pending,  # someone yet to join had nothing to end
        tokens_revoked=revoked,
    )
    return revoked
