"""With CSRF on (as in production), a state-changing POST without its token is refused and writes nothing; a form
sent with a stale token (or after the session was forgotten) comes back as it was typed, to be sent again."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from app.core.db import db
from app.core.forms import STALE_FORM
from app.core.mail.models import OutboxMessage
from invitations.models import Invitation, InvitationState, Registration
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.factories import fresh, link
from tests.support.pages import csrf_from, text
from tests.support.rows import count

S = InvitationState
REGISTRATION_FORM = {
    "name": "Ada Lovelace",
    "organisation": "Analytical Engines",
    "job_title": "",
    "dietary": "",
    "access_needs": "",
    "consent": "y",
}


@pytest.fixture
def csrf_app(tmp_path):
    application = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    assert application.config["WTF_CSRF_ENABLED"] is True
    with application.app_context():
        yield application
        db.engine.dispose()


@pytest.fixture
def client(csrf_app):
    csrf_app.test_client_class = FreshSessionClient
    return csrf_app.test_client()


def assert_refused(response):
    """Refused, in plain words: a form with typed input comes back with the sentence (422); a one-button form
    sends the person back to press it again (303, the sentence flashed). Each test checks nothing was written."""
    assert response.status_code in (303, 422), response.status_code
    if response.status_code == 422:
        assert STALE_FORM in response.get_data(as_text=True)


def sign_in_with_csrf(client, user) -> None:
    token = csrf_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/sign-in", data={"email": user.email, "password": f.PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_register_without_the_csrf_token_is_refused_and_with_it_succeeds(csrf_app, client):
    f.summit()
    inv = f.invitation()

    assert_refused(client.post(link(inv, "register"), data=REGISTRATION_FORM))
    assert_refused(client.post(link(inv, "register"), data={**REGISTRATION_FORM, "csrf_token": "forged"}))

    assert fresh(inv).state == S.INVITED
    assert count(Registration) == 0 and count(OutboxMessage) == 0

    token = csrf_from(client.get(link(inv, "register")).get_data(as_text=True))
    response = client.post(link(inv, "register"), data={**REGISTRATION_FORM, "csrf_token": token})

    assert response.status_code == 302
    assert fresh(inv).state == S.REGISTERED and count(Registration) == 1


def test_decline_without_the_csrf_token_is_refused_and_with_it_succeeds(csrf_app, client):
    f.summit()
    inv = f.invitation()

    assert_refused(client.post(link(inv, "decline"), data={"reason": "Away"}))
    assert fresh(inv).state == S.INVITED and fresh(inv).decline_reason == ""

    token = csrf_from(client.get(link(inv, "decline")).get_data(as_text=True))
    response = client.post(link(inv, "decline"), data={"reason": "Away", "csrf_token": token})

    assert response.status_code == 302
    assert fresh(inv).state == S.DECLINED and fresh(inv).decline_reason == "Away"


def test_other_delegate_posts_need_the_token_too(csrf_app, client):
    f.summit(capacity=1)
    holder = f.registered()
    late = f.invitation()
    assert_refused(client.post(link(late, "waiting-list")))
    assert_refused(client.post(link(holder, "cancel")))
    assert_refused(
        client.post(link(holder, "colleague"), data={"name": "S", "email": "s@example.org", "organisation": "X"})
    )
    assert fresh(late).state == S.INVITED and fresh(holder).state == S.REGISTERED
    assert count(Invitation) == 2


def test_sign_in_without_the_csrf_token_is_refused_and_with_it_succeeds(csrf_app, client):
    f.summit()
    organiser = f.user()

    assert_refused(client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD}))
    assert client.get("/organiser/").status_code == 302  # still not signed in

    sign_in_with_csrf(client, organiser)

    assert client.get("/organiser/").status_code == 200


def test_organiser_post_without_the_csrf_token_is_refused_and_with_it_succeeds(csrf_app, client):
    f.summit()
    sign_in_with_csrf(client, f.user())
    inv = f.invitation()

    assert_refused(client.post(f"/organiser/invitations/{inv.id}/revoke"))
    assert_refused(
        client.post(
            "/organiser/invitations/new",
            data={"email": "new@example.org", "name": "New Person", "organisation": "X", "champion_id": "0"},
        )
    )
    assert fresh(inv).state == S.INVITED and count(Invitation) == 1

    token = csrf_from(client.get(f"/organiser/invitations/{inv.id}").get_data(as_text=True))
    response = client.post(f"/organiser/invitations/{inv.id}/revoke", data={"csrf_token": token, "confirm": "yes"})

    assert response.status_code == 302
    assert fresh(inv).state == S.REVOKED


def test_sign_out_needs_the_csrf_token(csrf_app, client):
    f.summit()
    sign_in_with_csrf(client, f.user())
    assert_refused(client.post("/sign-out"))
    assert client.get("/organiser/").status_code == 200  # still signed in
    token = csrf_from(client.get("/organiser/").get_data(as_text=True))
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/organiser/").status_code == 302


def test_behind_an_https_proxy_the_token_is_the_check_with_or_without_a_referer(tmp_path):
    """With TRUSTED_PROXY_HOPS the app knows a form came over HTTPS. The token still decides: a form from a browser
    that sends no Referer (some privacy tools drop it) is accepted with its token, and refused without it."""
    application = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True, TRUSTED_PROXY_HOPS=1)
    application.test_client_class = FreshSessionClient
    site = "http://newhorizons.example.org"  # how nginx reaches gunicorn: plain HTTP, the public host name
    proxied = {"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"}
    with application.app_context():
        f.summit()
        organiser = f.user()
        client = application.test_client()
        token = csrf_from(client.get("/sign-in", headers=proxied, base_url=site).get_data(as_text=True))
        form = {"email": organiser.email, "password": f.PASSWORD}

        assert_refused(client.post("/sign-in", data=form, base_url=site, headers=proxied))
        signed_in = client.post("/sign-in", data={**form, "csrf_token": token}, base_url=site, headers=proxied)
        assert signed_in.status_code == 302
        page = client.get("/organiser/", base_url=site, headers=proxied)
        assert page.status_code == 200
        # A one-button form too (sign-out), which a failed check would send back to be pressed again.
        assert_refused(client.post("/sign-out", base_url=site, headers=proxied))
        token = csrf_from(page.get_data(as_text=True))
        assert client.post("/sign-out", data={"csrf_token": token}, base_url=site, headers=proxied).status_code == 302
        assert client.get("/organiser/", base_url=site, headers=proxied).status_code == 302  # signed out
        db.engine.dispose()


def test_the_team_pages_and_staff_links_need_the_csrf_token(csrf_app, client):
    import re

    from flask import g

    from app.core.auth import credentials
    from app.core.auth.models import Role, StaffLink, User
    from tests.support.mail_helpers import delivered

    f.summit()
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    sam = f.user(Role.STEWARD, email="sam@staff.example.org", name="Sam Steward")
    sign_in_with_csrf(client, olive)
    invitation = {"email": "nia@staff.example.org", "name": "Nia New", "role": "leader"}
    assert_refused(client.post("/organiser/team/invite", data=invitation))
    assert_refused(client.post(f"/organiser/team/{sam.id}/role", data={"role": "organiser"}))
    assert count(User) == 2 and count(StaffLink) == 0 and count(OutboxMessage) == 0
    db.session.expire_all()
    assert db.session.get(User, sam.id).role == Role.STEWARD

    token = csrf_from(client.get("/organiser/team/").get_data(as_text=True))
    assert client.post("/organiser/team/invite", data={**invitation, "csrf_token": token}).status_code == 303
    nia = credentials.find_user("nia@staff.example.org")
    assert_refused(client.post(f"/organiser/team/{nia.id}/resend"))
    assert count(OutboxMessage) == 1
    [message] = db.session.scalars(select(OutboxMessage))
    path = re.search(r"http://localhost(/sign-in/join/\S+)", delivered(message).body_text).group(1)

    stranger = csrf_app.test_client()
    assert_refused(stranger.post(path, data={"how": "link"}))
    assert_refused(stranger.post(path, data={"how": "password", "new_password": "x" * 12, "repeat_password": "x" * 12}))
    db.session.expire_all()
    assert db.session.get(User, nia.id).invitation_pending
    assert_refused(stranger.post("/sign-in/forgotten-password", data={"email": sam.email}))
    assert count(OutboxMessage) == 1
    g.pop("csrf_token", None)  # the test's app context is shared: the stranger's page gets a token of its own
    join_token = csrf_from(stranger.get(path).get_data(as_text=True))
    joined = stranger.post(path, data={"how": "link", "csrf_token": join_token})
    assert joined.status_code == 303, re.findall(r"flash[^<]*<[^<]*<?[^<]*", joined.get_data(as_text=True))
    db.session.expire_all()
    assert not db.session.get(User, nia.id).invitation_pending


def test_saving_an_emails_wording_without_the_csrf_token_is_refused(csrf_app, client):
    from app.core.mail.models import MessageWording

    f.summit()
    organiser = f.user(email="olive@staff.example.org")
    db.session.commit()
    sign_in_with_csrf(client, organiser)
    data = {"subject": "Hello ((first_name))", "body": "Come: ((personal_link))"}
    assert_refused(client.post("/organiser/emails/invitation", data=data))
    assert_refused(client.post("/organiser/emails/invitation/test", data={}))
    assert count(MessageWording) == 0 and count(OutboxMessage) == 0
    token = csrf_from(client.get("/organiser/emails/invitation").get_data(as_text=True))
    assert client.post("/organiser/emails/invitation", data={**data, "csrf_token": token}).status_code == 302
    assert count(MessageWording) == 1


def test_question_pages_need_the_csrf_token(csrf_app, client):
    from invitations.question_models import Question
    from tests.support import question_factories as qf

    f.summit()
    sign_in_with_csrf(client, f.user())
    workshops = qf.workshops()
    data = {"label": "Your team", "kind": "short_text"}
    assert_refused(client.post("/organiser/questions/new", data=data))
    for action in ("hide", "delete"):
        assert_refused(client.post(f"/organiser/questions/{workshops.id}/{action}"))
    assert_refused(client.post(f"/organiser/questions/{workshops.id}/move", data={"direction": "down"}))
    assert count(Question) == 1 and not db.session.get(Question, workshops.id).hidden

    token = csrf_from(client.get("/organiser/questions/new").get_data(as_text=True))
    assert client.post("/organiser/questions/new", data={**data, "csrf_token": token}).status_code == 302
    assert client.post(f"/organiser/questions/{workshops.id}/hide", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert count(Question) == 2 and db.session.get(Question, workshops.id).hidden


def test_texts_and_stopping_them_need_the_csrf_token(tmp_path):
    from urllib.parse import urlsplit

    from app.core.mail.models import TextSend
    from invitations import texting
    from tests.support.apps import FreshSessionClient as Client
    from tests.support.notify_standin import API_KEY, SMS_TEMPLATE_ID, TEMPLATE_ID

    application = make_app(
        "sqlite",
        tmp_path,
        WTF_CSRF_ENABLED=True,
        MAIL_BACKEND="notify",
        NOTIFY_API_KEY=API_KEY,
        NOTIFY_EMAIL_TEMPLATE_ID=TEMPLATE_ID,
        NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE_ID,
    )
    application.test_client_class = Client
    with application.app_context():
        client = application.test_client()
        f.summit()
        person = f.registered()
        texting.set_mobile(person, "07400 123456")
        db.session.commit()
        stop = urlsplit(texting.stop_url(person)).path
        sign_in_with_csrf(client, f.user())
        form = {"audience": "summit", "body": "Doors open at 8:30.", "key": "k" * 32}
        assert_refused(client.post("/organiser/texts/send", data=form))
        assert count(TextSend) == 0
        token = csrf_from(client.get("/organiser/texts").get_data(as_text=True))
        assert client.post("/organiser/texts/send", data={**form, "csrf_token": token}).status_code == 302
        assert count(TextSend) == 1

        assert_refused(client.post(stop))
        assert_refused(client.post(f"{link(person)}/texts/stop"))
        assert fresh(person).texts_stopped_at is None
        token = csrf_from(client.get(stop).get_data(as_text=True))
        assert client.post(stop, data={"csrf_token": token}).status_code == 200
        assert fresh(person).texts_stopped_at is not None
        db.engine.dispose()


# --- a stale form comes back as it was typed ----------------------------------------------------------


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


REGISTRATION = {
    "name": "Ada Lovelace",
    "organisation": "Analytical Engines Ltd",
    "job_title": "Programmer",
    "dietary": "No mushrooms, please",
    "access_needs": "A seat near the front",
    "consent": "y",
}


@pytest.fixture
def csrf_client(tmp_path):
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True, WTF_CSRF_TIME_LIMIT=3600)
    app.test_client_class = FreshSessionClient
    with app.app_context():
        yield app.test_client()
        db.engine.dispose()


def aged(client, token: str, seconds: int) -> str:
    """The page's token as it would be after `seconds` open: the same token, signed that long ago."""
    from flask import current_app

    with client.session_transaction() as session:
        raw = session["csrf_token"]
    serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="wtf-csrf-token")
    real_time = time.time
    time.time = lambda: real_time() - seconds
    try:
        return serializer.dumps(raw)
    finally:
        time.time = real_time


def test_an_expired_registration_form_comes_back_as_typed_with_a_fresh_token_and_saves_nothing(csrf_client):
    f.summit()
    ada = f.invitation(name="Ada L")
    page = csrf_client.get(link(ada, "register")).get_data(as_text=True)
    old = aged(csrf_client, csrf_from(page), 2 * 3600)

    again = csrf_client.post(link(ada, "register"), data={**REGISTRATION, "csrf_token": old})

    html = text(again)
    assert again.status_code == 422
    assert STALE_FORM in html and "CSRF" not in html and "Error 400" not in html
    for value in ("Analytical Engines Ltd", "Programmer", "No mushrooms, please", "A seat near the front"):
        assert value in html
    assert 'name="consent" type="checkbox" value="y" checked' in html or "checked" in html
    fresh_token = csrf_from(html)
    assert fresh_token != old
    assert fresh(ada).state == S.INVITED
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0 and outbox() == []

    # Pressing the button again on that page registers them.
    done = csrf_client.post(link(ada, "register"), data={**REGISTRATION, "csrf_token": fresh_token})
    assert done.status_code == 302 and fresh(ada).state == S.REGISTERED
    assert fresh(ada).organisation == "Analytical Engines Ltd"


def test_a_form_whose_session_was_forgotten_comes_back_too(csrf_client):
    """The browser was closed and reopened: its session (and the token's other half) is gone."""
    f.summit()
    ada = f.invitation()
    token = csrf_from(csrf_client.get(link(ada, "decline")).get_data(as_text=True))
    csrf_client.delete_cookie("session")

    again = csrf_client.post(link(ada, "decline"), data={"reason": "Chairing a meeting", "csrf_token": token})

    assert again.status_code == 422 and STALE_FORM in text(again) and "Chairing a meeting" in text(again)
    assert fresh(ada).state == S.INVITED and fresh(ada).decline_reason == ""


def test_a_stale_one_button_form_goes_back_to_be_pressed_again_and_changes_nothing(csrf_client):
    f.summit(capacity=1)
    f.registered()
    late = f.invitation()
    page = csrf_client.get(link(late)).get_data(as_text=True)
    old = aged(csrf_client, csrf_from(page), 2 * 3600)

    answer = csrf_client.post(
        link(late, "waiting-list"), data={"csrf_token": old}, headers={"Referer": f"http://localhost{link(late)}"}
    )

    assert answer.status_code == 303 and answer.headers["Location"].endswith(link(late))
    assert fresh(late).state == S.INVITED
    assert STALE_FORM in text(csrf_client.get(link(late)))


def test_a_stale_organiser_form_keeps_what_was_typed(csrf_client):
    f.summit()
    organiser = f.user()
    page = csrf_client.get("/sign-in").get_data(as_text=True)
    csrf_client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD, "csrf_token": csrf_from(page)})
    form = csrf_client.get("/organiser/invitations/new").get_data(as_text=True)
    old = aged(csrf_client, csrf_from(form), 2 * 3600)
    typed = {"email": "new.person@example.org", "name": "Newly Typed", "organisation": "Typed Org", "champion_id": "0"}

    again = csrf_client.post("/organiser/invitations/new", data={**typed, "csrf_token": old})

    assert again.status_code == 422 and STALE_FORM in text(again)
    assert "Newly Typed" in text(again) and "new.person@example.org" in text(again)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0
