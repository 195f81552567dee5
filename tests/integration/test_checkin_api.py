"""The check-in API (DESIGN.md, "Check-in API"): every status, retries, refusals, the scan log, and the race at two doors."""

from __future__ import annotations

import hashlib
import html
import json
import random
import re
import threading
import time
from collections import Counter
from datetime import UTC, timedelta

import pytest
from sqlalchemy import func, select, text

from app.checkin import hot_path
from app.checkin import scans as checkin_scans
from app.checkin.models import ScanLog
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.security import CODE_ALPHABET, new_badge_code
from fringe_events.models import Attendance, FringeSignup, FringeStatus, SignupState
from invitations import handing_on, journey
from invitations import people as invitation_people
from invitations.models import Invitation
from tests.support import PATIENCE_SECONDS, both_databases, join_all
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.checkin import fringe, scan, steward_token, token_for

KEYS = {"status", "person", "checked_in_at", "checked_in_by"}


# --- helpers ---------------------------------------------------------------------------------------


def attendances(invitation_id: int | None = None, event_key: str | None = None) -> int:
    query = select(func.count()).select_from(Attendance)
    if invitation_id is not None:
        query = query.where(Attendance.invitation_id == invitation_id)
    if event_key is not None:
        query = query.where(Attendance.event_key == event_key)
    db.session.expire_all()
    return db.session.scalar(query)


def log_statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(ScanLog.status).order_by(ScanLog.id)))


@pytest.fixture
def door(app):
    f.summit()
    return steward_token()


# --- the statuses ----------------------------------------------------------------------------------


def test_a_registered_delegate_is_checked_in_then_already_in(app, client, door):
    ada = f.registered(name="Ada Lovelace")
    ada.registration.dietary = "Vegan, no nuts"
    ada.registration.access_needs = "Step-free access"
    db.session.commit()

    first = scan(client, door, ada.code, method="camera")
    assert first.status_code == 200 and first.is_json
    body = first.get_json()
    assert set(body) == KEYS
    assert body["status"] == "ok"
    assert body["person"]["name"] == "Ada Lovelace"
    assert body["person"]["organisation"] == "Suffolk County Council"
    assert {n["kind"]: n["text"] for n in body["person"]["needs"]} == {
        "dietary": "Vegan, no nuts",
        "access": "Step-free access",
    }
    assert body["checked_in_by"] == "Sam Steward"
    assert body["checked_in_at"].endswith("+00:00")

    again = scan(client, door, ada.code).get_json()
    assert again["status"] == "already_checked_in"
    assert again["checked_in_at"] == body["checked_in_at"]
    assert again["checked_in_by"] == "Sam Steward"
    assert attendances(ada.id, "summit") == 1
    assert log_statuses() == ["ok", "already_checked_in"]


def test_needs_that_say_none_are_not_flagged(app, client, door):
    ada = f.registered()
    ada.registration.dietary = "None"
    ada.registration.access_needs = "n/a"
    db.session.commit()
    assert scan(client, door, ada.code).get_json()["person"]["needs"] == []


def test_a_code_is_read_whatever_its_case_and_surrounding_whitespace(app, client, door):
    ada = f.registered()
    assert scan(client, door, f"  {ada.code.lower()}\r\n").get_json()["status"] == "ok"


@pytest.mark.parametrize(
    "make_code",
    [
        pytest.param(lambda real: new_badge_code(), id="forged-right-shape-and-check"),
        pytest.param(lambda real: "NH1-" + "".join(reversed(real[5:])), id="forged-old-shape"),
        pytest.param(lambda real: real[:12], id="truncated-half"),
        pytest.param(lambda real: "https://example.org/?" + real, id="some-other-qr"),
        pytest.param(lambda real: "NH1-" + "0" * 27, id="look-alike-characters"),
        pytest.param(lambda real: "x" * 500, id="long-garbage"),
    ],
)
def test_forged_half_read_and_foreign_codes_are_invalid_and_logged(app, client, door, make_code):
    ada = f.registered()
    refused_and_logged(client, door, make_code(ada.code), "invalid")


def refused_and_logged(client, door, code: str, status: str) -> None:
    """The scan of a code that isn't ada's answers `status`, names nobody, admits nobody, and is logged."""
    body = scan(client, door, code).get_json()
    assert body == {"status": status, "person": None, "checked_in_at": None, "checked_in_by": None}
    assert attendances() == 0
    db.session.expire_all()
    logged = db.session.scalars(select(ScanLog)).one()
    assert logged.status == status and logged.invitation_id is None and logged.code == code.upper()[:80]


def one_wrong(code: str, at: int) -> str:
    return code[:at] + next(c for c in CODE_ALPHABET if c != code[at]) + code[at + 1 :]


@pytest.mark.parametrize(
    "make_code",
    [
        pytest.param(lambda real: real[:-1], id="last-character-missing"),
        pytest.param(lambda real: real[:10] + real[11:], id="a-character-missing"),
        pytest.param(lambda real: one_wrong(real, 9), id="one-character-wrong"),
        pytest.param(lambda real: one_wrong(real, len(real) - 1), id="check-character-wrong"),
        pytest.param(lambda real: real[:6] + "O" + real[7:], id="o-for-zero"),
        pytest.param(lambda real: real + "A", id="one-too-many"),
        pytest.param(lambda real: real.replace("-", ""), id="dash-missing"),
    ],
)
def test_a_code_one_character_off_answers_incomplete_not_invalid(app, client, door, make_code):
    ada = f.registered()
    refused_and_logged(client, door, make_code(ada.code), "incomplete")
    # Typed again carefully, the same badge checks in.
    assert scan(client, door, ada.code).get_json()["status"] == "ok"


def test_badges_issued_before_the_check_character_keep_working(app, client, door):
    rng = random.Random(7)
    old = "NH1-" + "".join(rng.choice(CODE_ALPHABET) for _ in range(27))
    ada = f.registered()
    ada.code = old
    db.session.commit()
    assert scan(client, door, old).get_json()["status"] == "ok"
    assert scan(client, door, old.lower()).get_json()["status"] == "already_checked_in"
    # One character short of an old code is a typo too; an old-shaped code we never issued is not ours.
    assert scan(client, door, old[:-1]).get_json()["status"] == "incomplete"
    assert scan(client, door, "NH1-" + old[4:][::-1]).get_json()["status"] == "invalid"


def test_a_cancelled_place_is_refused_at_the_summit(app, client, door):
    ada = f.registered(name="Ada Lovelace")
    journey.cancel_registration(ada)
    db.session.commit()
    body = scan(client, door, ada.code).get_json()
    assert body["status"] == "cancelled"
    assert body["person"]["name"] == "Ada Lovelace"
    assert body["checked_in_at"] is None
    assert attendances() == 0


@pytest.mark.parametrize("state", ["invited", "declined", "waitlisted"])
def test_an_invitee_without_a_place_is_not_registered_for_the_summit(app, client, door, state):
    inv = f.invitation(name="Grace Hopper")
    if state == "declined":
        journey.decline(inv)
    elif state == "waitlisted":
        f.summit(capacity=0)
        journey.join_waitlist(inv)
    db.session.commit()
    body = scan(client, door, inv.code).get_json()
    assert body["status"] == "not_registered"
    assert body["person"]["name"] == "Grace Hopper"
    assert attendances() == 0


def test_handed_on_and_revoked_codes_stop_working_altogether(app, client, door):
    ada = f.registered(name="Ada Lovelace")
    colleague = handing_on.hand_on(
        ada, handing_on.Colleague(name="Bob Colleague", email="bob@example.org", organisation="Suffolk")
    )
    grace = f.registered(name="Grace Hopper")
    invitation_people.revoke_invitation(grace)
    db.session.commit()
    for code in (ada.code, grace.code):
        assert scan(client, door, code).get_json() == {
            "status": "invalid",
            "person": None,
            "checked_in_at": None,
            "checked_in_by": None,
        }
        assert scan(client, door, code, event="warm-up").get_json()["status"] in ("invalid", "wrong_event")
    fringe("warm-up")
    for code in (ada.code, grace.code):
        assert scan(client, door, code, event="warm-up").get_json()["status"] == "invalid"
    # The place went across with the invitation: the colleague's own code works.
    assert scan(client, door, colleague.code).get_json()["status"] == "ok"
    assert attendances() == 1


def test_a_reissued_code_replaces_the_old_one(app, client, door):
    from app.badges import rules as badge_rules

    ada = f.registered()
    old = ada.code
    badge_rules.reissue_code(ada)
    db.session.commit()
    assert ada.code != old and ada.code.startswith("NH2-")
    assert scan(client, door, old).get_json()["status"] == "invalid"
    assert scan(client, door, ada.code).get_json()["status"] == "ok"


def test_unknown_and_cancelled_events_are_the_wrong_event(app, client, door):
    ada = f.registered()
    fringe("called-off", status=FringeStatus.CANCELLED)
    for event in ("no-such-event", "called-off", "SUMMIT", "fringe:1"):
        body = scan(client, door, ada.code, event=event).get_json()
        assert body == {"status": "wrong_event", "person": None, "checked_in_at": None, "checked_in_by": None}, event
    assert attendances() == 0
    assert log_statuses() == ["wrong_event"] * 4


def test_a_fringe_event_admits_those_signed_up_and_walk_ins_recorded_on_purpose(app, client, door):
    event = fringe("warm-up")
    signed = f.invitation(name="Signed Up")
    db.session.add(FringeSignup(invitation_id=signed.id, fringe_event_id=event.id, state=SignupState.CONFIRMED))
    walk_in = f.invitation(name="Walk In")
    cancelled = f.registered(name="Was Registered")
    cancelled.registration.dietary = "Vegan"
    journey.cancel_registration(cancelled)
    db.session.commit()

    # Not signed up: a code alone doesn't get them in (a badge found or copied is no ticket to every event).
    for person in (walk_in, cancelled):
        body = scan(client, door, person.code, event="warm-up").get_json()
        assert body["status"] == "not_registered", person.name
        assert body["person"] == {"name": person.name, "organisation": person.organisation, "needs": []}
    assert attendances() == 0
    # Signed up, or recorded as a walk-in on purpose (as the organisers' attendance list does).
    for person, extra in ((signed, {}), (walk_in, {"walk_in": True}), (cancelled, {"walk_in": True})):
        body = scan(client, door, person.code, event="warm-up", **extra).get_json()
        assert body["status"] == "ok", person.name
        assert body["person"]["name"] == person.name
    assert scan(client, door, walk_in.code, event="warm-up").get_json()["status"] == "already_checked_in"
    db.session.expire_all()
    rows = {a.invitation_id: a for a in db.session.scalars(select(Attendance))}
    assert set(rows) == {signed.id, walk_in.id, cancelled.id}
    assert all(a.event_key == event.event_key and a.fringe_event_id == event.id for a in rows.values())
    assert rows[signed.id].walk_in is False and rows[walk_in.id].walk_in is True
    # A fringe check-in is not a summit check-in.
    assert attendances(event_key="summit") == 0
    assert scan(client, door, walk_in.code).get_json()["status"] == "not_registered"


def test_checkin_records_the_method(app, client, door):
    ada, grace, bob = f.registered(), f.registered(), f.registered()
    scan(client, door, ada.code, method="handheld")
    scan(client, door, grace.code, method="manual")
    scan(client, door, bob.code)
    db.session.expire_all()
    methods = {a.invitation_id: a.method.value for a in db.session.scalars(select(Attendance))}
    assert methods == {ada.id: "handheld", grace.id: "manual", bob.id: "camera"}


# --- retries ---------------------------------------------------------------------------------------


def test_a_retry_with_the_same_nonce_replays_the_first_answer_and_writes_once(app, client, door):
    ada = f.registered()
    first = scan(client, door, ada.code, nonce="phone-1-scan-0001").get_json()
    retry = scan(client, door, ada.code, nonce="phone-1-scan-0001").get_json()
    assert first["status"] == "ok"
    assert retry == first  # "ok" again, not "already_checked_in": the same scan, answered the same way
    assert attendances(ada.id) == 1
    assert log_statuses() == ["ok"]
    # A new nonce is a new scan.
    assert scan(client, door, ada.code, nonce="phone-1-scan-0002").get_json()["status"] == "already_checked_in"
    assert log_statuses() == ["ok", "already_checked_in"]


def test_a_nonce_is_replayed_even_after_things_change(app, client, door):
    ada = f.registered()
    first = scan(client, door, ada.code, nonce="n-1").get_json()
    client.post(
        "/api/v1/checkin/undo", json={"code": ada.code, "event": "summit"}, headers={"Authorization": f"Bearer {door}"}
    )
    assert attendances(ada.id) == 0
    assert scan(client, door, ada.code, nonce="n-1").get_json() == first
    assert attendances(ada.id) == 0  # the replay wrote nothing


def test_nonces_belong_to_one_steward(app, client, door):
    ada, grace = f.registered(), f.registered()
    other = steward_token("Kim Other")
    assert scan(client, door, ada.code, nonce="same").get_json()["status"] == "ok"
    assert scan(client, other, grace.code, nonce="same").get_json()["status"] == "ok"
    assert attendances() == 2


def test_a_refusal_is_replayed_too(app, client, door):
    assert scan(client, door, "NH1-FAKE", nonce="r-1").get_json()["status"] == "invalid"
    assert scan(client, door, "NH1-FAKE", nonce="r-1").get_json()["status"] == "invalid"
    assert log_statuses() == ["invalid"]


# --- malformed requests and tokens ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[]", id="a-list"),
        pytest.param(b"{}", id="empty"),
        pytest.param(json.dumps({"event": "summit"}).encode(), id="no-code"),
        pytest.param(json.dumps({"code": "NH1-ABC"}).encode(), id="no-event"),
        pytest.param(json.dumps({"code": 12345, "event": "summit"}).encode(), id="code-not-a-string"),
        pytest.param(json.dumps({"code": "   ", "event": "summit"}).encode(), id="blank-code"),
        pytest.param(json.dumps({"code": "NH1-ABC", "event": ["summit"]}).encode(), id="event-not-a-string"),
        pytest.param(
            json.dumps({"code": "NH1-ABC", "event": "summit", "nonce": "n" * 65}).encode(), id="nonce-too-long"
        ),
        pytest.param(json.dumps({"code": "NH1-ABC", "event": "summit", "nonce": 7}).encode(), id="nonce-not-a-string"),
        pytest.param(json.dumps({"code": "x" * 513, "event": "summit"}).encode(), id="code-absurdly-long"),
        pytest.param(
            json.dumps({"code": "NH1-ABC", "event": "summit", "method": "telepathy"}).encode(), id="unknown-method"
        ),
        pytest.param(b"[" * 1000 + b"]" * 1000, id="nested-1000-deep"),
        pytest.param(b'{"a":' * 1000 + b"1" + b"}" * 1000, id="objects-nested-1000-deep"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="nested-100000-deep"),
    ],
)
def test_a_malformed_body_is_a_400_in_json_and_logs_nothing(app, client, door, body):
    response = client.post(
        "/api/v1/checkin", data=body, content_type="application/json", headers={"Authorization": f"Bearer {door}"}
    )
    assert response.status_code == 400
    assert response.is_json and response.get_json()["error"]
    assert log_statuses() == []
    undo = client.post(
        "/api/v1/checkin/undo", data=body, content_type="application/json", headers={"Authorization": f"Bearer {door}"}
    )
    assert undo.status_code == 400 and undo.is_json and undo.get_json()["error"]


def test_a_missing_token_is_401(app, client):
    f.summit()
    ada = f.registered()
    response = client.post("/api/v1/checkin", json={"code": ada.code, "event": "summit"})
    assert response.status_code == 401
    assert response.is_json and "token" in response.get_json()["error"].lower()
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert attendances() == 0 and log_statuses() == []


@pytest.mark.parametrize(
    "header", ["Bearer nhs_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "nhs_token-without-scheme"]
)
def test_a_bad_token_is_401(app, client, header):
    f.summit()
    ada = f.registered()
    response = client.post(
        "/api/v1/checkin", json={"code": ada.code, "event": "summit"}, headers={"Authorization": header}
    )
    assert response.status_code == 401 and response.is_json
    assert attendances() == 0 and log_statuses() == []


def test_a_deactivated_stewards_token_stops_working(app, client):
    f.summit()
    steward = f.user(role=Role.STEWARD)
    token = token_for(steward)
    steward.active = False
    db.session.commit()
    assert scan(client, token, f.registered().code).status_code == 401


def test_a_leaders_token_may_not_check_people_in(app, client):
    f.summit()
    ada = f.registered()
    leader_token = token_for(f.user(role=Role.LEADER))
    response = scan(client, leader_token, ada.code)
    assert response.status_code == 403 and response.is_json
    assert attendances() == 0


def test_organisers_may_check_people_in_too(app, client):
    f.summit()
    organiser_token = token_for(f.user(role=Role.ORGANISER, name="Olive Organiser"))
    body = scan(client, organiser_token, f.registered().code).get_json()
    assert body["status"] == "ok" and body["checked_in_by"] == "Olive Organiser"


def test_a_stewards_token_is_refused_on_an_organiser_only_route(app, client, door):
    scan(client, door, "NH1-FORGED")
    refused = client.get("/api/v1/checkin/scan-log", headers={"Authorization": f"Bearer {door}"})
    assert refused.status_code == 403 and refused.is_json
    organiser_token = token_for(f.user(role=Role.ORGANISER))
    allowed = client.get(
        "/api/v1/checkin/scan-log?event=summit", headers={"Authorization": f"Bearer {organiser_token}"}
    )
    assert allowed.status_code == 200
    assert [row["status"] for row in allowed.get_json()["scans"]] == ["invalid"]


def test_a_stewards_session_is_refused_on_organiser_only_pages(app, client):
    f.summit()
    f.sign_in(client, f.user(role=Role.STEWARD))
    ada = f.registered()
    for url in (
        "/organiser/checkin",
        "/organiser/checkin/scan-log.csv",
        "/organiser/badges",
        "/organiser/badges/preview.pdf",
        "/organiser/checkin/not-arrived.csv",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "You can't see this page" in html.unescape(response.get_data(as_text=True))
    code = ada.code
    for url in (
        f"/organiser/badges/{ada.id}/reissue-code",
        f"/organiser/badges/{ada.id}/role",
        "/organiser/badges/print",
    ):
        assert (
            client.post(url, data={"badge_role": "speaker", "which": "all", "layout": "cards-2x4"}).status_code == 403
        ), url
    db.session.expire_all()
    assert db.session.get(Invitation, ada.id).code == code
    # The scanner page is theirs.
    assert client.get("/checkin").status_code == 200


def test_the_api_takes_no_cookies(app, client):
    """A signed-in steward's browser session does not authenticate the bearer API."""
    f.summit()
    f.sign_in(client, f.user(role=Role.STEWARD))
    response = client.post("/api/v1/checkin", json={"code": f.registered().code, "event": "summit"})
    assert response.status_code == 401


# --- every scan is logged ------------------------------------------------------------------------------


def test_every_scan_accepted_or_refused_is_in_the_scan_log(app, client, door):
    ada = f.registered(name="Ada Lovelace")
    cancelled = f.registered()
    journey.cancel_registration(cancelled)
    invited = f.invitation()
    db.session.commit()
    scan(client, door, ada.code)
    scan(client, door, ada.code)
    scan(client, door, "NH1-NOPE")
    scan(client, door, cancelled.code)
    scan(client, door, invited.code)
    scan(client, door, ada.code, event="nowhere")
    assert log_statuses() == ["ok", "already_checked_in", "invalid", "cancelled", "not_registered", "wrong_event"]
    db.session.expire_all()
    rows = db.session.scalars(select(ScanLog).order_by(ScanLog.id)).all()
    assert all(r.user_id is not None and r.response for r in rows)
    assert rows[0].invitation_id == ada.id and json.loads(rows[0].response)["status"] == "ok"
    assert rows[-1].event_key == "nowhere"


# --- undo, search, counts ---------------------------------------------------------------------------------


def api(client, token, method, url, **kwargs):
    return client.open(url, method=method, headers={"Authorization": f"Bearer {token}"}, **kwargs)


def test_undo_takes_back_a_mistaken_check_in(app, client, door):
    ada = f.registered(name="Ada Lovelace")
    assert scan(client, door, ada.code).get_json()["status"] == "ok"
    undone = api(client, door, "POST", "/api/v1/checkin/undo", json={"code": ada.code, "event": "summit"})
    assert undone.status_code == 200
    assert undone.get_json()["status"] == "undone" and undone.get_json()["person"]["name"] == "Ada Lovelace"
    assert attendances(ada.id) == 0
    again = api(client, door, "POST", "/api/v1/checkin/undo", json={"code": ada.code, "event": "summit"}).get_json()
    assert again["status"] == "not_checked_in"
    assert scan(client, door, ada.code).get_json()["status"] == "ok"
    assert log_statuses() == ["ok", "undone", "ok"]
    assert (
        api(client, door, "POST", "/api/v1/checkin/undo", json={"code": "NH1-X", "event": "summit"}).get_json()[
            "status"
        ]
        == "invalid"
    )
    assert api(client, door, "POST", "/api/v1/checkin/undo", json={"code": ada.code}).status_code == 400


def test_name_search_needs_three_letters_and_finds_live_invitees(app, client, door):
    ada = f.registered(name="Ada Lovelace", organisation="Analytical Engines")
    f.invitation(name="Adam Smith")
    gone = f.registered(name="Adalbert Gone")
    invitation_people.revoke_invitation(gone)
    db.session.commit()
    short = api(client, door, "GET", "/api/v1/checkin/search?event=summit&q=ad")
    assert short.status_code == 400 and "3 letters" in short.get_json()["error"]
    found = api(client, door, "GET", "/api/v1/checkin/search?event=summit&q=ADA").get_json()["results"]
    assert [r["name"] for r in found] == ["Ada Lovelace", "Adam Smith"]
    assert found[0]["ref"] == f"p{ada.id}" and found[0]["admissible"] is True and found[0]["standing"] == "Registered"
    assert found[1]["admissible"] is False
    # A reference, never the badge code, and no needs: a steward's token can't collect everyone's badge.
    assert all(
        set(r) == {"ref", "name", "organisation", "standing", "admissible", "walk_in", "checked_in_at"} for r in found
    )
    assert ada.code not in json.dumps(found)
    assert api(client, door, "GET", "/api/v1/checkin/search?event=summit&q=%25%25%25").get_json()["results"] == []
    assert api(client, door, "GET", "/api/v1/checkin/search?event=summit&q=___").get_json()["results"] == []
    scan(client, door, ada.code, method="manual")
    found = api(client, door, "GET", "/api/v1/checkin/search?event=summit&q=lovelace").get_json()["results"]
    assert found[0]["checked_in_at"] is not None
    assert api(client, door, "GET", "/api/v1/checkin/search?event=nowhere&q=ada").status_code == 404


def test_counts_are_arrived_over_expected(app, client, door):
    people = [f.registered() for _ in range(3)]
    f.invitation()
    assert api(client, door, "GET", "/api/v1/checkin/counts?event=summit").get_json() == {
        "event": "summit",
        "title": "The Lives we Lead: New Horizons",
        "arrived": 0,
        "expected": 3,
    }
    scan(client, door, people[0].code)
    scan(client, door, people[1].code)
    counts = api(client, door, "GET", "/api/v1/checkin/counts?event=summit").get_json()
    assert (counts["arrived"], counts["expected"]) == (2, 3)
    assert api(client, door, "GET", "/api/v1/checkin/counts").status_code == 400


def test_events_lists_the_summit_and_scheduled_fringe_events(app, client, door):
    fringe("warm-up")
    fringe("called-off", status=FringeStatus.CANCELLED)
    names = [e["event"] for e in api(client, door, "GET", "/api/v1/checkin/events").get_json()["events"]]
    assert set(names) == {"warm-up", "summit"}


# --- the scanner page's session twins ---------------------------------------------------------------------


def signed_in_with_csrf(app, user):
    """A client signed in through the real form, CSRF token and all."""
    from tests.support.pages import csrf_from

    client = app.test_client()
    page = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={"email": user.email, "password": f.PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    return client


def summit_today():
    """The summit as on the day: started an hour ago, ending in eight (so on today's London date, whatever the hour)."""
    return f.summit(starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(hours=8))


def test_the_scanner_page_and_its_twins_use_the_session_and_a_csrf_token(tmp_path):
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        summit_today()
        steward = f.user(role=Role.STEWARD)
        ada = f.registered(name="Ada Lovelace")
        client = signed_in_with_csrf(app, steward)
        page = client.get("/checkin")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "script-src" not in html and '<script type="module" src="/static/js/scanner/main.js"></script>' in html
        token = html.split('name="csrf-token" content="')[1].split('"')[0]
        refused = client.post("/checkin/scan", json={"code": ada.code, "event": "summit"})
        assert refused.status_code == 400 and refused.is_json and "Reload" in refused.get_json()["error"]
        assert refused.get_json()["reload"] is True  # the page keeps the scan queued instead of dropping it
        assert attendances() == 0
        accepted = client.post(
            "/checkin/scan", json={"code": ada.code, "event": "summit", "nonce": "a"}, headers={"X-CSRFToken": token}
        )
        assert accepted.status_code == 200 and accepted.get_json()["status"] == "ok"
        assert client.get("/checkin/counts?event=summit").get_json()["arrived"] == 1
        assert client.get("/checkin/search?event=summit&q=love").get_json()["results"][0]["name"] == "Ada Lovelace"
        assert (
            client.post(
                "/checkin/undo", json={"code": ada.code, "event": "summit"}, headers={"X-CSRFToken": token}
            ).get_json()["status"]
            == "undone"
        )
        # The bearer API needs no CSRF token even with CSRF on.
        bearer = token_for(steward)
        assert scan(app.test_client(), bearer, ada.code).get_json()["status"] == "ok"
        db.engine.dispose()


def test_the_scanner_twins_answer_json_when_signed_out_or_the_wrong_role(app, client):
    f.summit()
    response = client.post("/checkin/scan", json={"code": "x", "event": "summit"})
    assert response.status_code == 401 and response.is_json
    f.sign_in(client, f.user(role=Role.LEADER))
    assert client.post("/checkin/scan", json={"code": "x", "event": "summit"}).status_code == 403
    assert client.get("/checkin").status_code == 403


def test_the_scanner_page_offers_the_events_and_serves_its_decoder_from_node_modules(app, client):
    f.summit()
    fringe("warm-up")
    f.sign_in(client, f.user(role=Role.STEWARD))
    html = client.get("/checkin").get_data(as_text=True)
    assert 'value="warm-up"' in html and 'value="summit"' in html
    assert 'data-ponyfill-url="/checkin/vendor/barcode-detector/ponyfill.js"' in html
    assert 'data-wasm-url="/checkin/vendor/zxing-wasm/zxing_reader.wasm"' in html
    ponyfill = client.get("/checkin/vendor/barcode-detector/ponyfill.js")
    assert ponyfill.status_code == 200, "run `npm ci` (make setup does) to install barcode-detector"
    assert ponyfill.mimetype == "text/javascript" and b"prepareZXingModule" in ponyfill.data
    glue = client.get("/checkin/vendor/barcode-detector/zxing-exported.js")
    assert glue.status_code == 200 and glue.mimetype == "text/javascript"
    wasm = client.get("/checkin/vendor/zxing-wasm/zxing_reader.wasm")
    assert wasm.status_code == 200 and wasm.mimetype == "application/wasm" and wasm.data[:4] == b"\0asm"
    # The very build the glue code was made for (barcode-detector pins zxing-wasm, and records its hash).
    expected = re.search(r'"([0-9a-f]{64})"', glue.get_data(as_text=True))
    assert expected and hashlib.sha256(wasm.data).hexdigest() == expected.group(1)
    for missing in ("barcode-detector/package.json", "qr-scanner/qr-scanner.min.js", "../package-lock.json"):
        assert client.get(f"/checkin/vendor/{missing}").status_code == 404


def test_the_expected_list_for_offline_search_is_names_and_organisations_for_door_staff_only(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    ada.organisation = "Analytical Engines"
    ada.registration.dietary = "Vegan"
    f.invitation(name="Ivor Invited")  # invited, not registered: not expected at the summit
    db.session.commit()
    assert client.get("/checkin/expected?event=summit").status_code == 401
    f.sign_in(client, f.user(role=Role.LEADER))
    assert client.get("/checkin/expected?event=summit").status_code == 403
    client.post("/sign-out")
    f.sign_in(client, f.user(role=Role.STEWARD))
    response = client.get("/checkin/expected?event=summit")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # personal data: in no HTTP cache
    people = response.get_json()["people"]
    assert people == [{"ref": f"p{ada.id}", "name": "Ada Lovelace", "organisation": "Analytical Engines"}]
    assert ada.code not in response.get_data(as_text=True) and "Vegan" not in response.get_data(as_text=True)
    assert client.get("/checkin/expected?event=nowhere").status_code == 404
    assert client.get("/checkin/expected").status_code == 400
    # Every answer of the scanner's twins is no-store, not only this one.
    assert client.get("/checkin/search?event=summit&q=ada").headers["Cache-Control"] == "no-store"


def test_someone_found_by_name_offline_is_checked_in_by_reference_when_the_scan_syncs(tmp_path):
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        summit_today()
        steward = f.user(role=Role.STEWARD)
        ada = f.registered(name="Ada Lovelace")
        client = signed_in_with_csrf(app, steward)
        token = client.get("/checkin").get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
        ref = client.get("/checkin/expected?event=summit").get_json()["people"][0]["ref"]

        def send(body):
            return client.post("/checkin/scan", json=body, headers={"X-CSRFToken": token}).get_json()

        answer = send({"ref": ref, "event": "summit", "nonce": "n1"})
        assert answer["status"] == "ok" and answer["person"]["name"] == "Ada Lovelace"
        assert send({"ref": ref, "event": "summit", "nonce": "n1"}) == answer  # a retry: the same answer
        assert send({"ref": ref, "event": "summit", "nonce": "n2"})["status"] == "already_checked_in"
        assert send({"ref": "p999999", "event": "summit"}) == {
            "status": "invalid",
            "person": None,
            "checked_in_at": None,
            "checked_in_by": None,
        }
        assert send({"ref": "../1", "event": "summit"})["status"] == "invalid"
        assert attendances(ada.id) == 1
        methods = list(db.session.scalars(select(ScanLog.method).order_by(ScanLog.id)))
        assert methods == ["manual"] * 4  # five sent, the replay wrote nothing
        # The bearer API takes the reference too (its name search gives references, not codes).
        bearer = token_for(steward)
        again = app.test_client().post(
            "/api/v1/checkin", json={"ref": ref, "event": "summit"}, headers={"Authorization": f"Bearer {bearer}"}
        )
        assert again.status_code == 200 and again.get_json()["status"] == "already_checked_in"
        db.engine.dispose()


def test_the_scanner_service_worker_lists_the_pages_files_and_changes_version_with_them(app, client):
    response = client.get("/checkin-sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    first_line, rest = response.get_data(as_text=True).split("\n", 1)
    settings = json.loads(first_line.removeprefix("self.SCANNER_OFFLINE = ").removesuffix(";"))
    assert settings["page"] == "/checkin"
    # Every module in the scanner's folder (the page loads main.js, which imports the rest), and its styles.
    from pathlib import Path

    folder = Path(app.static_folder) / "js" / "scanner"
    modules = {f"/static/js/scanner/{path.name}" for path in folder.iterdir()}
    assert {"/static/js/scanner/main.js", "/static/js/scanner/keystrokes.js"} <= modules
    assert modules | {"/static/css/scanner.css"} <= set(settings["files"])
    # The decoder too: a reload offline must still read badges in a browser without BarcodeDetector.
    assert {
        "/static/js/scanner/decoder.js",
        "/checkin/vendor/barcode-detector/ponyfill.js",
        "/checkin/vendor/barcode-detector/zxing-exported.js",
        "/checkin/vendor/zxing-wasm/zxing_reader.wasm",
    } <= set(settings["files"])
    assert 'addEventListener("fetch"' in rest
    for path in settings["files"]:
        assert client.get(path).status_code == 200, path  # every file listed is served
    # Touch a listed file: the version changes, so phones fetch the files again.
    css = Path(app.static_folder) / "css" / "scanner.css"
    original = css.read_bytes()
    try:
        css.write_bytes(original + b"\n/* changed */\n")
        changed = client.get("/checkin-sw.js").get_data(as_text=True).split("\n", 1)[0]
        assert (
            json.loads(changed.removeprefix("self.SCANNER_OFFLINE = ").removesuffix(";"))["version"]
            != settings["version"]
        )
    finally:
        css.write_bytes(original)


def worker_settings_of(client) -> dict:
    first_line = client.get("/checkin-sw.js").get_data(as_text=True).split("\n", 1)[0]
    return json.loads(first_line.removeprefix("self.SCANNER_OFFLINE = ").removesuffix(";"))


def test_a_new_module_in_the_scanners_folder_is_kept_offline_without_being_listed(app, client, tmp_path):
    import shutil

    static = tmp_path / "static"  # a copy of the static files, so the real folder is left alone
    shutil.copytree(app.static_folder, static)
    app.static_folder = str(static)
    before = worker_settings_of(client)
    (static / "js" / "scanner" / "lanyard.js").write_text("export const lanyard = true;\n", encoding="utf-8")
    (static / "js" / "scanner" / ".main.js.swp").write_bytes(b"an editor's swap file")
    after = worker_settings_of(client)
    assert "/static/js/scanner/lanyard.js" not in before["files"]
    assert "/static/js/scanner/lanyard.js" in after["files"]  # offline.py names the folder, not the file
    assert not any(url.endswith(".swp") for url in after["files"])
    assert after["version"] != before["version"]  # so phones fetch the files again, the new module with them
    assert client.get("/static/js/scanner/lanyard.js").status_code == 200


def selected_event(html_text: str) -> str:
    match = re.search(r'<option value="([^"]*)" selected', html_text)
    assert match, "no event selected"
    return match.group(1)


def test_the_scanner_opens_on_the_event_on_now_and_asks_when_nothing_is_today(app, client):
    f.summit()  # months away
    later = fringe("next-week")
    later.starts_at, later.ends_at = utcnow() + timedelta(days=7), utcnow() + timedelta(days=7, hours=2)
    db.session.commit()
    f.sign_in(client, f.user(role=Role.STEWARD))
    page = client.get("/checkin").get_data(as_text=True)
    assert selected_event(page) == ""  # "Choose the event…": not next week's event as a walk-in door
    on_now = fringe("on-now")
    on_now.starts_at = utcnow() - timedelta(minutes=30)
    db.session.commit()
    page = client.get("/checkin").get_data(as_text=True)
    assert selected_event(page) == "on-now"
    # Each option carries its title, dates and London days, so the page shows them and knows "today".
    assert 'data-title="On Now"' in page and "data-first-day=" in page and "data-when=" in page
    assert selected_event(client.get("/checkin?event=next-week").get_data(as_text=True)) == "next-week"
    assert selected_event(client.get("/checkin?event=no-such-event").get_data(as_text=True)) == "on-now"


def test_the_scanner_page_keeps_the_content_security_policy(app, client):
    f.summit()
    f.sign_in(client, f.user(role=Role.STEWARD))
    csp = client.get("/checkin").headers["Content-Security-Policy"]
    # Exactly what the WebAssembly decoder needs on top of the app's policy: compiling wasm, no eval of scripts.
    assert "script-src 'self' 'wasm-unsafe-eval';" in csp and "worker-src 'self' blob:" in csp
    assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp and "default-src 'self';" in csp
    elsewhere = client.get("/").headers["Content-Security-Policy"]
    assert csp == elsewhere.replace("script-src 'self';", "script-src 'self' 'wasm-unsafe-eval';") != elsewhere


# --- the organisers' overview -------------------------------------------------------------------------------


def test_the_overview_shows_arrivals_who_is_missing_and_every_scan(app, client, door):
    ada = f.registered(name="Ada Lovelace")
    f.registered(name="Grace Hopper")
    scan(client, door, ada.code)
    scan(client, door, "NH1-FORGED")
    scan(client, door, ada.code[:-1])
    f.sign_in(client, f.user())
    page = client.get("/organiser/checkin?event=summit").get_data(as_text=True)
    assert "Arrivals over time" in page and "Grace Hopper" in page
    assert "Invalid badge" in page and "NH1-FORGED" in page
    assert "Incomplete code" in page and ada.code[:-1] in page
    csv_text = client.get("/organiser/checkin/scan-log.csv?event=summit").data.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("time (UK),event,status")
    assert {line.split(",")[2] for line in lines[1:]} == {"ok", "invalid", "incomplete"}
    missing = client.get("/organiser/checkin/not-arrived.csv?event=summit").data.decode("utf-8-sig")
    assert "Grace Hopper" in missing and "Ada Lovelace" not in missing


def test_arrival_buckets_cover_every_quarter_hour():
    from datetime import datetime

    from app.checkin.routes import arrival_buckets

    t0 = datetime(2026, 10, 14, 8, 31, tzinfo=UTC)  # 9:31am in London
    buckets = arrival_buckets([t0, t0 + timedelta(minutes=3), t0 + timedelta(minutes=50)])
    assert [(b["label"], b["arrived"], b["total"]) for b in buckets] == [
        ("9:30am–9:45am", 2, 2),
        ("9:45am–10am", 0, 2),
        ("10am–10:15am", 0, 2),
        ("10:15am–10:30am", 1, 3),
    ]


# --- rate limit -----------------------------------------------------------------------------------------------


def test_the_api_is_rate_limited_per_token_with_retry_after(tmp_path):
    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True, CHECKIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        from app.core.extensions import limiter

        limiter.reset()
        f.summit()
        ada = f.registered()
        busy, other = steward_token(), steward_token("Kim")
        client = app.test_client()
        for _ in range(3):
            assert scan(client, busy, ada.code).status_code == 200
        limited = scan(client, busy, ada.code)
        assert limited.status_code == 429
        assert limited.is_json and "Too many" in limited.get_json()["error"]
        assert 0 < int(limited.headers["Retry-After"]) <= 60
        assert scan(client, other, ada.code).status_code == 200  # another scanner is not held up
        assert log_statuses().count("already_checked_in") + log_statuses().count("ok") == 4
        db.engine.dispose()


def test_the_scanner_page_twins_are_limited_per_steward_and_answer_json(tmp_path):
    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True, CHECKIN_RATE_LIMIT="2 per minute")
    with app.app_context():
        from app.core.extensions import limiter

        limiter.reset()
        f.summit()
        client = app.test_client()
        f.sign_in(client, f.user(role=Role.STEWARD))
        ada = f.registered()
        assert [
            client.post("/checkin/scan", json={"code": ada.code, "event": "summit"}).status_code for _ in range(2)
        ] == [200, 200]
        limited = client.post("/checkin/scan", json={"code": ada.code, "event": "summit"})
        assert limited.status_code == 429 and limited.is_json and "Retry-After" in limited.headers
        db.engine.dispose()


def test_an_unexpected_failure_is_a_json_500_that_says_a_retry_is_safe(app, client, door, monkeypatch):
    from app.checkin import scans

    def broken(*args, **kwargs):
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(scans, "check_in", broken)
    response = scan(client, door, f.registered().code, nonce="x")
    assert response.status_code == 500 and response.is_json
    assert "safe to repeat" in response.get_json()["error"]


def test_failed_token_lookups_are_limited_per_address(tmp_path):
    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True, LINK_LOOKUP_RATE_LIMIT="3 per minute")
    with app.app_context():
        from app.core.extensions import limiter

        limiter.reset()
        f.summit()
        client = app.test_client()
        statuses = [scan(client, f"guess-{i}", "NH1-X").status_code for i in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        db.engine.dispose()


# --- two doors at once -------------------------------------------------------------------------------------------

DOORS = 6
PEOPLE = 8


def race(app, tokens: list[str], codes: list[str]) -> Counter:
    """Every door scans every code, all doors released together for each code."""
    outcomes: Counter = Counter()
    lock = threading.Lock()
    for code in codes:
        barrier = threading.Barrier(len(tokens))

        def door(token: str) -> None:
            client = app.test_client()
            barrier.wait(timeout=PATIENCE_SECONDS)
            response = scan(client, token, code)
            with lock:
                outcomes[(code, response.get_json().get("status") if response.is_json else response.status_code)] += 1

        threads = [threading.Thread(target=door, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        join_all(threads)
    return outcomes


def counting_hot_path(monkeypatch) -> Counter:
    """Counts the scans the hot path answered (the rest took the general path: a door's first, say)."""
    answered: Counter = Counter()
    real = hot_path.check_in

    def check_in(*args, **kwargs):
        answer = real(*args, **kwargs)
        answered[answer["status"] if answer else None] += 1
        return answer

    monkeypatch.setattr(hot_path, "check_in", check_in)
    return answered


@both_databases
def test_the_same_badge_at_several_doors_at_once_is_one_ok(app, monkeypatch):
    f.summit()
    tokens = [steward_token(f"Door {i}") for i in range(DOORS)]
    people = [f.registered() for _ in range(PEOPLE)]
    db.session.commit()
    answered = counting_hot_path(monkeypatch)
    outcomes = race(app, tokens, [p.code for p in people])
    assert answered["ok"] >= PEOPLE - 1 and answered["already_checked_in"] > 0  # each door's first took the other path
    kind = db.engine.dialect.name
    print(f"\n[{kind}] {DOORS} doors x {PEOPLE} badges: {Counter(status for (_, status) in outcomes.elements())}")
    for person in people:
        assert outcomes[(person.code, "ok")] == 1, outcomes
        assert outcomes[(person.code, "already_checked_in")] == DOORS - 1, outcomes
    assert attendances() == PEOPLE
    assert len(log_statuses()) == DOORS * PEOPLE


@both_databases
def test_a_retry_racing_its_original_is_answered_once(app, monkeypatch):
    """The same nonce sent twice at once (a timeout retry): both get the same answer; one attendance, one log row."""
    f.summit()
    token = steward_token()
    people = [f.registered() for _ in range(PEOPLE)]
    answered = counting_hot_path(monkeypatch)
    answers = []
    lock = threading.Lock()
    for person in people:
        barrier = threading.Barrier(2)

        def send(person=person, barrier=barrier):
            client = app.test_client()
            barrier.wait(timeout=PATIENCE_SECONDS)
            body = scan(client, token, person.code, nonce=f"nonce-{person.id}").get_json()
            with lock:
                answers.append((person.id, body["status"]))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        join_all(threads)
    assert sorted(answers) == sorted((p.id, "ok") for p in people for _ in range(2))
    assert attendances() == PEOPLE
    assert log_statuses() == ["ok"] * PEOPLE
    assert answered["ok"] >= 2 * PEOPLE - 2  # replays too: all but the first pair came through the hot path


def _drop_attendance_guard(engine) -> None:
    """The control: the attendance table without its unique (person, event) constraint."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ALTER TABLE attendance DROP CONSTRAINT uq_attendance_person_event"))
            return
        create = connection.execute(text("SELECT sql FROM sqlite_master WHERE name = 'attendance'")).scalar_one()
        unguarded = re.sub(r",\s*CONSTRAINT uq_attendance_person_event UNIQUE \([^)]*\)", "", create)
        assert unguarded != create
        connection.execute(text("DROP TABLE attendance"))
        connection.execute(text(unguarded))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_control_without_the_unique_constraint_the_race_is_real(kind, tmp_path, monkeypatch):
    app = make_app(kind, tmp_path, SQLITE_BEGIN="DEFERRED")
    real_look_up = checkin_scans._look_up

    def slow_look_up(code, event):
        found = real_look_up(code, event)
        time.sleep(0.05)  # the gap between looking and writing that a busy server has anyway
        return found

    monkeypatch.setattr(checkin_scans, "_look_up", slow_look_up)
    real_hot_look_up = hot_path._look_up

    def slow_hot_look_up(connection, token_hash, code):
        found = real_hot_look_up(connection, token_hash, code)
        time.sleep(0.05)
        return found

    monkeypatch.setattr(hot_path, "_look_up", slow_hot_look_up)
    with app.app_context():
        f.summit()
        tokens = [steward_token(f"Door {i}") for i in range(DOORS)]
        people = [f.registered() for _ in range(3)]
        _drop_attendance_guard(db.engine)
        outcomes = race(app, tokens, [p.code for p in people])
        oks = sum(n for (code, status), n in outcomes.items() if status == "ok")
        errors = sum(n for (code, status), n in outcomes.items() if status not in ("ok", "already_checked_in"))
        print(f"\n[{kind} control] {dict(Counter(s for (_, s) in outcomes.elements()))}")
        # Without the guard, a badge gets in twice, or the doors fail outright.
        assert oks > len(people) or errors > 0
        db.engine.dispose()


# --- what a steward's token can learn and do: references not codes, sign-ups, today's events ---------------


@both_databases
def test_an_event_not_on_today_is_the_wrong_event_unless_the_steward_confirmed_it(app, client, door):
    ada = f.registered(name="Ada Lovelace")  # the summit is months away
    later = fringe("next-week")
    later.starts_at, later.ends_at = utcnow() + timedelta(days=7), utcnow() + timedelta(days=7, hours=2)
    db.session.add(FringeSignup(invitation_id=ada.id, fringe_event_id=later.id, state=SignupState.CONFIRMED))
    db.session.commit()
    nobody = {"status": "wrong_event", "person": None, "checked_in_at": None, "checked_in_by": None}
    for event in ("summit", "next-week"):
        assert scan(client, door, ada.code, event=event, confirmed=False).get_json() == nobody, event
        body = {"code": ada.code, "event": event}  # a client that knows nothing of `confirmed`: the same
        assert api(client, door, "POST", "/api/v1/checkin", json=body).get_json() == nobody, event
    assert attendances() == 0
    assert log_statuses() == ["wrong_event"] * 4
    # The steward confirmed: checked in.
    for event in ("summit", "next-week"):
        assert scan(client, door, ada.code, event=event, confirmed=True).get_json()["status"] == "ok", event
    assert attendances(ada.id) == 2
    # On the day, no confirmation is needed.
    f.summit(starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(hours=8))
    grace = f.registered(name="Grace Hopper")
    assert scan(client, door, grace.code, confirmed=False).get_json()["status"] == "ok"
    # `confirmed` is true or false, nothing else.
    refused = api(
        client, door, "POST", "/api/v1/checkin", json={"code": ada.code, "event": "summit", "confirmed": "yes"}
    )
    assert refused.status_code == 400 and "'confirmed'" in refused.get_json()["error"]


@both_databases
def test_a_fringe_check_in_needs_a_sign_up_or_a_walk_in_on_purpose(app, client, door):
    event = fringe("warm-up")
    signed, stranger = f.registered(name="Signed Up"), f.registered(name="Never Signed")
    stranger.registration.access_needs = "Wheelchair user"
    db.session.add(FringeSignup(invitation_id=signed.id, fringe_event_id=event.id, state=SignupState.CONFIRMED))
    db.session.commit()
    refused = scan(client, door, stranger.code, event="warm-up").get_json()
    assert refused == {
        "status": "not_registered",
        "person": {"name": "Never Signed", "organisation": "Suffolk County Council", "needs": []},
        "checked_in_at": None,
        "checked_in_by": None,
    }
    assert attendances() == 0
    assert scan(client, door, signed.code, event="warm-up").get_json()["status"] == "ok"
    walked = scan(client, door, stranger.code, event="warm-up", walk_in=True).get_json()
    assert walked["status"] == "ok" and walked["person"]["needs"][0]["text"] == "Wheelchair user"
    db.session.expire_all()
    rows = {a.invitation_id: a.walk_in for a in db.session.scalars(select(Attendance))}
    assert rows == {signed.id: False, stranger.id: True}
    bad = api(client, door, "POST", "/api/v1/checkin", json={"code": signed.code, "event": "warm-up", "walk_in": 1})
    assert bad.status_code == 400 and "'walk_in'" in bad.get_json()["error"]


@both_databases
def test_the_name_search_hands_out_references_never_codes_or_needs(app, client, door):
    people = [f.registered(name=name) for name in ("Ada Lovelace", "Grace Hopper", "Mary Somerville")]
    for person in people:
        person.registration.dietary = "Vegan, no nuts"
        person.registration.access_needs = "Step-free access"
    event = fringe("warm-up")
    db.session.add(FringeSignup(invitation_id=people[0].id, fringe_event_id=event.id, state=SignupState.CONFIRMED))
    db.session.commit()
    # Every three-letter stretch of every name, at both events, as someone harvesting would search.
    answers = []
    for person in people:
        for i in range(len(person.name) - 2):
            for name in ("summit", "warm-up"):
                q = person.name[i : i + 3]
                answers.append(
                    api(client, door, "GET", f"/api/v1/checkin/search?event={name}&q={q}").get_data(as_text=True)
                )
    harvest = "\n".join(answers)
    assert all(p.name in harvest for p in people)
    for person in people:
        assert person.code not in harvest and person.code[4:12] not in harvest
    assert (
        "Vegan" not in harvest and "Step-free" not in harvest and '"code"' not in harvest and '"needs"' not in harvest
    )

    # What the search gives is what a check-in takes: a reference, through the API as through the page.
    [ada] = api(client, door, "GET", "/api/v1/checkin/search?event=summit&q=lovelace").get_json()["results"]
    checked = api(
        client, door, "POST", "/api/v1/checkin", json={"ref": ada["ref"], "event": "summit", "confirmed": True}
    )
    assert checked.get_json()["status"] == "ok"
    assert checked.get_json()["person"]["needs"]  # the door that admits them sees their needs
    # At a fringe event: those signed up are admissible; anyone else is offered as a walk-in, on purpose.
    found = api(client, door, "GET", "/api/v1/checkin/search?event=warm-up&q=o").status_code
    assert found == 400
    results = {
        r["name"]: r
        for q in ("lov", "hop")
        for r in api(client, door, "GET", f"/api/v1/checkin/search?event=warm-up&q={q}").get_json()["results"]
    }
    assert (results["Ada Lovelace"]["admissible"], results["Ada Lovelace"]["walk_in"]) == (True, False)
    assert (results["Grace Hopper"]["admissible"], results["Grace Hopper"]["walk_in"]) == (False, True)
    grace_ref = results["Grace Hopper"]["ref"]
    body = {"ref": grace_ref, "event": "warm-up", "confirmed": True}
    assert api(client, door, "POST", "/api/v1/checkin", json=body).get_json()["status"] == "not_registered"
    assert api(client, door, "POST", "/api/v1/checkin", json={**body, "walk_in": True}).get_json()["status"] == "ok"
    # Undo by reference too; and undoing someone who isn't in says who, not their needs.
    undone = api(client, door, "POST", "/api/v1/checkin/undo", json={"ref": grace_ref, "event": "warm-up"}).get_json()
    assert undone["status"] == "undone"
    again = api(client, door, "POST", "/api/v1/checkin/undo", json={"ref": grace_ref, "event": "warm-up"}).get_json()
    assert again["status"] == "not_checked_in" and again["person"]["needs"] == []
    assert attendances(event_key="summit") == 1 and attendances(event_key=event.event_key) == 0
