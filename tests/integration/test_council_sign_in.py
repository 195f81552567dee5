"""Staff sign in with their council's Microsoft 365 account (OpenID Connect with Entra ID), against a stand-in
provider on 127.0.0.1: only an invited or active staff account with the address signs in, only from a tenant on the
allow-list, only with an ID token issued to this app, in date, for this browser's own state and nonce; and the
sign-in is one like any other (the audit log, sign-out everywhere, the rate limit)."""

from __future__ import annotations

import html
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth import accounts, invites, sessions
from app.core.auth.models import Role, StaffSession, User
from app.core.db import db
from config import ProductionConfig, oidc_problems, production_problems, settings_of
from tests.support import both_databases, oidc_standin
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.oidc_standin import CLIENT_ID, CLIENT_SECRET, COUNCIL_TENANT, OTHER_TENANT, new_key, person

ANN = "ann.officer@suffolk.example.gov.uk"
BUTTON = "Sign in with your council account"


@pytest.fixture(scope="module")
def provider():
    standin = oidc_standin.StandIn().start()
    yield standin
    standin.stop()


def council_settings(provider) -> dict:
    return dict(
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_ALLOWED_TENANTS=[COUNCIL_TENANT],
        OIDC_METADATA_URL=provider.metadata_url,
    )


@pytest.fixture(params=["sqlite"])
def app(request, tmp_path, provider):
    """The app (SQLite, or PostgreSQL with `both_databases`) with council sign-in set up against the stand-in."""
    provider.reset()
    application = make_app(request.param, tmp_path, **council_settings(provider))
    application.test_client_class = FreshSessionClient
    with application.app_context():
        yield application
    with application.app_context():
        db.engine.dispose()


def go_to_provider(client, path: str = "/sign-in/council"):
    started = client.get(path)
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    return started.headers["Location"]


def come_back(client, authorize_url: str):
    """The browser at Microsoft: the stand-in signs its person in and sends the browser back with a code."""
    at_provider = requests.get(authorize_url, allow_redirects=False, timeout=30)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert f"{back.scheme}://{back.netloc}" == "http://localhost"  # BASE_URL: the registered redirect URI
    return client.get(f"{back.path}?{back.query}")


def sign_in_with_council(client):
    return come_back(client, go_to_provider(client))


def words(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def refusals(caplog) -> list[str]:
    """Why each council sign-in was refused, as the app logged it (a reason, never the address)."""
    prefix = "council sign-in refused: "
    return [r.getMessage().removeprefix(prefix) for r in caplog.records if r.getMessage().startswith(prefix)]


def users() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(User))


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- signing in -------------------------------------------------------------------------------------------


@both_databases
def test_a_staff_member_signs_in_with_their_council_account_and_lands_on_their_home_page(app, client, provider):
    f.summit()
    ann = f.user(Role.ORGANISER, email="Ann.Officer@suffolk.example.gov.uk", name="Ann Officer")

    page = client.get("/sign-in").get_data(as_text=True)
    assert BUTTON in page and 'href="/sign-in/council"' in page
    authorize_url = go_to_provider(client)
    # The authorization code flow with state, nonce and PKCE (S256), to the redirect URI registered in Entra.
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert authorize_url.startswith(provider.url + "/organizations/oauth2/v2.0/authorize?")
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://localhost/sign-in/council/callback"
    assert set(query["scope"].split()) == {"openid", "email", "profile"}
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]

    back = come_back(client, authorize_url)

    assert back.status_code == 303 and back.headers["Location"] == "/organiser/"
    assert back.headers["Cache-Control"] == "no-store"  # the callback's address carried a code
    [exchange] = provider.token_requests
    assert exchange["code_verifier"] and "client_secret" not in exchange  # the secret went in the Basic header
    home = client.get("/organiser/")
    assert home.status_code == 200 and "Sign out</button>" in home.get_data(as_text=True)
    assert audit_actions()[-1] == "staff.signed_in_with_council_account"
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.actor_id == ann.id and event.details == {"user_id": ann.id, "tenant": COUNCIL_TENANT}
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 1
    organiser_log = client.get("/organiser/audit/").get_data(as_text=True)
    assert "signed in with their council account." in organiser_log

    # A sign-in like any other: "sign out everywhere" ends it on its next request.
    sessions.end_every_sign_in(db.session.get(User, ann.id))
    db.session.commit()
    assert client.get("/organiser/").status_code == 302


def test_a_leader_lands_on_their_page_and_a_next_address_is_kept(app, client, provider):
    f.summit()
    f.user(Role.LEADER, email=ANN, name="Ann Officer")
    provider.who = person(ANN, "Ann Officer")

    assert client.get("/leader").status_code == 302
    sign_in_page = client.get("/sign-in?next=/account").get_data(as_text=True)
    assert 'href="/sign-in/council?next=/account"' in sign_in_page
    back = come_back(client, go_to_provider(client, "/sign-in/council?next=/account"))
    assert back.status_code == 303 and back.headers["Location"] == "/account"

    other = app.test_client()  # no next: the leader's own page
    assert come_back(other, go_to_provider(other)).headers["Location"] == "/leader"
    # Another site's address as `next` is never followed.
    third = app.test_client()
    assert (
        come_back(third, go_to_provider(third, "/sign-in/council?next=//evil.example")).headers["Location"] == "/leader"
    )


@both_databases
def test_someone_invited_who_has_not_joined_yet_joins_by_signing_in(app, client, provider):
    f.summit()
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    invites.invite(ANN, name="Ann Officer", role=Role.STEWARD, actor=olive)
    db.session.commit()

    back = sign_in_with_council(client)

    assert back.status_code == 303 and back.headers["Location"] == "/checkin"
    db.session.expire_all()
    ann = db.session.scalars(select(User).where(User.email == ANN)).one()
    assert ann.active and not ann.invitation_pending and ann.password_hash is None
    assert audit_actions()[-2:] == ["staff.joined", "staff.signed_in_with_council_account"]
    # The emailed invitation has done its work.
    from app.core.auth.models import StaffLink

    assert db.session.scalar(select(func.count()).select_from(StaffLink).where(StaffLink.user_id == ann.id)) == 0


# --- refused -----------------------------------------------------------------------------------------------


@both_databases
def test_an_address_with_no_staff_account_is_refused_and_no_account_is_made(app, client, provider):
    f.summit()
    f.user(Role.ORGANISER, email="olive@suffolk.example.gov.uk")
    before = users()
    provider.who = person("stranger@suffolk.example.gov.uk", "Stranger")

    back = sign_in_with_council(client)

    page = words(back)
    assert back.status_code == 403
    assert "You signed in to Microsoft as stranger@suffolk.example.gov.uk, but there is no staff account here" in page
    assert "ask an organiser to invite that address" in page
    assert users() == before
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0
    assert client.get("/staff").status_code == 302  # not signed in


@both_databases
def test_a_deactivated_account_is_refused(app, client, provider):
    f.summit()
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    ann = f.user(Role.STEWARD, email=ANN, name="Ann Officer")
    accounts.set_active(ann, active=False, actor=olive)
    db.session.commit()

    back = sign_in_with_council(client)

    assert back.status_code == 403
    assert "has been deactivated, so it can't sign in" in words(back)
    assert client.get("/checkin").status_code == 302
    assert "staff.signed_in_with_council_account" not in audit_actions()


def test_an_account_from_a_tenant_not_on_the_allow_list_is_refused(app, client, provider, caplog):
    f.user(Role.ORGANISER, email=ANN)
    provider.who = person(ANN, "Ann Officer", tenant=OTHER_TENANT)  # its own issuer, a valid token, another tenant

    back = sign_in_with_council(client)

    assert back.status_code == 403
    assert "belongs to an organisation whose accounts can't sign in here" in words(back)
    assert refusals(caplog) == ["tenant"]
    assert client.get("/staff").status_code == 302


def test_a_token_whose_issuer_is_another_tenant_than_its_tid_is_refused(app, client, provider, caplog):
    f.user(Role.ORGANISER, email=ANN)
    provider.tamper = {"iss": provider.issuer(OTHER_TENANT)}  # tid on the allow-list, issued by another tenant

    back = sign_in_with_council(client)

    assert back.status_code == 400 and "couldn't be checked" in words(back)
    assert refusals(caplog) == ["issuer"]
    assert client.get("/staff").status_code == 302


@pytest.mark.parametrize(
    "tamper, reason",
    [
        pytest.param({"aud": "another-apps-client-id"}, "token:InvalidClaimError:aud", id="wrong audience"),
        pytest.param(
            {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
            "token:ExpiredTokenError:exp",
            id="expired",
        ),
        pytest.param({"nonce": "not-this-browsers-nonce"}, "token:InvalidClaimError:nonce", id="wrong nonce"),
        pytest.param({"nonce": None}, "token:MissingClaimError:nonce", id="no nonce"),
        pytest.param({"tid": None}, "token:MissingClaimError:tid", id="no tenant"),
    ],
)
def test_an_id_token_not_for_this_sign_in_is_refused(app, client, provider, caplog, tamper, reason):
    f.user(Role.ORGANISER, email=ANN)
    provider.tamper = tamper

    back = sign_in_with_council(client)

    assert back.status_code == 400
    assert "Microsoft's answer couldn't be checked, so nobody was signed in." in words(back)
    assert refusals(caplog) == [reason]
    assert client.get("/staff").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0


@pytest.mark.parametrize("verified", [False, "0"])
def test_an_address_in_a_domain_the_tenant_has_not_verified_is_refused(app, client, provider, caplog, verified):
    f.user(Role.ORGANISER, email=ANN)
    provider.tamper = {"xms_edov": verified}  # Entra's optional claim "email domain owner verified"

    back = sign_in_with_council(client)

    assert back.status_code == 403 and "a domain your council hasn't verified" in words(back)
    assert refusals(caplog) == ["unverified-domain"]
    assert client.get("/staff").status_code == 302
    provider.tamper = {"xms_edov": True}
    assert sign_in_with_council(app.test_client()).status_code == 303


def test_without_an_email_claim_the_sign_in_name_is_the_address(app, client, provider):
    f.user(Role.ORGANISER, email=ANN)
    provider.tamper = {"email": None, "preferred_username": ANN.upper()}
    assert sign_in_with_council(client).status_code == 303

    provider.tamper = {"email": None, "preferred_username": "ANNOFFICER"}  # a sign-in name that isn't an address
    refused = sign_in_with_council(app.test_client())
    assert refused.status_code == 403 and "didn't tell us your email address" in words(refused)


def test_signing_in_again_in_another_tab_ends_the_first_sign_in(app, client, provider):
    f.user(Role.ORGANISER, email=ANN)
    first_trip = go_to_provider(client)
    second_trip = go_to_provider(client)  # a second tab, before the first came back
    assert come_back(client, first_trip).status_code == 303
    assert come_back(client, second_trip).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 1
    assert client.get("/staff").status_code == 200


def test_a_browser_keeps_only_its_newest_sign_ins_under_way(app, client, provider):
    """Each sign-in under way is kept in the session cookie, which can't grow past 4 KB: the newest three are kept."""
    f.user(Role.ORGANISER, email=ANN)
    trips = [go_to_provider(client) for _ in range(12)]
    cookie = client.get_cookie("session")
    assert cookie is not None and len(cookie.value) < 1500
    assert come_back(client, trips[0]).status_code == 400  # the oldest was forgotten
    assert come_back(app.test_client(), trips[-1]).status_code == 400  # another browser's
    assert come_back(client, trips[-1]).status_code == 303  # the newest works


def test_a_token_signed_with_another_key_is_refused(app, client, provider, caplog):
    f.user(Role.ORGANISER, email=ANN)
    provider.sign_with = new_key(provider.key.kid)  # the provider's key id, someone else's key

    back = sign_in_with_council(client)

    assert back.status_code == 400 and "couldn't be checked" in words(back)
    assert refusals(caplog) == ["token:BadSignatureError"]
    assert client.get("/staff").status_code == 302


def test_a_state_that_is_not_this_browsers_is_refused(app, client, provider):
    f.user(Role.ORGANISER, email=ANN)
    # Mallory starts a sign-in and hands the callback (her code, her state) to Ann's browser: login CSRF.
    mallory = app.test_client()
    authorize_url = go_to_provider(mallory)
    at_provider = requests.get(authorize_url, allow_redirects=False, timeout=30)
    back = urlsplit(at_provider.headers["Location"])
    go_to_provider(client)  # Ann's browser has a sign-in of its own under way

    answer = client.get(f"{back.path}?{back.query}")

    assert answer.status_code == 400
    assert "didn't finish" in words(answer)
    assert client.get("/staff").status_code == 302
    # The callback opened with no state at all, too.
    assert client.get("/sign-in/council/callback?code=abc").status_code == 400


def test_a_callback_works_once(app, client, provider):
    f.user(Role.ORGANISER, email=ANN)
    authorize_url = go_to_provider(client)
    at_provider = requests.get(authorize_url, allow_redirects=False, timeout=30)
    back = urlsplit(at_provider.headers["Location"])
    assert client.get(f"{back.path}?{back.query}").status_code == 303

    copy = app.test_client()  # the address copied (from a history, a log) into another browser
    assert copy.get(f"{back.path}?{back.query}").status_code == 400
    client.post("/sign-out")
    assert client.get(f"{back.path}?{back.query}").status_code == 400  # and in the same one, once used


def test_cancelling_at_microsoft_signs_nobody_in(app, client, provider):
    authorize_url = go_to_provider(client)
    state = parse_qs(urlsplit(authorize_url).query)["state"][0]
    answer = client.get(f"/sign-in/council/callback?error=access_denied&error_description=AADSTS65004&state={state}")
    assert answer.status_code == 400 and "was cancelled" in words(answer)


def test_a_provider_that_does_not_answer_gets_a_sentence_not_an_error(tmp_path, provider):
    from tests.support.servers import free_port

    settings = {**council_settings(provider), "OIDC_METADATA_URL": f"http://127.0.0.1:{free_port()}/nothing"}
    app = make_app("sqlite", tmp_path, **settings, OIDC_TIMEOUT=5)
    with app.app_context():
        answer = app.test_client().get("/sign-in/council")
        assert answer.status_code == 503
        assert "couldn't reach Microsoft" in words(answer)
        db.engine.dispose()


def test_council_sign_in_is_rate_limited_like_signing_in(tmp_path, provider):
    provider.reset()
    app = make_app(
        "sqlite", tmp_path, **council_settings(provider), RATELIMIT_ENABLED=True, SIGNIN_RATE_LIMIT="3 per minute"
    )
    with app.app_context():
        client = app.test_client()
        answers = [client.get("/sign-in/council/callback?code=guess&state=guess").status_code for _ in range(4)]
        assert answers == [400, 400, 400, 429]
        db.engine.dispose()


# --- set up or not ----------------------------------------------------------------------------------------


def test_without_the_settings_there_is_no_button_and_no_council_sign_in(tmp_path):
    app = make_app("sqlite", tmp_path)
    with app.app_context():
        client = app.test_client()
        assert BUTTON not in client.get("/sign-in").get_data(as_text=True)
        assert client.get("/sign-in/council").status_code == 404
        assert client.get("/sign-in/council/callback?code=a&state=b").status_code == 404
        db.engine.dispose()


def test_half_set_up_is_no_button_either(tmp_path, provider):
    app = make_app("sqlite", tmp_path, **{**council_settings(provider), "OIDC_CLIENT_SECRET": ""})
    with app.app_context():
        assert BUTTON not in app.test_client().get("/sign-in").get_data(as_text=True)
        db.engine.dispose()


# --- production refuses to start half set up --------------------------------------------------------------

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.mark.parametrize(
    "settings, says",
    [
        ({"OIDC_CLIENT_ID": CLIENT_ID}, ["OIDC_CLIENT_SECRET is not", "OIDC_ALLOWED_TENANTS is not"]),
        ({"OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": "s"}, ["OIDC_ALLOWED_TENANTS is not"]),
        ({"OIDC_CLIENT_ID": CLIENT_ID, "OIDC_ALLOWED_TENANTS": [TENANT]}, ["OIDC_CLIENT_SECRET is not"]),
        ({"OIDC_CLIENT_SECRET": "s", "OIDC_ALLOWED_TENANTS": [TENANT]}, ["OIDC_CLIENT_ID is not"]),
        (
            {"OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": "s", "OIDC_ALLOWED_TENANTS": ["suffolk.gov.uk"]},
            ["'suffolk.gov.uk', which is not a tenant id"],
        ),
        (
            {
                "OIDC_CLIENT_ID": CLIENT_ID,
                "OIDC_CLIENT_SECRET": "s",
                "OIDC_ALLOWED_TENANTS": [TENANT],
                "OIDC_METADATA_URL": "http://login.example/.well-known/openid-configuration",
            },
            ["OIDC_METADATA_URL is 'http://login.example", "not an https:// address"],
        ),
    ],
)
def test_production_refuses_council_sign_in_half_set_up(settings, says):
    config = {**settings_of(ProductionConfig), **settings}
    said = " ".join(production_problems(config))
    for words in says:
        assert words in said, said


def test_production_accepts_council_sign_in_set_up_whole_or_not_at_all():
    config = settings_of(ProductionConfig)
    assert oidc_problems(config) == []
    whole = {**config, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": "s", "OIDC_ALLOWED_TENANTS": [TENANT]}
    assert oidc_problems(whole) == []
