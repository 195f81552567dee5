"""One-time links emailed to staff: the invitation to join the team, and a password reset. Each is 128 bits
from `secrets` with a MAC of its own purpose; only its hash is stored, the email in the outbox holds a
placeholder (app.core.mail.links), and it acts once, by a POST, within its time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update

from app.core.auth.models import SignInLink, StaffLink, StaffLinkPurpose, User
from app.core.db import changed, db, utcnow
from app.core.security import (
    hash_staff_link_token,
    new_link_selector,
    password_reset_selector_from_token,
    password_reset_token,
    staff_invitation_selector_from_token,
    staff_invitation_token,
)

_TOKEN = {StaffLinkPurpose.INVITATION: staff_invitation_token, StaffLinkPurpose.PASSWORD_RESET: password_reset_token}
_SELECTOR = {
    StaffLinkPurpose.INVITATION: staff_invitation_selector_from_token,
    StaffLinkPurpose.PASSWORD_RESET: password_reset_selector_from_token,
}


def lifetime(purpose: StaffLinkPurpose) -> timedelta:
    if purpose == StaffLinkPurpose.INVITATION:
        return timedelta(days=current_app.config["STAFF_INVITATION_DAYS"])
    return timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])


def new_token(purpose: StaffLinkPurpose) -> str:
    return _TOKEN[purpose](new_link_selector())


def issue(user: User, purpose: StaffLinkPurpose, *, token: str | None = None, now: datetime | None = None) -> str:
    """A new link of this purpose for the account; every older one of the same purpose stops working (its row
    goes). Returns the token, for the email only. The caller commits."""
    now = now or utcnow()
    token = token or new_token(purpose)
    db.session.execute(delete(StaffLink).where(StaffLink.user_id == user.id, StaffLink.purpose == purpose))
    db.session.add(
        StaffLink(
            user_id=user.id,
            purpose=purpose,
            token_hash=hash_staff_link_token(token),
            created_at=now,
            expires_at=now + lifetime(purpose),
        )
    )
    db.session.flush()
    return token


def end_all(user: User, purpose: StaffLinkPurpose) -> None:
    db.session.execute(delete(StaffLink).where(StaffLink.user_id == user.id, StaffLink.purpose == purpose))


@dataclass(frozen=True)
class StaffLinkCheck:
    """What a link is now: `problem` None for one that will act for `user`, else "unknown", "used", "expired" or
    (an invitation an organiser took back) "withdrawn"."""

    problem: str | None
    user: User | None = None
    link: StaffLink | None = None

    @property
    def status(self) -> int:
        return 404 if self.problem == "unknown" else 410


def check(token: str, purpose: StaffLinkPurpose, now: datetime | None = None) -> StaffLinkCheck:
    """Only a token carrying this purpose's MAC is looked up at all. An invitation is open only while the account
    awaits it; a reset link only while the account is active."""
    now = now or utcnow()
    if _SELECTOR[purpose](token) is None:
        return StaffLinkCheck("unknown")
    link = db.session.scalars(
        select(StaffLink).where(StaffLink.token_hash == hash_staff_link_token(token), StaffLink.purpose == purpose)
    ).first()
    if link is None:
        return StaffLinkCheck("unknown")
    user = link.user
    if purpose == StaffLinkPurpose.INVITATION and user.invitation_withdrawn_at is not None and link.used_at is None:
        return StaffLinkCheck("withdrawn", user, link)
    usable = user.invitation_pending if purpose == StaffLinkPurpose.INVITATION else user.active
    if link.used_at is not None or not usable:
        return StaffLinkCheck("used", user, link)
    if link.expires_at <= now:
        return StaffLinkCheck("expired", user, link)
    return StaffLinkCheck(None, user, link)


def use(token: str, purpose: StaffLinkPurpose, now: datetime | None = None) -> StaffLinkCheck:
    """Spend the link: one conditional UPDATE, so of two presses at once exactly one acts."""
    now = now or utcnow()
    found = check(token, purpose, now)
    if found.problem is not None or found.link is None:
        return found
    if not spend(found.link, now):
        return check(token, purpose, now)
    return found


def spend(link: StaffLink | SignInLink, now: datetime) -> bool:
    """Use a one-time link (a staff link or a leader's sign-in link) up: one conditional UPDATE, so of two presses
    at once exactly one gets True. The link is read again either way."""
    model = type(link)
    spent = changed(
        db.session.execute(
            update(model)
            .where(model.id == link.id, model.used_at.is_(None), model.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(link)
    return spent == 1
