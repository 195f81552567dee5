"""Staff sign-in, roles on every organiser route, safe redirects, rate limits, secrets at rest."""

from __future__ import annotations

import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from app.core.auth.models import ApiToken, Role, User
from app.core.db import db
from app.core.security import calendar_feed_token
from invitations import links, people
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.pages import text


def signed_in(client) -> bool:
    """Whether the client's session belongs to a signed-in organiser (the dashboard answers 200)."""
    return client.get("/organiser/").status_code == 200


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


# --- roles on every organiser route ----------------------------------------------------------------


def organiser_requests(app, invitation_id: int) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every organiser route, using its real method (GET where it has one)."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("organiser."):
            continue
        values = {name: invitation_id for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        method = "GET" if "GET" in rule.methods else "POST"
        found.append((rule.endpoint, method, url))
    return found


def call(client, method: str, url: str):
    return client.open(url, method=method, data={} if method == "POST" else None)


def test_the_organiser_routes_are_enumerated(app):
    f.summit()
    endpoints = {endpoint for endpoint, _, _ in organiser_requests(app, 1)}
    assert {
        "organiser.dashboard",
        "organiser.invitations",
        "organiser.new_invitation",
        "organiser.revoke_invitation",
        "organiser.import_invitations",
        "organiser.confirm_import",
        "organiser.summit_settings",
        "organiser.waiting_list",
        "organiser.export_invitations",
    } <= endpoints


def test_anonymous_visitors_are_sent_to_sign_in_from_every_organiser_route(app, client):
    f.summit()
    inv = f.invitation()
    for endpoint, method, url in organiser_requests(app, inv.id):
        response = call(client, method, url)
        assert response.status_code == 302, endpoint
        location = urlsplit(response.headers["Location"])
        assert location.path == "/sign-in", endpoint
        next_value = parse_qs(location.query).get("next", [""])[0]
        assert urlsplit(next_value).path == url, endpoint
    assert people.get_invitation(inv.id).state.value == "invited"


@pytest.mark.parametrize("role", [Role.LEADER, Role.STEWARD])
def test_leaders_and_stewards_get_a_friendly_403_from_every_organiser_route(app, client, role):
    f.summit()
    inv = f.invitation()
    f.sign_in(client, f.user(role=role))
    for endpoint, method, url in organiser_requests(app, inv.id):
        response = call(client, method, url)
        assert response.status_code == 403, endpoint
        assert "You can't see this page" in text(response), endpoint
    db.session.expire_all()
    assert people.get_invitation(inv.id).state.value == "invited"  # the POSTs changed nothing


def test_organisers_may_use_every_organiser_route(app, client):
    f.summit()
    inv = f.invitation()
    f.sign_in(client, f.user())
    for endpoint, method, url in organiser_requests(app, inv.id):
        response = client.get(url)  # GET on a POST-only route is a 405: allowed, just the wrong method
        if endpoint in ("organiser.import_preview", "organiser.confirm_import"):  # a kept file nobody kept: gone
            assert response.status_code == 410 and "no longer kept" in response.get_data(as_text=True), endpoint
            continue
        assert response.status_code in (200, 302, 405), (endpoint, response.status_code)
        # The set-up page leads to the summit's settings once the summit exists (as it does here).
        page = 302 if endpoint == "organiser.summit_setup" else 200
        assert response.status_code == (page if method == "GET" else 405), endpoint


def test_a_steward_signing_in_lands_on_the_scanner(app, client):
    f.summit()
    steward = f.user(role=Role.STEWARD)
    response = client.post("/sign-in", data={"email": steward.email, "password": f.PASSWORD})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/checkin"
    assert client.get("/sign-in").headers["Location"] == "/checkin"  # signed in already: the scanner again
    assert client.get("/checkin").status_code == 200


def test_leaders_and_stewards_reach_the_staff_home(app, client):
    f.summit()
    for role in (Role.LEADER, Role.STEWARD):
        with app.test_client() as other:
            f.sign_in(other, f.user(role=role))
            assert other.get("/staff").status_code == 200


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


# --- rate limits -----------------------------------------------------------------------------------


@pytest.fixture
def limited_app(tmp_path):
    application = make_app(
        "sqlite",
        tmp_path,
        RATELIMIT_ENABLED=True,
        SIGNIN_RATE_LIMIT="3 per minute",
        LINK_LOOKUP_RATE_LIMIT="5 per minute",
    )
    application.test_client_class = FreshSessionClient
    with application.app_context():
        yield application
        db.engine.dispose()


def test_the_fourth_sign_in_attempt_in_a_minute_gets_429_with_retry_after(limited_app):
    client = limited_app.test_client()
    f.summit()
    organiser = f.user()
    for _ in range(3):
        assert client.post("/sign-in", data={"email": organiser.email, "password": "wrong password"}).status_code == 401
    assert client.get("/sign-in").status_code == 200  # only POSTs count
    response = client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many attempts" in text(response)
    assert not signed_in(client)  # even the right password waits


def test_link_lookups_limit_misses_only(limited_app):
    client = limited_app.test_client()
    f.summit()
    inv = f.invitation()
    own = f"/i/{links.token_for(inv)}"
    for _ in range(12):  # a delegate's own link, many times: never limited
        assert client.get(own).status_code == 200
    assert client.get(own + "/register").status_code == 200
    for _ in range(5):
        assert client.get(f"/i/{secrets.token_urlsafe(33)}").status_code == 404
    response = client.get(f"/i/{secrets.token_urlsafe(33)}")
    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert "Too many attempts" in text(response)


def test_misses_spread_over_every_personal_page_share_one_budget(limited_app):
    client = limited_app.test_client()
    f.summit()
    pages = ["", "/fringe", "/badge.png", "/calendar.ics", "/register"]  # three blueprints in all
    for page in pages:  # 5 misses, one on each
        assert client.get(f"/i/{secrets.token_urlsafe(33)}{page}").status_code == 404, page
    for page in pages:
        assert client.get(f"/i/{secrets.token_urlsafe(33)}{page}").status_code == 429, page
    # A calendar feed's address is a look-up of a secret too: on the same budget.
    assert client.get(f"/calendar/feed/{secrets.token_urlsafe(33)}.ics").status_code == 429


def test_misses_on_calendar_feeds_count_against_the_same_budget(limited_app):
    client = limited_app.test_client()
    f.summit()
    inv = f.registered()
    feed = f"/calendar/feed/{calendar_feed_token(inv.link_selector)}.ics"
    for _ in range(8):  # a calendar app polling its own feed: never limited
        assert client.get(feed).status_code == 200
    for _ in range(5):
        assert client.get(f"/calendar/feed/{secrets.token_urlsafe(33)}.ics").status_code == 404
    assert client.get(f"/calendar/feed/{secrets.token_urlsafe(33)}.ics").status_code == 429
    assert client.get(f"/i/{secrets.token_urlsafe(33)}").status_code == 429


def test_a_delegates_valid_link_alone_is_never_limited(limited_app):
    client = limited_app.test_client()
    f.summit()
    inv = f.invitation()
    own = f"/i/{links.token_for(inv)}"
    for page in ["", "/register", "/decline", "/colleague"] * 5:
        assert client.get(own + page).status_code == 200, page


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
