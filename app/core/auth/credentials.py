"""Creating staff accounts, checking passwords, API tokens and leaders' emailed sign-in links."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Connection, FromClause, Select, bindparam, delete, select, update

from app.core.auth import staff_links
from app.core.auth.models import ApiToken, Role, SignInLink, User, check_password_nobody_has
from app.core.db import UTCDateTime, db, utcnow
from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.errors import ValidationFailed
from app.core.mail.outbox import enqueue
from app.core.security import (
    hash_api_token,
    hash_sign_in_token,
    new_api_token,
    new_link_selector,
    sign_in_selector_from_token,
    sign_in_token,
)
from app.core.summit import settings as summit_settings
from app.core.urls import external_url

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


@dataclass(frozen=True)
class ApiCaller:
    """Whom a working API token speaks for: all the check-in API needs to know, and cheap to keep."""

    id: int
    name: str
    role: Role
    token_id: int


def _known_tokens() -> dict[str, float]:
    """Token hash -> time.monotonic() when this process last saw the token work."""
    return current_app.extensions.setdefault("api_token_cache", {})


def _token_row(token_hash: str):
    """The token's row and its account's, if the account is active: one indexed look-up of its hash."""
    return db.session.execute(
        select(ApiToken.id, ApiToken.last_used_at, User.id, User.name, User.role)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash, User.active.is_(True))
    ).first()


def api_token_works(token: str) -> bool:
    """Whether the token belongs to an active account, for the limit on failed token look-ups, which asks this
    first so that a real scanner is never refused for others' guesses: true at once if this process saw it work
    within API_TOKEN_CACHE_SECONDS, else asked of the database. Only for that limit: whether the token still
    works is asked of the database on every request (caller_for_api_token)."""
    token_hash = hash_api_token(token)
    known = _known_tokens()
    seen = known.get(token_hash)
    if seen is not None and time.monotonic() - seen < current_app.config["API_TOKEN_CACHE_SECONDS"]:
        return True
    if _token_row(token_hash) is None:
        known.pop(token_hash, None)
        return False
    known[token_hash] = time.monotonic()
    return True


def seen_working(token: str, token_hash: str | None = None) -> bool:
    """Whether this process saw the token (whose hash the caller may have worked out already) work within
    API_TOKEN_CACHE_SECONDS: no database, and no promise that it still works (caller_for_api_token asks that), only
    that it isn't a guess."""
    seen = _known_tokens().get(token_hash or hash_api_token(token))
    return seen is not None and time.monotonic() - seen < current_app.config["API_TOKEN_CACHE_SECONDS"]


def caller_select(*columns: Any, joined: Callable[[FromClause], FromClause] = lambda base: base) -> Select:
    """A SELECT of the caller a token belongs to (`token_id`, `token_last_used_at`, `caller_id`, `caller_name`,
    `caller_role`; no row unless the account is active), with the columns and joins a hot path adds, so that its
    one statement asks the token too (bind `token_hash`; hand the row to caller_from_row)."""
    token, user = ApiToken.__table__, User.__table__
    return (
        select(
            token.c.id.label("token_id"),
            token.c.last_used_at.label("token_last_used_at"),
            user.c.id.label("caller_id"),
            user.c.name.label("caller_name"),
            user.c.role.label("caller_role"),
            *columns,
        )
        .select_from(joined(token.join(user, user.c.id == token.c.user_id)))
        .where(token.c.token_hash == bindparam("token_hash"), user.c.active.is_(True))
    )


_LAST_USED = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("used_at", type_=UTCDateTime()))
)


def caller_from_row(row, token_hash: str, connection: Connection) -> ApiCaller:
    """The caller a caller_select row found: the token is remembered as working, and its `last_used_at` written (on
    `connection`, in its transaction) when API_TOKEN_LAST_USED_SECONDS have passed since it last was."""
    _known_tokens()[token_hash] = time.monotonic()
    now = utcnow()
    last_used_at = row.token_last_used_at
    if last_used_at is None or now - last_used_at >= timedelta(
        seconds=current_app.config["API_TOKEN_LAST_USED_SECONDS"]
    ):
        connection.execute(_LAST_USED, {"token_id": row.token_id, "used_at": now})
    return ApiCaller(row.caller_id, row.caller_name, row.caller_role, row.token_id)


def caller_for_api_token(token: str) -> ApiCaller | None:
    """The caller a token belongs to, or None. Every request asks the database (one indexed SELECT), so a token
    revoked, or its account deactivated or signed out everywhere, is refused on its very next request on every
    worker and server. `last_used_at` is written at most once every API_TOKEN_LAST_USED_SECONDS."""
    token_hash = hash_api_token(token)
    known = _known_tokens()
    row = _token_row(token_hash)
    if row is None:
        known.pop(token_hash, None)
        return None
    token_id, last_used_at, user_id, name, role = row
    known[token_hash] = time.monotonic()
    now = utcnow()
    if last_used_at is None or now - last_used_at >= timedelta(
        seconds=current_app.config["API_TOKEN_LAST_USED_SECONDS"]
    ):
        db.will_write()
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return ApiCaller(user_id, name, role, token_id)


def revoke_api_tokens(user: User) -> int:
    """Delete every API token of this account: each is refused on its next request, here and everywhere."""
    hashes = list(db.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)))
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    for token_hash in hashes:
        _known_tokens().pop(token_hash, None)
    return len(hashes)


def authenticate(email: str, password: str) -> User | None:
    """The account, if the email and password match an active one. Every attempt checks one password hash, whether
    or not the email has an account (and one with a password), so the answer's time says nothing about who has."""
    user = find_user(email)
    if user is None:
        check_password_nobody_has(password)
        return None
    if not user.check_password(password) or not user.active:
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
        subject=f"Your sign-in link for {summit_settings.summit_name()}",
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
    if not staff_links.spend(found.link, now):
        return check_sign_in_link(token, now)
    return found
