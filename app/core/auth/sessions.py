"""Staff sign-ins that can be taken back: what a session and a remember cookie carry, and ending them.

A staff member's session cookie and remember cookie both carry "<id>:<session version>:<nonce>" (User.get_id),
signed with SECRET_KEY. Every request loads the account from the database and checks all three, so what ends
access takes effect on that account's next request, on every worker and every server, with no cache to wait out:

- signing out deletes this sign-in's row (StaffSession): this browser's cookies, and any copy of them, stop
  working; the account's other sign-ins go on. We chose a nonce per sign-in over raising the version at each
  sign-out because a leader who signs out of a shared laptop should not be signed out of the phone in their
  pocket, nor a steward's colleague at the next door of the same shared account;
- "sign out everywhere", a password change and deactivation raise the account's session version and delete
  every sign-in row and every API token (`end_every_sign_in`): every session, remember cookie and scanner of
  the account stops working;
- a sign-in lasts REMEMBER_COOKIE_DAYS at most, remembered or not, whatever a browser keeps.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, select, update

from app.core.auth.models import ApiToken, StaffSession, User
from app.core.db import db, utcnow


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def lifetime() -> timedelta:
    return timedelta(days=current_app.config["REMEMBER_COOKIE_DAYS"])


def sign_in(user: User, *, remember: bool, now: datetime | None = None) -> StaffSession:
    """Start a sign-in of `user` on this browser (a row, a fresh nonce) and hand it to Flask-Login. Sign-ins of
    this account that have outlived REMEMBER_COOKIE_DAYS are tidied away. The caller commits."""
    now = now or utcnow()
    db.session.execute(
        delete(StaffSession).where(StaffSession.user_id == user.id, StaffSession.created_at <= now - lifetime())
    )
    nonce = secrets.token_urlsafe(24)
    row = StaffSession(user_id=user.id, nonce_hash=_hash(nonce), created_at=now)
    db.session.add(row)
    db.session.flush()
    user._sign_in_nonce = nonce  # read by User.get_id
    login_user(user, remember=remember, duration=lifetime())
    return row


def load_user(value: str) -> User | None:
    """Flask-Login's user loader, for the session and the remember cookie alike: the account, only while it is
    active, its session version is the one the cookie carries, and that sign-in is neither ended nor too old."""
    try:
        user_id, version, nonce = value.split(":")
        user_id_number, version_number = int(user_id), int(version)
    except (AttributeError, TypeError, ValueError):
        return None  # not ours, or signed before sign-ins were versioned: sign in again
    user = db.session.scalars(
        select(User)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(
            User.id == user_id_number,
            User.active.is_(True),
            User.session_version == version_number,
            StaffSession.nonce_hash == _hash(nonce),
            StaffSession.created_at > utcnow() - lifetime(),
        )
    ).first()
    if user is not None:
        user._sign_in_nonce = nonce
    return user


def _this_sign_in_nonce() -> str | None:
    parts = str(session.get("_user_id") or "").split(":")
    return parts[2] if len(parts) == 3 else None


def sign_out() -> None:
    """End this browser's sign-in: its row goes, and Flask-Login forgets the session and deletes the remember
    cookie. A copy of either cookie opens nothing afterwards. The caller commits."""
    nonce = _this_sign_in_nonce()
    if nonce is not None:
        db.session.execute(delete(StaffSession).where(StaffSession.nonce_hash == _hash(nonce)))
    logout_user()


def end_every_sign_in(user: User) -> int:
    """End every session, remember cookie and API token of this account, on its next request wherever it is
    made: the session version goes up, every sign-in row and every API token is deleted. Returns how many API
    tokens were revoked. The caller commits (and signs this browser in again, or out)."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user, ["session_version"])
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
    tokens = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return int(getattr(tokens, "rowcount", 0) or 0)
