"""Every route × every role: what anonymous visitors, a delegate's link, stewards, leaders and organisers get.

The access policy is the table in tests/support/route_policy.py. A route added to the app without an entry there
fails the test, so nobody can add a page without deciding who may use it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.db import db
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.busy_summit import BusySummit, busy_summit
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
