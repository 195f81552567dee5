"""Staff accounts (organisers, leaders, stewards), their sign-ins and their hashed API tokens."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.core.db import Base, UTCDateTime, enum_column, utcnow

_STAND_IN_HASHES: dict[str, str] = {}  # per hash method: a hash of a random password nobody knows


def check_password_nobody_has(password: str) -> bool:
    """The work of checking a password, for a sign-in with no password to check (an unknown email, a leader who
    signs in by link): that answer then takes as long as a wrong password for a real account, so its time doesn't
    tell who has an account. Always False."""
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _STAND_IN_HASHES:
        _STAND_IN_HASHES[method] = generate_password_hash(secrets.token_urlsafe(32), method=method)
    check_password_hash(_STAND_IN_HASHES[method], password)
    return False


class Role(enum.Enum):
    ORGANISER = "organiser"
    LEADER = "leader"
    STEWARD = "steward"

    @property
    def label(self) -> str:
        return self.value.capitalize()


class User(UserMixin, Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of what every session and remember cookie of this account carries: raising it ("sign out
    # everywhere", a password change, deactivation) makes every one of them stop working on its next request.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    # Invited from the Team page and not yet accepted: the account stays inactive (so every sign-in path already
    # refuses it) until the person opens their invitation and chooses how to sign in.
    invitation_pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    # An organiser withdrew the invitation before it was accepted: the account stays inactive, and its link says so.
    invitation_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self) -> str:
        """What Flask-Login keeps in the session and signs into the remember cookie: "<id>:<session version>:<this
        sign-in's nonce>", so that ending one sign-in, or every sign-in of the account, refuses both on the next
        request (app/core/auth/sessions.py). Only a sign-in started there has a nonce."""
        nonce = getattr(self, "_sign_in_nonce", None)
        if not nonce:
            raise RuntimeError("Start a sign-in with app.core.auth.sessions.sign_in(), not login_user() alone.")
        return f"{self.id}:{self.session_version}:{nonce}"

    def set_password(self, password: str) -> None:
        # scrypt unless testing; checking reads the method back from the stored hash.
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return check_password_nobody_has(password)
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # flask-login reads this
        return self.active


class StaffSession(Base):
    """One sign-in of a staff account on one browser: what its session and remember cookie stand for.

    Signing out deletes the row, so that browser's cookies, copied or not, open nothing afterwards, while the
    account's other sign-ins (the leader's phone, when they sign out on a shared laptop) go on. Only a hash of
    the nonce the cookies carry is kept."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # sha256 of the token: a database dump alone yields no working token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class SignInLink(Base):
    """A one-time, short-lived link that signs a leader in from their email: no password to remember.

    Only the token's hash is kept, so a database dump opens nobody's account; `used_at` is set by one
    conditional UPDATE, so a link signs in once however many taps or tabs race for it."""

    __tablename__ = "sign_in_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class StaffLinkPurpose(enum.Enum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"


class StaffLink(Base):
    """A one-time, time-limited link emailed to a staff member: their invitation to the team (choose a password,
    or for a leader sign in by emailed links), or a password reset. Only the token's hash is kept; `used_at` is
    set by one conditional UPDATE, so a link acts once; a new link of the same purpose ends the older ones."""

    __tablename__ = "staff_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[StaffLinkPurpose] = mapped_column(enum_column(StaffLinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
