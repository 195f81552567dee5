"""Creating staff accounts and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from app.auth.models import ApiToken, Role, SignInLink, User
from app.db import changed, db, utcnow
from app.email_addresses import InvalidAddress, normalise_address
from app.errors import ValidationFailed
from app.mail.outbox import enqueue
from app.security import (
    hash_api_token,
    hash_sign_in_token,
    new_api_token,
    new_link_selector,
    sign_in_selector_from_token,
    sign_in_token,
)
from app.urls import external_url

MIN_PASSWORD_LENGTH = 10


def find_user(email: str) -> User | None:
    try:
        address = normalise_address(email)
    except InvalidAddress:
        address = email.strip().lower()  # an account made before the rule existed is still found by the CLI
    return db.session.scalars(select(User).where(User.email == address)).first()


def create_user(
    email: str, *, name: str, role: Role, password: str | None, organisation: str = "", job_title: str = ""
) -> User:
    try:
        email = normalise_address(email)
    except InvalidAddress as error:
        raise ValidationFailed(f"'{email.strip()}' can't be used to sign in, so no account was made: {error}") from None
    if not name.strip():
        raise ValidationFailed("A name is needed.")
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if find_user(email) is not None:
        raise ValidationFailed(f"There is already an account for {email}.")
    user = User(email=email, name=name.strip(), role=role, organisation=organisation, job_title=job_title)
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def issue_api_token(user: User) -> str:
    token = new_api_token()
    db.session.add(ApiToken(user=user, token_hash=hash_api_token(token)))
    db.session.flush()
    return token


def user_for_api_token(token: str) -> User | None:
    row = db.session.scalars(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token))).first()
    if row is None or not row.user.active:
        return None
    row.last_used_at = utcnow()
    return row.user


def authenticate(email: str, password: str) -> User | None:
    user = find_user(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


# --- a leader's one-time sign-in link ------------------------------------------------------------

# Who may sign in from an emailed link: leaders, busy council leaders on their phones. Organisers and
# stewards keep their passwords.
SIGN_IN_BY_LINK = frozenset({Role.LEADER})


def send_sign_in_link(email: str, *, now: datetime | None = None) -> bool:
    """Email a one-time sign-in link to a leader's account at this address. Does nothing for any other
    address, and the caller must answer both the same way, so the answer says nothing about who has an
    account. Returns whether a link was sent (for tests and logs of counts, never for the page)."""
    now = now or utcnow()
    user = find_user(email)
    if user is None or not user.active or user.role not in SIGN_IN_BY_LINK:
        return False
    minutes = current_app.config["SIGN_IN_LINK_MINUTES"]
    token = sign_in_token(new_link_selector())
    db.session.add(
        SignInLink(
            user_id=user.id,
            token_hash=hash_sign_in_token(token),
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
    )
    enqueue(
        "sign_in_link",
        to_email=user.email,
        to_name=user.name,
        subject="Your sign-in link for New Horizons",
        context={"user": user, "link": external_url("auth.link_sign_in", token=token), "minutes": minutes},
    )
    db.session.flush()
    return True


@dataclass(frozen=True)
class LinkCheck:
    """What a sign-in link is now: `problem` is None for a link that will sign `user` in, else
    "unknown", "used" or "expired"."""

    problem: str | None
    user: User | None = None
    link: SignInLink | None = None


def check_sign_in_link(token: str, now: datetime | None = None) -> LinkCheck:
    now = now or utcnow()
    if sign_in_selector_from_token(token) is None:
        return LinkCheck("unknown")
    link = db.session.scalars(select(SignInLink).where(SignInLink.token_hash == hash_sign_in_token(token))).first()
    if link is None or not link.user.active or link.user.role not in SIGN_IN_BY_LINK:
        return LinkCheck("unknown")
    if link.used_at is not None:
        return LinkCheck("used", link.user, link)
    if link.expires_at <= now:
        return LinkCheck("expired", link.user, link)
    return LinkCheck(None, link.user, link)


def use_sign_in_link(token: str, now: datetime | None = None) -> LinkCheck:
    """Spend the link: one conditional UPDATE, so of two taps at once exactly one signs in."""
    now = now or utcnow()
    found = check_sign_in_link(token, now)
    if found.problem is not None or found.link is None:
        return found
    spent = changed(
        db.session.execute(
            update(SignInLink)
            .where(SignInLink.id == found.link.id, SignInLink.used_at.is_(None), SignInLink.expires_at > now)
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(found.link)
    if spent != 1:
        return check_sign_in_link(token, now)
    return found
