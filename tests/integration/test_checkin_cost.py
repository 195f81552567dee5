"""What one check-in costs (issue: near the floor): statements per scan, the token check, the limiter's work.

The counts are asserted so they can't creep back; the figures they buy are in bench/RESULTS.md."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, select, text

from app.core.auth import credentials
from app.core.auth.models import ApiToken, Role
from app.core.db import db
from tests.support import both_databases
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.checkin import fringe, scan, steward_token
from tests.support.statements import statements

FRAMING = {"BEGIN", "BEGIN IMMEDIATE", "COMMIT"}


def sql(seen: list[str]) -> list[str]:
    """The statements that do work: BEGIN and COMMIT left out, each shown by its first words."""
    return [" ".join(s.split()[:3]) for s in seen if s not in FRAMING]


LOOK_UP = "SELECT api_token.id AS"  # token_id: the token and the person, in one statement


@both_databases
def test_a_first_check_in_is_three_statements_and_a_repeat_two(app, client):
    f.summit()
    token = steward_token()
    ada, bob = f.registered(name="Ada"), f.registered(name="Bob")
    codes = ada.code, bob.code
    assert scan(client, token, codes[1]).get_json()["status"] == "ok"  # the token is known from now on

    with statements() as first:
        assert scan(client, token, codes[0], nonce="n-1").get_json()["status"] == "ok"
    with statements() as repeat:
        assert scan(client, token, codes[0], nonce="n-2").get_json()["status"] == "already_checked_in"
    with statements() as forged:
        assert scan(client, token, "https://example.org/not-a-badge").get_json()["status"] == "invalid"

    # One joined SELECT: the token, asked of the database every time (so a revoked token or a deactivated account
    # is refused on its next request, on every worker), and the person with the code (invitation, registration,
    # attendance, who checked them in); then the attendance as INSERT … ON CONFLICT DO NOTHING RETURNING, then the
    # scan log: no savepoints, and nothing else.
    assert sql(first) == [LOOK_UP, "INSERT INTO attendance", "INSERT INTO scan_log"]
    assert sql(repeat) == [LOOK_UP, "INSERT INTO scan_log"]
    assert sql(forged) == [LOOK_UP, "INSERT INTO scan_log"]  # not the shape of a code: it finds nobody
    look_up = next(s for s in first if s.startswith("SELECT"))
    assert "api_token.token_hash" in look_up and "invitation.code" in look_up
    assert not [s for s in first + repeat if "SAVEPOINT" in s or "UPDATE api_token" in s]
    assert [s for s in first if s.startswith("COMMIT")] == ["COMMIT"]


@both_databases
def test_on_the_summit_day_a_check_in_without_confirming_the_event_costs_no_more_statements(app, client):
    from datetime import timedelta

    from app.core.db import utcnow

    f.summit(starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(hours=8))
    token = steward_token()
    ada, bob = f.registered(name="Ada"), f.registered(name="Bob")
    codes = ada.code, bob.code
    assert scan(client, token, codes[1], confirmed=False).get_json()["status"] == "ok"
    with statements() as first:
        assert scan(client, token, codes[0], nonce="n-1", confirmed=False).get_json()["status"] == "ok"
    # The summit's dates ride in the look-up (two scalar subqueries), so "is it on today?" costs nothing more: the
    # look-up (with the token's check, every request, so a revoked token is refused on its next) and the two inserts.
    assert sql(first) == [LOOK_UP, "INSERT INTO attendance", "INSERT INTO scan_log"]
    assert "FROM summit" in next(s for s in first if s.startswith("SELECT"))


@both_databases
def test_a_fringe_check_in_adds_only_the_event(app, client):
    f.summit()
    event = fringe()
    token = steward_token()
    ada = f.registered(name="Ada")
    code, slug = ada.code, event.slug
    scan(client, token, "NH1-WARM", event=slug)
    with statements() as seen:
        body = scan(client, token, code, event=slug, walk_in=True).get_json()
    assert body["status"] == "ok"
    assert sql(seen) == [
        "SELECT api_token.id, api_token.last_used_at,",
        "SELECT fringe_event.id, fringe_event.slug,",
        "SELECT invitation.id, invitation.state,",
        "INSERT INTO attendance",
        "INSERT INTO scan_log",
    ]


def test_a_deleted_token_is_refused_on_its_next_request(tmp_path):
    app = make_app("sqlite", tmp_path)
    with app.app_context():
        f.summit()
        client = app.test_client()
        token = steward_token()
        code = f.registered().code
        assert scan(client, token, code).status_code == 200
        # Another process (the CLI on another machine) deletes the token: this one refuses it at once.
        with db.engine.begin() as connection:
            connection.execute(delete(ApiToken))
        assert scan(client, token, code).status_code == 401
        db.engine.dispose()


def test_a_deactivated_account_is_refused_on_its_next_request(tmp_path):
    app = make_app("sqlite", tmp_path)
    with app.app_context():
        f.summit()
        client = app.test_client()
        sam = f.user(role=Role.STEWARD)
        token = credentials.issue_api_token(sam)
        db.session.commit()
        assert scan(client, token, f.registered().code).status_code == 200
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE user SET active = 0"))
        assert scan(client, token, "NH1-X").status_code == 401
        db.engine.dispose()


def test_revoking_tokens_with_the_cli_refuses_them_in_this_process_at_once(app, client, runner):
    f.summit()
    sam = f.user(role=Role.STEWARD, email="sam@example.org")
    token = credentials.issue_api_token(sam)
    db.session.commit()
    assert scan(client, token, "NH1-X").status_code == 200
    result = runner.invoke(args=["users", "revoke-tokens", "sam@example.org"])
    assert result.exit_code == 0, result.output
    assert "Revoked 1 API token of sam@example.org" in result.output
    assert scan(client, token, "NH1-X").status_code == 401
    assert runner.invoke(args=["users", "revoke-tokens", "nobody@example.org"]).exit_code == 1


def test_last_used_is_written_once_then_not_again_for_minutes(app, client):
    f.summit()
    token = steward_token()
    with statements() as seen:
        for n in range(5):
            scan(client, token, f"NH{n}-X")
    updates = [s for s in seen if s.startswith("UPDATE api_token")]
    assert len(updates) == 1
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(ApiToken.last_used_at.is_not(None))) == 1


def test_last_used_is_written_again_once_its_time_is_up(tmp_path):
    app = make_app("sqlite", tmp_path, API_TOKEN_LAST_USED_SECONDS=0)
    with app.app_context():
        f.summit()
        client = app.test_client()
        token = steward_token()
        with statements() as seen:
            for n in range(3):
                scan(client, token, f"NH{n}-X")
        assert len([s for s in seen if s.startswith("UPDATE api_token")]) == 3
        db.engine.dispose()


# --- the limiter ------------------------------------------------------------------------------------------

LIMITER_CALLS = ("hit", "test", "get_window_stats", "clear")  # each is a trip to the store


@pytest.fixture
def limited_app(tmp_path):
    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        from app.core.extensions import limiter

        limiter.reset()
        yield app, limiter
        db.engine.dispose()


def test_a_check_in_costs_the_limiter_one_call_and_starts_no_thread(limited_app, monkeypatch):
    app, limiter = limited_app
    f.summit()
    token = steward_token()
    client = app.test_client()
    scan(client, token, "NH1-X")  # the token is known from now on
    assert type(limiter.storage).__name__ == "InProcessStorage"
    strategy = limiter.limiter
    calls: list[str] = []
    for name in LIMITER_CALLS:
        real = getattr(strategy, name)
        monkeypatch.setattr(
            strategy, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k)
        )
    started: list[str] = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self.name) or real_start(self))

    for n in range(20):
        assert scan(client, token, f"NH{n}-X").status_code == 200
    assert calls == ["hit"] * 20  # the door limit's hit: no test of the bad-token limit, no header read
    assert started == []


def test_an_unknown_token_is_still_counted_against_its_address(limited_app, monkeypatch):
    app, limiter = limited_app
    app.config["LINK_LOOKUP_RATE_LIMIT"] = "2 per minute"
    f.summit()
    client = app.test_client()
    good = steward_token()
    assert [scan(client, f"guess-{n}", "NH1-X").status_code for n in range(3)] == [401, 401, 429]
    # A real token this process has never seen is looked up before the limit is asked, so it is answered even
    # from an address that has just been guessing (one venue's wifi); the guesses are refused still.
    assert scan(client, good, "NH1-X").status_code == 200
    assert scan(client, "guess-3", "NH1-X").status_code == 429


def test_a_wrong_token_costs_the_limiter_one_call_and_a_full_budget_answers_when_to_retry(limited_app, monkeypatch):
    app, limiter = limited_app
    app.config["LINK_LOOKUP_RATE_LIMIT"] = "3 per minute"
    app.config["CHECKIN_RATE_LIMIT"] = "4 per minute"
    f.summit()
    token = steward_token()
    client = app.test_client()
    strategy = limiter.limiter
    calls: list[str] = []
    for name in LIMITER_CALLS:
        real = getattr(strategy, name)
        monkeypatch.setattr(
            strategy, name, lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k)
        )

    # The check-in counts itself, one call to the store a scan: no test before the view and hit after it.
    guesses = [scan(client, f"guess-{n}", "NH1-X") for n in range(4)]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429]
    assert calls[:3] == ["hit"] * 3
    assert 1 <= int(guesses[-1].headers["Retry-After"]) <= 60
    assert guesses[-1].get_json()["error"].startswith("Too many requests")

    calls.clear()
    scans = [scan(client, token, f"NH{n}-X") for n in range(4)]
    with statements() as seen:
        scans.append(scan(client, token, "NH5-X"))
    assert [r.status_code for r in scans] == [200, 200, 200, 200, 429]
    assert calls[:5] == ["hit"] * 5
    assert 1 <= int(scans[-1].headers["Retry-After"]) <= 60
    # A token this process saw work is counted before its transaction begins (on SQLite that would take the write
    # lock while the store answers): a scanner over its limit is refused without asking the database anything.
    assert seen == []
    # The budget is the one the other routes' decorators count in: the scanner's search is refused too.
    search = client.get("/api/v1/checkin/search?event=summit&q=Ada", headers={"Authorization": f"Bearer {token}"})
    assert search.status_code == 429


def test_a_check_in_is_spared_the_limiters_own_work_and_the_session_cookie(limited_app, monkeypatch):
    """The hot path counts its own limit (one call to the store, above): the limiter's before-request check, which
    works out every limit that might apply to a request, is skipped for it; and under /api/ no session cookie is
    read, verified or set (the API takes bearer tokens only)."""
    app, limiter = limited_app
    f.summit()
    token = steward_token()
    client = app.test_client()
    f.sign_in(client, f.user(role=Role.STEWARD))  # a browser with a staff session, which the API ignores
    resolved: list[str] = []
    real_resolve = limiter.limit_manager.resolve_limits
    monkeypatch.setattr(
        limiter.limit_manager, "resolve_limits", lambda *a, **k: resolved.append("resolve") or real_resolve(*a, **k)
    )
    signers: list[str] = []
    interface = app.session_interface
    real_signer = interface.get_signing_serializer
    monkeypatch.setattr(interface, "get_signing_serializer", lambda a: signers.append("signer") or real_signer(a))

    response = scan(client, token, "NH1-X")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert resolved == [] and signers == []

    counts = client.get("/api/v1/checkin/counts?event=summit", headers={"Authorization": f"Bearer {token}"})
    assert counts.status_code == 200 and resolved != [] and signers == []
    assert client.get("/checkin").status_code == 200 and signers != []  # the scanner page: the session, as ever
