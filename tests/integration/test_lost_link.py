"""Lost your link? (invitations/recovery_routes.py): the same answer for anyone, the email only to the invited
address, rate limited; and every bad personal link offers it, so no link is a dead end. (A form sent with a stale
token comes back as it was typed: tests/integration/test_csrf.py.)"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.core.db import db
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage
from invitations import handing_on, links, people
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.factories import fresh
from tests.support.mail_helpers import delivered
from tests.support.pages import text


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
