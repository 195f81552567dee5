"""No dead ends: "Lost your link?" (the same answer for anyone, the email only to the invited address, rate
limited), every bad personal link offers it, and a form sent with a stale token comes back as it was typed."""

from __future__ import annotations

import json
import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from app.core.db import db
from app.core.forms import STALE_FORM
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage
from invitations import handing_on, links, people
from invitations.models import Invitation, InvitationState, Registration
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.factories import fresh, link
from tests.support.mail_helpers import delivered
from tests.support.pages import csrf_from, text

S = InvitationState


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


# --- Lost your link? ---------------------------------------------------------------------------


def test_an_invited_person_gets_their_current_link_at_their_own_address(app, client):
    f.summit()
    ada = f.invitation(email="ada.lovelace@council.example.org", name="Ada Lovelace")
    links.reissue_link(ada)  # an older link no longer works; the email carries the current one
    db.session.commit()

    answer = client.post("/lost-link", data={"email": "  Ada.Lovelace@Council.example.org "})

    assert answer.status_code == 200 and "Check your email" in text(answer)
    [message] = outbox()
    assert message.kind == "your_link" and message.to_email == "ada.lovelace@council.example.org"
    assert message.invitation_id == ada.id
    assert links.personal_url(fresh(ada)) in delivered(message).body_text
    assert links.token_for(fresh(ada)) not in json.dumps(message.params)  # a placeholder, as every email
    delivery.send_pending()
    db.session.refresh(message)
    assert links.token_for(fresh(ada)) not in message.body_text  # and so is what the worker wrote


@pytest.mark.parametrize("who", ["not invited", "revoked", "handed on", "not an address"])
def test_anyone_else_gets_the_same_answer_and_no_email(app, client, who):
    f.summit()
    f.invitation(email="ada.lovelace@council.example.org")
    address = "someone.else@council.example.org"
    if who == "revoked":
        people.revoke_invitation(f.invitation(email=address))
    elif who == "handed on":
        handing_on.hand_on(
            f.invitation(email=address),
            handing_on.Colleague(name="Col League", email="col@example.org", organisation="X"),
        )
    db.session.commit()
    before = len(outbox())

    theirs = client.post("/lost-link", data={"email": address})
    invited = client.post("/lost-link", data={"email": "ada.lovelace@council.example.org"})

    assert theirs.status_code == invited.status_code == 200
    assert text(theirs).replace(address, "ADDRESS") == text(invited).replace(
        "ada.lovelace@council.example.org", "ADDRESS"
    )
    assert [m.to_email for m in outbox()[before:]] == ["ada.lovelace@council.example.org"]


def test_a_malformed_address_is_named_against_the_field(app, client):
    answer = client.post("/lost-link", data={"email": "not an address"})
    assert answer.status_code == 422 and "Enter a valid email address." in text(answer)
    assert outbox() == []


def test_lost_link_is_limited_per_address_and_per_client(tmp_path):
    app = make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True)
    with app.app_context():
        f.summit()
        f.invitation(email="ada.lovelace@council.example.org")
        for address in ("ada.lovelace@council.example.org", "nobody@council.example.org"):
            codes = [
                app.test_client()
                .post("/lost-link", data={"email": address}, environ_base={"REMOTE_ADDR": f"10.1.0.{n}"})
                .status_code
                for n in range(4)
            ]
            assert codes == [200, 200, 200, 429], address  # alike, invited or not
        assert len(outbox()) == 3
        one_client = app.test_client()
        codes = [one_client.post("/lost-link", data={"email": f"person{n}@example.org"}).status_code for n in range(11)]
        assert codes == [200] * 10 + [429]


# --- every bad personal link offers it ---------------------------------------------------------


def bad_links(app) -> dict[str, str]:
    f.summit()
    ada = f.invitation()
    token = links.token_for(ada)
    old = f.invitation()
    old_token = links.token_for(old)
    links.reissue_link(old)
    revoked = f.invitation()
    people.revoke_invitation(revoked)
    handed = f.invitation()
    handing_on.hand_on(handed, handing_on.Colleague(name="Col League", email="col2@example.org", organisation="X"))
    db.session.commit()
    return {
        "altered": f"/i/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}",
        "cut short": f"/i/{token[:30]}",
        "old": f"/i/{old_token}",
        "revoked": f"/i/{links.token_for(revoked)}",
        "a page under an old link": f"/i/{old_token}/register",
        "a fringe page under a wrong link": f"/i/{token[:-1]}Z/fringe",
        "handed on, a page that needs the link live": f"/i/{links.token_for(handed)}/register",
    }


def test_every_bad_personal_link_offers_lost_your_link(app, client):
    for label, url in bad_links(app).items():
        response = client.get(url)
        html = text(response)
        assert response.status_code in (404, 410), label
        assert "Lost your link?" in html and 'action="/lost-link"' in html and 'name="email"' in html, label
        assert "Go to the home page" not in html, label


# --- a stale form comes back as it was typed --------------------------------------------------

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
