"""A leader signs in from an emailed one-time link: the same answer for any address, one use, a short life,
only a hash stored, never in a log; and a leader's nudge in one tap, with its confirmation in the person's card."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.auth.models import Role, SignInLink
from app.core.db import db, utcnow
from app.core.mail import delivery
from app.core.mail.links import masked
from invitations import mailing
from invitations.models import LeaderNote, NoteKind
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.mail_helpers import delivered, emailed_path, outbox
from tests.support.pages import csrf_from


@pytest.fixture
def leo(app):
    f.summit()
    return f.user(Role.LEADER, email="leo.leader@council.example.org", name="Leo Leader")


def ask_for_link(client, email: str):
    return client.post("/sign-in/email-link", data={"email": email})


def test_a_leader_asks_for_a_link_and_it_signs_them_in_and_remembers_them(app, client, leo):
    answer = ask_for_link(client, "Leo.Leader@council.example.org")

    assert answer.status_code == 200
    assert "Check your email" in answer.get_data(as_text=True)
    [message] = outbox()
    assert message.to_email == "leo.leader@council.example.org" and message.kind == "sign_in_link"
    path = emailed_path(message)
    token = path.rsplit("/", 1)[1]
    # Stored hashed: neither the link's table nor the stored email holds the token.
    [row] = db.session.scalars(select(SignInLink))
    assert token not in row.token_hash and row.used_at is None
    assert token not in json.dumps(message.params)  # queued: what the worker writes it from
    delivery.send_pending()  # written by the worker, and kept as it was sent
    db.session.refresh(message)
    assert token not in message.body_text + message.body_html
    assert "/sign-in/link/••••••" in masked(message.body_text)  # as organisers see it on the Mail page

    phone = app.test_client()
    opened = phone.get(path)
    page = opened.get_data(as_text=True)
    # A button to press, and no script that would press it: a mail scanner that runs scripts signs nobody in.
    assert opened.status_code == 200 and ">Sign in as Leo Leader</button>" in page
    assert "<script" not in page and 'method="post"' in page
    assert not [c for c in opened.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
    assert phone.get("/leader").status_code == 302  # opening it signed nobody in
    assert opened.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(SignInLink, row.id).used_at is None  # opening it (as a mail scanner does) spends nothing

    signed_in = phone.post(path, data={"csrf_token": ""})
    assert signed_in.status_code == 303 and signed_in.headers["Location"].endswith("/leader")
    assert any(c.startswith("remember_token=") for c in signed_in.headers.getlist("Set-Cookie"))
    assert phone.get("/leader").status_code == 200
    db.session.expire_all()
    assert db.session.get(SignInLink, row.id).used_at is not None


def test_the_link_works_once_and_a_second_use_says_so_and_offers_another(app, client, leo):
    ask_for_link(client, leo.email)
    path = emailed_path(outbox()[0])
    assert app.test_client().post(path).status_code == 303

    again = app.test_client().get(path)
    html = again.get_data(as_text=True)
    assert again.status_code == 410
    assert "This sign-in link has been used" in html and "signs you in once" in html
    assert 'action="/sign-in/email-link"' in html and f'value="{leo.email}"' in html
    assert app.test_client().post(path).status_code == 410  # and a second POST signs nobody in
    # The way to another link works from that page.
    assert ask_for_link(app.test_client(), leo.email).status_code == 200
    assert len(outbox()) == 2


def test_opening_a_used_link_again_on_the_phone_it_signed_in_goes_to_the_leader_page(app, client, leo):
    ask_for_link(client, leo.email)
    path = emailed_path(outbox()[0])
    phone = app.test_client()
    phone.post(path)
    reopened = phone.get(path)
    assert reopened.status_code == 302 and reopened.headers["Location"].endswith("/leader")


def test_an_expired_link_is_refused_with_a_way_to_get_another(app, client, leo):
    ask_for_link(client, leo.email)
    path = emailed_path(outbox()[0])
    row = db.session.scalars(select(SignInLink)).one()
    assert (
        row.expires_at - row.created_at
        == timedelta(minutes=app.config["SIGN_IN_LINK_MINUTES"])
        == timedelta(minutes=20)
    )
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()

    for answer in (app.test_client().get(path), app.test_client().post(path)):
        html = answer.get_data(as_text=True)
        assert answer.status_code == 410 and "This sign-in link has expired" in html
        assert "Email me a new link" in html


def test_a_changed_or_made_up_link_is_a_404_with_a_way_to_get_another(app, client, leo):
    ask_for_link(client, leo.email)
    path = emailed_path(outbox()[0])
    altered = path[:-1] + ("A" if path[-1] != "A" else "B")
    for bad in (altered, "/sign-in/link/" + "A" * 44, "/sign-in/link/short"):
        answer = app.test_client().get(bad)
        assert answer.status_code == 404 and "This sign-in link doesn't work" in answer.get_data(as_text=True)


@pytest.mark.parametrize("who", ["organiser", "steward", "nobody", "inactive leader", "invitee"])
def test_an_address_that_is_not_a_leaders_gets_the_same_screen_and_no_email(app, client, leo, who):
    address = {
        "organiser": "olive.organiser@council.example.org",
        "steward": "sam.steward@council.example.org",
        "nobody": "nobody.here@council.example.org",
        "inactive leader": "gone.leader@council.example.org",
        "invitee": "ivy.invitee@council.example.org",
    }[who]
    if who in ("organiser", "steward"):
        f.user(Role(who), email=address)
    elif who == "inactive leader":
        f.user(Role.LEADER, email=address).active = False
        db.session.commit()
    elif who == "invitee":
        f.invitation(email=address)
    before = len(outbox())

    theirs = ask_for_link(client, address)
    leos = ask_for_link(app.test_client(), leo.email)

    assert theirs.status_code == leos.status_code == 200
    assert theirs.get_data(as_text=True).replace(address, "ADDRESS") == leos.get_data(as_text=True).replace(
        leo.email, "ADDRESS"
    )
    sent = outbox()[before:]
    assert [m.to_email for m in sent] == [leo.email]


def test_staff_with_passwords_keep_them(app, client, leo):
    f.sign_in(client, leo)
    assert client.get("/leader").status_code == 200


def rate_limited_app(tmp_path):
    return make_app("sqlite", tmp_path, RATELIMIT_ENABLED=True)


def test_asking_for_links_is_limited_per_address_alike_for_leaders_and_others(tmp_path):
    app = rate_limited_app(tmp_path)
    with app.app_context():
        f.summit()
        f.user(Role.LEADER, email="leo.leader@council.example.org")
        db.session.commit()
    for address in ("leo.leader@council.example.org", "nobody.here@council.example.org"):
        client = app.test_client()
        codes = [
            client.post("/sign-in/email-link", data={"email": address}, environ_base={"REMOTE_ADDR": f"10.0.0.{n}"})
            for n in range(4)
        ]
        assert [c.status_code for c in codes] == [200, 200, 200, 429], address
        assert "paused sending" in codes[-1].get_data(as_text=True)
        assert "Retry-After" in codes[-1].headers
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignInLink)) == 3


def test_asking_for_links_is_limited_per_client(tmp_path):
    app = rate_limited_app(tmp_path)
    client = app.test_client()
    with app.app_context():
        f.summit()
    codes = [
        client.post("/sign-in/email-link", data={"email": f"person{n}@example.org"}).status_code for n in range(11)
    ]
    assert codes == [200] * 10 + [429]


def test_the_token_never_reaches_a_log(tmp_path, capsys):
    app = make_app("sqlite", tmp_path, LOG_LEVEL="DEBUG")
    with app.app_context():
        f.summit()
        leo = f.user(Role.LEADER, email="leo.leader@council.example.org")
        client = app.test_client()
        ask_for_link(client, leo.email)
        path = emailed_path(outbox()[0])
        token = path.rsplit("/", 1)[1]
        app.logger.warning("opened %s", path)  # as any line naming the path would
        app.test_client().get(path)
        app.test_client().post(path)
        app.test_client().get(path)
    err = capsys.readouterr().err
    assert "opened /sign-in/link/[token]" in err
    assert token not in err and token[:16] not in err


# --- the nudge in one tap ----------------------------------------------------------------------


@pytest.fixture
def lenas_invitee(app, leo):
    inv = f.invitation(name="Jane Doe", champion=leo)
    mailing.send_invitation(inv)  # a leader nudges only someone whose invitation has gone
    db.session.commit()
    return inv


def test_nudge_sends_the_prewritten_message_in_one_tap_and_says_so_in_the_persons_card(app, client, leo, lenas_invitee):
    f.sign_in(client, leo)
    page = client.get("/leader").get_data(as_text=True)
    assert f'action="/leader/invitees/{lenas_invitee.id}/nudge-now"' in page
    assert (
        f'href="/leader/invitees/{lenas_invitee.id}/nudge">Edit first<span class="visually-hidden"> the nudge to Jane Doe'
        in page
    )

    sent = client.post(f"/leader/invitees/{lenas_invitee.id}/nudge-now")

    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/leader#notice-{lenas_invitee.id}")
    [message] = [m for m in outbox() if m.kind == "leader_nudge"]
    assert message.to_email == lenas_invitee.email and message.reply_to == leo.email
    assert "I do hope you can join us" in delivered(message).body_text
    assert db.session.scalars(select(LeaderNote)).one().kind == NoteKind.NUDGE
    html = client.get("/leader").get_data(as_text=True)
    card = html[html.index(f'id="person-{lenas_invitee.id}"') :]
    card = card[: card.index("</li>")]
    assert f'id="notice-{lenas_invitee.id}"' in card and "Nudge sent: your message to Jane Doe is on its way" in card
    assert 'role="status"' in card and 'tabindex="-1"' in card
    assert "flash" not in html.split('id="main"')[1].split("<h1")[0]  # nothing up top, out of sight
    assert "Nudge sent" not in client.get("/leader").get_data(as_text=True)  # said once


def test_a_refused_one_tap_nudge_says_why_in_the_card(app, client, leo, lenas_invitee):
    f.sign_in(client, leo)
    client.post(f"/leader/invitees/{lenas_invitee.id}/nudge-now")
    again = client.post(f"/leader/invitees/{lenas_invitee.id}/nudge-now")
    assert again.status_code == 303
    html = client.get("/leader").get_data(as_text=True)
    assert 'role="alert"' in html and "we send at most one nudge every 3 days" in html
    assert len([m for m in outbox() if m.kind == "leader_nudge"]) == 1


def test_the_one_tap_nudge_needs_its_csrf_token(tmp_path):
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        f.summit()
        leo = f.user(Role.LEADER)
        inv = f.invitation(champion=leo)
        mailing.send_invitation(inv)
        db.session.commit()
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        client.post("/sign-in", data={"email": leo.email, "password": f.PASSWORD, "csrf_token": csrf_from(page)})
        refused = client.post(f"/leader/invitees/{inv.id}/nudge-now")
        assert refused.status_code in (302, 303, 400)
        assert not [m for m in outbox() if m.kind == "leader_nudge"]
        token = csrf_from(client.get("/leader").get_data(as_text=True))
        assert client.post(f"/leader/invitees/{inv.id}/nudge-now", data={"csrf_token": token}).status_code == 303
        assert [m.kind for m in outbox() if m.kind == "leader_nudge"] == ["leader_nudge"]


def test_the_links_button_needs_its_csrf_token_and_only_its_press_signs_in(tmp_path):
    from app.core.auth import credentials

    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        f.summit()
        leo = f.user(Role.LEADER, email="leo.leader@council.example.org", name="Leo Leader")
        assert credentials.send_sign_in_link(leo.email)
        db.session.commit()
        path = emailed_path(outbox()[0])
        phone = app.test_client()
        page = phone.get(path).get_data(as_text=True)

        forged = phone.post(path)  # a page elsewhere posting to the link, without this page's token
        assert forged.status_code in (303, 400)
        assert phone.get("/leader").status_code == 302
        db.session.expire_all()
        assert db.session.scalars(select(SignInLink.used_at)).one() is None

        pressed = phone.post(path, data={"csrf_token": csrf_from(page)})
        assert pressed.status_code == 303 and pressed.headers["Location"].endswith("/leader")
        assert phone.get("/leader").status_code == 200
        db.engine.dispose()
