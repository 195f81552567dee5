"""Every route × every role: what anonymous visitors, a delegate's link, stewards, leaders and organisers get.

The access policy is the table in tests/support/route_policy.py, tried against the busy summit
(tests/support/busy_summit.py). A route added to the app without an entry there fails the test, so nobody can add a
page without deciding who may use it. Then every organiser route with a real invitation to act on, and where each
role lands after signing in.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from app.core.auth.models import Role
from app.core.db import db
from invitations import people
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.busy_summit import BusySummit, busy_summit
from tests.support.pages import text
from tests.support.route_policy import ENDPOINTS, ROLES, policy_for, route_values
from tests.support.wallet_support import wallet_files


def test_every_route_has_a_policy():
    missing = sorted({endpoint for endpoint, _, _ in ENDPOINTS if policy_for(endpoint) is None})
    assert missing == [], f"routes with no entry in the route x role policy: {missing}"


def _url(rule: str, values: dict, role: str) -> str:
    url = rule
    for key, value in values.items():
        if key in ("token", "feed_token") and role != "delegate":
            value = "A" * 44  # a well-formed token nobody holds
        for pattern in (f"<{key}>", f"<int:{key}>", f"<path:{key}>"):
            url = url.replace(pattern, str(value))
        url = url.replace(f"<any(delegates, needs, attendance, 'follow-up'):{key}>", str(value))
        url = url.replace(f"<any(invitation, reminder):{key}>", str(value))
        url = url.replace(f"<any(organisation, sector):{key}>", str(value))
    assert "<" not in url, f"no value for a parameter in {rule}"
    return url


def classify(response, api: bool) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 302 and "/sign-in" in location and "next=" in location:
        return "signin"  # sent to sign in first (a sign-out's own redirect carries no `next`)
    if status == 401:
        return "unauthorised"
    if status == 403:
        return "deny"
    if status == 404 and not api:
        return "notfound"
    return "allow"


@pytest.fixture(scope="module")
def seeded_database(tmp_path_factory) -> tuple[Path, BusySummit]:
    """The busy summit's database file, made once; each route's test runs on a copy of its own."""
    folder = tmp_path_factory.mktemp("seeded")
    app = make_app("sqlite", folder)
    with app.app_context():
        seeded = busy_summit()
    with app.app_context():  # after the seeding session has let go of its connection
        db.engine.dispose()  # the file is whole once its last connection closes
    return folder / "test.sqlite3", seeded


@pytest.mark.parametrize("endpoint,rule,methods", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_route_answers_each_role_as_the_policy_says(endpoint, rule, methods, tmp_path, seeded_database):
    policy = policy_for(endpoint)
    assert policy is not None, f"{endpoint} has no policy"
    seeded_file, seeded = seeded_database
    shutil.copyfile(seeded_file, tmp_path / "test.sqlite3")
    # The Apple Wallet pass is there only when Apple Wallet is set up (a test chain, made here).
    wallet = wallet_files(tmp_path / "wallet", google=False).settings if endpoint == "badges.pkpass" else {}
    app = make_app("sqlite", tmp_path, **wallet)  # on the copy, which already has every table and the seeded rows
    # Each request below runs in its own app context, as in production (no session or user carried over).
    method = "GET" if "GET" in methods else sorted(methods)[0]
    api = endpoint.startswith("checkin_api.")
    outcomes = {}
    for role in ROLES:
        client = app.test_client()
        headers = {}
        if role in seeded.api_tokens:
            if api:
                headers["Authorization"] = f"Bearer {seeded.api_tokens[role]}"
            else:
                with app.app_context():
                    f.sign_in(client, seeded.staff[role])
        url = _url(rule, route_values(seeded), role)
        if endpoint == "static":
            url = "/static/css/app.css"
        kwargs = {"json": {}} if api and method == "POST" else {}
        response = client.open(url, method=method, headers=headers, **kwargs)
        assert response.status_code < 500, f"{role} {method} {url}: {response.status_code}"
        outcomes[role] = classify(response, api)
    with app.app_context():
        db.engine.dispose()
    assert outcomes == policy, f"{endpoint} ({method} {rule})"


# --- every organiser route, with an invitation to act on, and where each role lands -------------------------


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
