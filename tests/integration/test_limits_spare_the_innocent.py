"""Behind a proxy the app sees each client's own address (TRUSTED_PROXY_HOPS), and its limits slow attackers without
locking out anyone else: a real personal link, sign-in link or scanner token is never refused for others' failures;
wrong passwords count per address and, more gently, per account; asking for links by email counts per address typed
and per client. And signing in costs one password check whether or not the email has an account.

(tests/integration/test_behind_nginx.py shows the same through nginx, gunicorn and Redis.)"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from flask import request

from app.core.auth import credentials
from app.core.auth import models as auth_models
from app.core.auth.models import Role
from app.core.db import db
from app.core.extensions import limiter
from app.core.security import calendar_feed_token
from invitations import links, people, texting
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.mail_helpers import emailed_path, outbox
from tests.support.organiser import signed_in
from tests.support.pages import text
from tests.support.servers import ROOT


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


ATTACKER, INNOCENT = "10.0.0.2", "10.0.0.3"


def limited(kind: str, tmp_path, **settings):
    application = make_app(kind, tmp_path, RATELIMIT_ENABLED=True, **settings)
    application.test_client_class = FreshSessionClient
    return application


@pytest.fixture(params=["sqlite", "postgres"])
def kind(request):
    return request.param


@pytest.fixture
def app(kind, tmp_path):
    application = limited(
        kind,
        tmp_path,
        SIGNIN_RATE_LIMIT="3 per minute",
        SIGNIN_ACCOUNT_RATE_LIMIT="5 per minute",
        LINK_LOOKUP_RATE_LIMIT="4 per minute",
    )
    with application.app_context():
        limiter.reset()
        f.summit()
        yield application
        limiter.reset()
        db.engine.dispose()


def at(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def made_up(page: str = "") -> str:
    return f"/i/{secrets.token_urlsafe(33)}{page}"


# --- 1. the client's address behind a proxy -------------------------------------------------------------------


def whoami_app(tmp_path, hops: int):
    application = make_app("sqlite", tmp_path, TRUSTED_PROXY_HOPS=hops)

    @application.get("/_test/whoami")
    def whoami():
        return f"{request.remote_addr} {request.scheme}"

    return application


def test_with_one_trusted_proxy_the_client_is_the_address_it_saw(tmp_path):
    client = whoami_app(tmp_path, 1).test_client()
    # The proxy appends the address it saw to whatever the client sent: only that last entry is believed.
    headers = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7", "X-Forwarded-Proto": "https"}
    answer = client.get("/_test/whoami", headers=headers, **at("127.0.0.1"))
    assert answer.get_data(as_text=True) == "198.51.100.7 https"


def test_without_trusted_proxies_forwarded_headers_are_ignored(tmp_path):
    client = whoami_app(tmp_path, 0).test_client()
    headers = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    answer = client.get("/_test/whoami", headers=headers, **at("127.0.0.1"))
    assert answer.get_data(as_text=True) == "127.0.0.1 http"  # a client can't choose its own address


def test_trusted_proxy_hops_comes_from_the_environment():
    def read(value: str) -> subprocess.CompletedProcess:
        program = "import config; print(config.Config.TRUSTED_PROXY_HOPS)"
        env = {**os.environ, "TRUSTED_PROXY_HOPS": value}
        return subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=env, capture_output=True, text=True)

    assert read("2").stdout.strip() == "2"
    refused = read("one")
    assert refused.returncode != 0
    assert "TRUSTED_PROXY_HOPS is 'one': set it to a whole number, 0 or more." in refused.stderr


def test_behind_a_proxy_the_limits_count_each_client_on_its_own(tmp_path):
    application = limited("sqlite", tmp_path, TRUSTED_PROXY_HOPS=1, LINK_LOOKUP_RATE_LIMIT="4 per minute")
    with application.app_context():
        limiter.reset()
        f.summit()
        client = application.test_client()

        def miss(client_address: str) -> int:
            return client.get(made_up(), headers={"X-Forwarded-For": client_address}, **at("127.0.0.1")).status_code

        assert [miss(ATTACKER) for _ in range(6)] == [404] * 4 + [429] * 2
        assert miss(INNOCENT) == 404  # another client behind the same proxy has its own count
        limiter.reset()
        db.engine.dispose()


def test_control_without_the_setting_every_client_behind_a_proxy_shares_one_count(tmp_path):
    application = limited("sqlite", tmp_path, LINK_LOOKUP_RATE_LIMIT="4 per minute")
    with application.app_context():
        limiter.reset()
        f.summit()
        client = application.test_client()
        for _ in range(4):
            client.get(made_up(), headers={"X-Forwarded-For": ATTACKER}, **at("127.0.0.1"))
        assert client.get(made_up(), headers={"X-Forwarded-For": INNOCENT}, **at("127.0.0.1")).status_code == 429
        limiter.reset()
        db.engine.dispose()


# --- 2a. a real link or token is never refused for others' failures --------------------------------------------


def test_a_real_personal_link_and_its_feed_open_when_the_address_has_used_up_its_misses(app):
    own = links.token_for(f.registered())
    client = app.test_client()
    misses = [client.get(made_up(page), **at(ATTACKER)).status_code for page in ["", "/calendar.ics"] * 3]
    assert misses == [404] * 4 + [429] * 2
    # From the very same address (one venue's wifi), the delegate's own link, feed and badge all answer.
    for page in ["", "/calendar.ics", "/fringe", "/badge.png", "/details"]:
        assert client.get(f"/i/{own}{page}", **at(ATTACKER)).status_code == 200, page
    assert client.get(made_up(), **at(ATTACKER)).status_code == 429  # and guesses are still refused


def test_a_revoked_real_link_is_answered_not_counted(app):
    invitation = f.invitation()
    token = links.token_for(invitation)
    people.revoke_invitation(invitation)
    db.session.commit()
    client = app.test_client()
    assert [client.get(f"/i/{token}").status_code for _ in range(6)] == [404] * 6
    assert client.get(made_up()).status_code == 404  # it spent none of the budget for guesses


def test_control_a_made_up_link_with_the_right_shape_is_still_a_guess(app):
    client = app.test_client()
    shaped = secrets.token_urlsafe(33)[:44]  # selector and MAC lengths right, MAC wrong
    assert [client.get(f"/i/{shaped}").status_code for _ in range(5)] == [404] * 4 + [429]


def test_guessed_stop_links_share_the_link_budget_and_a_real_one_still_opens(app):
    person = f.registered()
    texting.set_mobile(person, "07400 123456")
    db.session.commit()
    own = urlsplit(texting.stop_url(person)).path
    client = app.test_client()
    guesses = [f"/texts/stop/{secrets.token_urlsafe(15)[:19]}" for _ in range(3)] + [made_up()]
    assert [client.get(path, **at(ATTACKER)).status_code for path in guesses] == [404] * 4
    assert client.get(guesses[0], **at(ATTACKER)).status_code == 429  # a stop link and a personal link: one budget
    assert client.get(own, **at(ATTACKER)).status_code == 200  # the person's own stop link still opens


def test_a_real_sign_in_link_works_when_the_address_has_used_up_its_misses(app):
    leader = f.user(Role.LEADER, email="leo.leader@council.example.org", name="Leo Leader")
    credentials.send_sign_in_link(leader.email)
    db.session.commit()
    path = emailed_path(outbox()[-1])
    client = app.test_client()
    misses = [client.get(f"/sign-in/link/{secrets.token_urlsafe(33)}").status_code for _ in range(6)]
    assert misses == [404] * 4 + [429] * 2
    assert client.get(path).status_code == 200
    signed_in = client.post(path, data={"csrf_token": ""})
    assert signed_in.status_code == 303 and signed_in.headers["Location"].endswith("/leader")
    assert client.get(f"/sign-in/link/{secrets.token_urlsafe(33)}").status_code == 429


def test_a_real_scanner_token_works_when_the_address_has_used_up_its_guesses(app):
    steward = f.user(Role.STEWARD, name="Sam Steward")
    token = credentials.issue_api_token(steward)
    db.session.commit()
    code = f.registered().code
    client = app.test_client()

    def scan(bearer: str, code: str = code):
        return client.post(
            "/api/v1/checkin",
            json={"code": code, "event": "summit", "confirmed": True},
            **at(ATTACKER),
            headers={"Authorization": f"Bearer {bearer}"},
        )

    assert [scan(f"nhs_{secrets.token_urlsafe(32)}").status_code for _ in range(6)] == [401] * 4 + [429] * 2
    app.extensions["api_token_cache"].clear()  # a worker that has never seen this scanner
    answer = scan(token)
    assert answer.status_code == 200 and answer.get_json()["status"] == "ok"
    assert scan(token).get_json()["status"] == "already_checked_in"
    assert scan(f"nhs_{secrets.token_urlsafe(32)}").status_code == 429


def test_a_revoked_scanner_token_is_a_guess_again(app):
    steward = f.user(Role.STEWARD)
    token = credentials.issue_api_token(steward)
    credentials.revoke_api_tokens(steward)
    db.session.commit()
    client = app.test_client()
    answers = [
        client.post(
            "/api/v1/checkin", json={"code": "NH1-X", "event": "summit"}, headers={"Authorization": f"Bearer {token}"}
        )
        for _ in range(5)
    ]
    assert [a.status_code for a in answers] == [401] * 4 + [429]


# --- 2b. passwords: per address, and more gently per account ---------------------------------------------------


def sign_in(client, email: str, password: str, address: str) -> int:
    return client.post("/sign-in", data={"email": email, "password": password}, **at(address)).status_code


def test_wrong_passwords_from_one_address_never_lock_out_the_organiser_elsewhere(app):
    organiser = f.user()
    attacker = app.test_client()
    answers = [sign_in(attacker, organiser.email, "not the password", ATTACKER) for _ in range(12)]
    assert answers == [401] * 3 + [429] * 9  # the address limit (3) stops the attacker
    # The 9 refused attempts checked no password, so they cost the account nothing: it has 3 of its 5 used.
    assert sign_in(app.test_client(), organiser.email, f.PASSWORD, INNOCENT) == 302


def test_guesses_at_one_account_from_many_addresses_stop_at_that_account_and_no_other(app):
    target, other = f.user(), f.user()
    answers = [sign_in(app.test_client(), target.email, "not the password", f"10.1.0.{n}") for n in range(7)]
    assert answers == [401] * 5 + [429] * 2  # the account limit (5), each address well within its own
    waiting = app.test_client()
    assert sign_in(waiting, target.email, f.PASSWORD, INNOCENT) == 429  # that account waits
    answer = waiting.post("/sign-in", data={"email": target.email, "password": f.PASSWORD}, **at(INNOCENT))
    assert "signing in to it is paused for a while" in answer.get_data(as_text=True)
    assert int(answer.headers["Retry-After"]) > 0
    # Every other account signs in, from those very addresses too.
    assert sign_in(app.test_client(), other.email, f.PASSWORD, "10.1.0.1") == 302
    assert sign_in(app.test_client(), other.email.upper(), "not the password", "10.1.0.2") == 401


def test_the_account_is_the_address_as_looked_up(app):
    organiser = f.user(email="olive@staff.example.org")
    spellings = ["olive@staff.example.org", "Olive@Staff.example.org", " OLIVE@staff.example.org "]
    answers = [sign_in(app.test_client(), spellings[n % 3], "wrong", f"10.2.0.{n}") for n in range(6)]
    assert answers == [401] * 5 + [429]
    assert organiser.email == "olive@staff.example.org"


# --- 2c. asking for a link by email: per address typed and per client --------------------------------------------


@pytest.mark.parametrize("page", ["/lost-link", "/sign-in/email-link"])
def test_one_client_asking_for_many_addresses_never_blocks_another_client(app, page):
    f.invitation(email="ivy.innocent@example.org")
    client = app.test_client()
    mine = [
        client.post(page, data={"email": f"made.up.{n}@example.org"}, **at(ATTACKER)).status_code for n in range(12)
    ]
    assert mine == [200] * 10 + [429] * 2  # EMAIL_LINK_CLIENT_RATE_LIMIT: 10 per 15 minutes
    assert client.post(page, data={"email": "ivy.innocent@example.org"}, **at(INNOCENT)).status_code == 200
    other_page = "/sign-in/email-link" if page == "/lost-link" else "/lost-link"
    assert client.post(other_page, data={"email": "ivy.innocent@example.org"}, **at(INNOCENT)).status_code == 200


# --- 7. the same work for an unknown email as for a known one ----------------------------------------------------


def test_signing_in_checks_one_password_hash_whoever_the_email_belongs_to(app, monkeypatch):
    organiser = f.user(email="olive@staff.example.org")
    leader = f.user(Role.LEADER, email="leo.leader@council.example.org")
    leader.password_hash = None  # signs in by emailed link only
    gone = f.user(email="gone@staff.example.org")
    gone.active = False
    db.session.commit()
    checked: list[str] = []
    real_check = auth_models.check_password_hash

    def counted(pwhash: str, password: str) -> bool:
        checked.append(pwhash.split("$", 1)[0])
        return real_check(pwhash, password)

    monkeypatch.setattr(auth_models, "check_password_hash", counted)
    method = app.config["PASSWORD_HASH_METHOD"]
    cases = {
        "the right password": (organiser.email, f.PASSWORD, 302),
        "a wrong password": (organiser.email, "not the password", 401),
        "an unknown email": ("nobody@staff.example.org", "not the password", 401),
        "a leader without a password": (leader.email, "not the password", 401),
        "a deactivated account": (gone.email, f.PASSWORD, 401),
    }
    for n, (case, (email, password, status)) in enumerate(cases.items()):
        checked.clear()
        assert sign_in(app.test_client(), email, password, f"10.3.0.{n}") == status, case
        assert checked == [method], case  # exactly one hash checked, of the same kind as a real account's


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
