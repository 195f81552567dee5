"""Creating staff accounts and API tokens."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import ApiToken, Role, User
from app.db import db, utcnow
from app.email_addresses import InvalidAddress, normalise_address
from app.errors import ValidationFailed
from app.security import hash_api_token, new_api_token

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
