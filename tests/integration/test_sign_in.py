"""Staff sign-in with a password (app/core/auth/routes.py, credentials.py): signing in and out, where `next` may send
you, and secrets at rest. (Roles on every route: test_route_roles.py; the limits on guessing:
test_limits_spare_the_innocent.py.)"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.core.auth.models import ApiToken, Role, User
from app.core.db import db
from tests.support import factories as f
from tests.support.organiser import signed_in
from tests.support.pages import text

# --- signing in and out --------------------------------------------------------------------------


def test_sign_in_with_the_right_password_lands_on_the_dashboard(app, client):
    f.summit()
    organiser = f.user(email="Olive@Staff.example.org")
    response = client.post("/sign-in", data={"email": "olive@staff.example.org", "password": f.PASSWORD})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/organiser/"
    assert signed_in(client)
    assert organiser.email == "olive@staff.example.org"


def test_wrong_password_is_a_401_with_a_message_and_does_not_sign_in(app, client):
    f.summit()
    organiser = f.user()
    response = client.post("/sign-in", data={"email": organiser.email, "password": "not the password"})
    assert response.status_code == 401
    assert "That email and password don't match an account" in text(response)
    assert not signed_in(client)
    unknown = client.post("/sign-in", data={"email": "nobody@example.org", "password": f.PASSWORD})
    assert unknown.status_code == 401 and "don't match an account" in text(unknown)
    assert not signed_in(client)


def test_an_inactive_account_cannot_sign_in(app, client):
    f.summit()
    organiser = f.user()
    organiser.active = False
    db.session.commit()
    assert client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD}).status_code == 401
    assert not signed_in(client)


def test_sign_out_is_post_only(app, client):
    f.summit()
    f.sign_in(client, f.user())
    assert client.get("/sign-out").status_code == 405
    assert signed_in(client)
    response = client.post("/sign-out")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/sign-in"
    assert not signed_in(client)


# --- where `next` may send you ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "///evil.example",
        "http:evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "\t//evil.example",
        "/%2F/evil.example",
    ],
)
def test_next_cannot_redirect_off_site(app, client, target):
    f.summit()
    organiser = f.user()
    response = client.post(
        "/sign-in", query_string={"next": target}, data={"email": organiser.email, "password": f.PASSWORD}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location)
    # The browser must stay on this site: no other host, no scheme tricks, no protocol-relative path.
    assert parts.scheme in ("", "http") and parts.netloc in ("", "localhost"), location
    assert parts.path.startswith("/") and not parts.path.startswith("//") and "\\" not in location, location
    if "%" not in target:
        assert parts.path == "/organiser/", location


def test_next_on_this_site_is_honoured(app, client):
    f.summit()
    organiser = f.user()
    response = client.post(
        "/sign-in?next=/organiser/waiting-list", data={"email": organiser.email, "password": f.PASSWORD}
    )
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/organiser/waiting-list"


# --- secrets at rest ---------------------------------------------------------------------------------


def test_passwords_are_stored_hashed(app):
    user = f.user()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert stored != f.PASSWORD and f.PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))
    assert user.check_password(f.PASSWORD) and not user.check_password("wrong")


def test_users_token_prints_a_token_and_stores_only_its_sha256(app, runner):
    user = f.user(role=Role.STEWARD)
    result = runner.invoke(args=["users", "token", user.email])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert re.fullmatch(r"nhs_[A-Za-z0-9_-]{40,}", token)
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert rows[0].token_hash != token
    second = runner.invoke(args=["users", "token", user.email]).output.strip()
    assert second != token
    missing = runner.invoke(args=["users", "token", "nobody@example.org"])
    assert missing.exit_code != 0 and "There is no account for nobody@example.org" in missing.output
