"""Texts on the day through GOV.UK Notify's own client against the stand-in: an organiser's text to 30 delegates,
once however often Send is pressed, their delivery receipts, the stop link, and a delegate who stopped texts."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.core import sms
from app.core.audit import AuditEvent
from app.core.db import db
from app.core.mail.models import Channel, OutboxMessage, ProviderEvent, TextSend
from app.core.security import link_token, text_stop_token
from invitations import texting
from invitations.models import Invitation
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.mail_helpers import drain, statuses
from tests.support.notify_standin import SMS_TEMPLATE_ID, StandIn, notify_app, post_receipt

BOTH = pytest.mark.parametrize("kind", ["sqlite", "postgres"])
BODY = "Doors open at 8:30 at Adastral Park — your badge: ((badge_link))"
KEY_RE = re.compile(r'name="key"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="key"')


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.stop()


def texts_app(kind, tmp_path, standin, **overrides):
    return notify_app(kind, tmp_path, standin, NOTIFY_SMS_TEMPLATE_ID=SMS_TEMPLATE_ID, **overrides)


def mobile(n: int) -> str:
    return f"07400 1234{n:02d}"


def delegates(how_many: int) -> list[Invitation]:
    people = []
    for n in range(how_many):
        person = f.registered(name=f"Delegate {n:02d} Example", email=f"delegate{n}@example.org")
        texting.set_mobile(person, mobile(n))
        db.session.commit()
        people.append(person)
    return people


def key_from(html: str) -> str:
    match = KEY_RE.search(html)
    assert match, "no idempotency key on the confirmation page"
    return match.group(1) or match.group(2)


def preview_and_send(client, audience: str = "summit", body: str = BODY, presses: int = 1):
    page = client.post("/organiser/texts", data={"audience": audience, "body": body})
    assert page.status_code == 200, page.get_data(as_text=True)[:2000]
    html = page.get_data(as_text=True)
    form = {"audience": audience, "body": body, "key": key_from(html)}
    answers = [client.post("/organiser/texts/send", data=form) for _ in range(presses)]
    return html, answers


def texts_in_outbox() -> list[OutboxMessage]:
    return list(
        db.session.scalars(select(OutboxMessage).where(OutboxMessage.channel == Channel.SMS).order_by(OutboxMessage.id))
    )


def sms_receipt(message: OutboxMessage, status: str) -> dict:
    return {
        "id": message.provider_id,
        "reference": str(message.id),
        "to": message.to_phone,
        "status": status,
        "created_at": "2027-10-14T08:00:00.000000Z",
        "completed_at": "2027-10-14T08:00:05.000000Z",
        "sent_at": "2027-10-14T08:00:01.000000Z",
        "notification_type": "sms",
        "template_id": SMS_TEMPLATE_ID,
        "template_version": 1,
    }


@BOTH
def test_a_text_to_30_delegates_goes_once_each_with_their_own_links_and_receipts_recorded(kind, tmp_path, standin):
    app = texts_app(kind, tmp_path, standin)
    with app.app_context():
        client = app.test_client()
        f.summit()
        people = delegates(30)
        f.registered(name="No Number")  # registered, gave no number: left out, and said so
        organiser = f.user()
        f.sign_in(client, organiser)

        page = client.get("/organiser/texts")
        assert page.status_code == 200 and "Preview the text" in page.get_data(as_text=True)
        # The confirmation: one person's text, its length and fragments, and how many people.
        html, answers = preview_and_send(client, presses=3)  # pressed three times: one send
        assert "Send 30 texts?" in html
        assert "What Delegate 00 Example will get" in html
        # The em dash makes it Unicode: 67 characters a fragment, so three, as each text really is (below).
        assert "30 people" in html and "3 fragments each, 90 in all" in html and "67 characters each" in html
        assert "1 person has given no mobile number" in html
        assert all(answer.status_code == 302 for answer in answers)
        assert db.session.scalar(select(func.count()).select_from(TextSend)) == 1
        assert len(texts_in_outbox()) == 30
        # The same form sent again, in a fresh request: still nothing more.
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 30 + 31  # + confirmations

        assert drain().sent >= 30
        texts = standin.texts()
        assert len(texts) == 30
        assert sorted(t["phone_number"] for t in texts) == sorted(f"+4474001234{n:02d}" for n in range(30))
        by_phone = {t["phone_number"]: t for t in texts}
        for person in people:
            text = by_phone[person.mobile]
            assert text["template_id"] == SMS_TEMPLATE_ID
            words = text["personalisation"]["body"]
            assert sms.measure(words).fragments == 3
            assert words.startswith("Doors open at 8:30 at Adastral Park — your badge: http")
            assert f"/i/{link_token(person.link_selector)}/badge" in words  # their own badge link, working
            assert f"/texts/stop/{text_stop_token(person.text_stop_selector)}" in words
        # No working link in the database: each is a placeholder there, put back only as the text went.
        for message in texts_in_outbox():
            assert "{{link-token:" in message.body_text and "{{text-stop-token:" in message.body_text
            person = db.session.get(Invitation, message.invitation_id)
            assert link_token(person.link_selector) not in message.body_text
            assert text_stop_token(person.text_stop_selector) not in message.body_text
        assert statuses()["sent"] == 61

        # Delivery receipts: 28 delivered, one number that doesn't exist, one phone off for 72 hours.
        messages = texts_in_outbox()
        outcomes = ["delivered"] * 28 + ["permanent-failure", "temporary-failure"]
        for message, status in zip(messages, outcomes, strict=True):
            response = post_receipt(client, sms_receipt(message, status))
            assert response.get_json() == {"recorded": True}
        assert post_receipt(client, sms_receipt(messages[0], "delivered")).get_json() == {"recorded": False}
        events = dict(
            db.session.execute(
                select(ProviderEvent.event, func.count())
                .where(ProviderEvent.message_id.in_([m.id for m in messages]))
                .group_by(ProviderEvent.event)
            ).all()
        )
        assert events == {"text delivered": 28, "text not delivered": 2}
        # A text that didn't arrive is not an email address gone wrong, and is not sent again the day after.
        assert db.session.scalar(select(func.count()).where(Invitation.bounced_at.is_not(None))) == 0
        assert drain().sent == 0 and len(standin.texts()) == 30

        # The Mail page shows each text, its number and what the network said; the texts page counts them.
        mail = client.get("/organiser/mail/").get_data(as_text=True)
        assert "Text to 07400 123400" in mail and "text delivered" in mail and "text not delivered" in mail
        listed = client.get("/organiser/texts").get_data(as_text=True)
        assert "28 delivered, 2 not delivered" in listed
        one = client.get(f"/organiser/mail/{messages[0].id}").get_data(as_text=True)
        assert "by text to 07400 1234" in one and "/i/••••••/badge" in one
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "texts.sent")).all()
        assert len(audit) == 1 and audit[0].actor_id == organiser.id and audit[0].details["recipients"] == 30


@BOTH
def test_a_delegate_who_stopped_texts_gets_none(kind, tmp_path, standin):
    app = texts_app(kind, tmp_path, standin)
    with app.app_context():
        client = app.test_client()
        f.summit()
        by_link, by_page, stays = delegates(3)
        drain()
        # One stops from the link in a text: the page asks first, and only its button stops them.
        stop_path = urlsplit(texting.stop_url(by_link)).path
        asked = client.get(stop_path)
        assert asked.status_code == 200 and "Stop texts?" in asked.get_data(as_text=True)
        assert f.fresh(by_link).texts_stopped_at is None
        stopped = client.post(stop_path)
        assert stopped.status_code == 200 and "Texts stopped" in stopped.get_data(as_text=True)
        assert f.fresh(by_link).texts_stopped_at is not None
        assert client.get("/texts/stop/" + "A" * 19).status_code == 404
        # One from their own page.
        assert "Stop texts" in client.get(f.link(by_page)).get_data(as_text=True)
        assert client.post(f.link(by_page, "texts/stop")).status_code == 302
        assert f.fresh(by_page).texts_stopped_at is not None
        assert "Text me on the day again" in client.get(f.link(by_page)).get_data(as_text=True)

        f.sign_in(client, f.user())
        html, answers = preview_and_send(client)
        assert "Send 1 text?" in html and "2 people have stopped texts" in html
        drain()
        assert [t["phone_number"] for t in standin.texts()] == [stays.mobile]

        # Texts again, from their page: the next send reaches them.
        assert client.post(f.link(by_page, "texts/start")).status_code == 302
        preview_and_send(client, body="Lunch is in the atrium.")
        drain()
        assert [t["phone_number"] for t in standin.texts()][1:] == sorted([stays.mobile, by_page.mobile])


def test_a_text_to_one_fringe_event_reaches_only_its_sign_ups(tmp_path, standin):
    app = texts_app("sqlite", tmp_path, standin)
    with app.app_context():
        client = app.test_client()
        f.summit()
        going, not_going = delegates(2)
        talk = ff.event("Data for neighbourhoods")
        ff.signed_up(going, talk)
        f.sign_in(client, f.user())
        html, _ = preview_and_send(client, audience=f"fringe:{talk.id}", body="Room 2, ((first_name)).")
        assert "Send 1 text?" in html and "1 fragment each" in html
        drain()
        assert [t["phone_number"] for t in standin.texts()] == [going.mobile]
        assert standin.texts()[0]["personalisation"]["body"].startswith("Room 2, Delegate.")


def test_texts_need_notify_the_page_says_so_and_sends_nothing(tmp_path):
    from tests.support.apps import make_app

    app = make_app("sqlite", tmp_path, MAIL_BACKEND="memory")
    with app.app_context():
        client = app.test_client()
        f.summit()
        delegates(1)
        f.sign_in(client, f.user())
        page = client.get("/organiser/texts").get_data(as_text=True)
        assert "Texts need GOV.UK Notify" in page and "Preview the text" not in page
        assert client.post("/organiser/texts", data={"audience": "summit", "body": "Hello"}).status_code == 409
        answer = client.post("/organiser/texts/send", data={"audience": "summit", "body": "Hello", "key": "k" * 32})
        assert answer.status_code == 302
        assert texts_in_outbox() == []
        assert db.session.scalar(select(func.count()).select_from(TextSend)) == 0


def test_an_unknown_placeholder_or_an_empty_group_is_said_in_a_sentence(tmp_path, standin):
    app = texts_app("sqlite", tmp_path, standin)
    with app.app_context():
        client = app.test_client()
        f.summit()
        f.sign_in(client, f.user())
        wrong = client.post("/organiser/texts", data={"audience": "summit", "body": "Hi ((name))"})
        assert wrong.status_code == 422 and "((name)) is not something we can fill in" in wrong.get_data(as_text=True)
        nobody = client.post("/organiser/texts", data={"audience": "summit", "body": "Hello"})
        assert "Nobody in this group can be texted" in nobody.get_data(as_text=True)


def test_one_text_per_person_per_send_is_a_constraint(tmp_path, standin):
    from sqlalchemy.exc import IntegrityError

    from app.core.mail import outbox

    app = texts_app("sqlite", tmp_path, standin)
    with app.app_context():
        f.summit()
        (person,) = delegates(1)
        record = TextSend(idempotency_key="k", audience="summit", body="Hello")
        db.session.add(record)
        db.session.flush()
        for _ in range(2):
            outbox.enqueue_text(
                to_phone=person.mobile,
                to_name="",
                subject="Text",
                text="Hello",
                invitation_id=person.id,
                text_send_id=record.id,
            )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_receipt_bodies_round_trip_as_json(tmp_path, standin):
    """The stand-in refuses a text to a number that isn't a UK mobile, as Notify does."""
    from tests.support.notify_standin import check_text_body

    assert check_text_body({"phone_number": "+33612345678", "template_id": SMS_TEMPLATE_ID}) is not None
    good = {"phone_number": "+447400123456", "template_id": SMS_TEMPLATE_ID, "personalisation": {"body": "Hi"}}
    assert check_text_body(json.loads(json.dumps(good))) is None


REGISTRATION = {
    "name": "Ada Lovelace",
    "organisation": "Analytical Engines",
    "job_title": "",
    "dietary": "",
    "access_needs": "",
    "consent": "y",
}


@pytest.mark.parametrize(
    "typed,sentence",
    [
        ("+33 6 12 34 56 78", "is a number in France: we can only text UK mobile numbers"),
        ("+1 202 555 0143", "is a number in the United States"),
        ("0770090", "isn't a complete UK mobile number"),
        ("call me", "isn't a phone number"),
        ("01473 123456", "is a landline or a service number, which can't take texts"),
    ],
)
def test_a_number_we_cant_text_is_refused_with_a_sentence_and_nothing_is_saved(app, client, typed, sentence):
    f.summit()
    person = f.invitation()
    refused = client.post(f.link(person, "register"), data={**REGISTRATION, "mobile": typed})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert sentence in html.replace("&#39;", "'") and "Mobile number" in html
    assert f.fresh(person).mobile is None and f.fresh(person).state.value == "invited"


def test_a_uk_mobile_is_kept_as_e164_from_registration_and_changed_or_removed_from_change_details(app, client):
    f.summit()
    person = f.invitation()
    form = client.get(f.link(person, "register")).get_data(as_text=True)
    assert "We&#39;ll only text you about the summit on the day. You can stop texts at any time." in form
    assert client.post(f.link(person, "register"), data={**REGISTRATION, "mobile": "07400 123 456"}).status_code == 302
    assert f.fresh(person).mobile == "+447400123456"
    page = client.get(f.link(person)).get_data(as_text=True)
    assert "07400 123456" in page and "Stop texts" in page
    details = client.get(f.link(person, "details")).get_data(as_text=True)
    assert 'value="07400 123456"' in details  # the form shows the number they gave
    assert client.post(f.link(person, "details"), data={**REGISTRATION, "mobile": "+44 7400 654321"}).status_code == 302
    assert f.fresh(person).mobile == "+447400654321"
    refused = client.post(f.link(person, "details"), data={**REGISTRATION, "mobile": "+49 1512 3456789"})
    assert refused.status_code == 422 and "is a number in Germany" in refused.get_data(as_text=True)
    assert f.fresh(person).mobile == "+447400654321"
    assert client.post(f.link(person, "details"), data={**REGISTRATION, "mobile": ""}).status_code == 302
    assert f.fresh(person).mobile is None


@BOTH
def test_the_number_and_the_texts_are_in_the_export_and_gone_after_erasure(kind, tmp_path, standin):
    app = texts_app(kind, tmp_path, standin)
    with app.app_context():
        client = app.test_client()
        f.summit()
        (person,) = delegates(1)
        f.sign_in(client, f.user())
        preview_and_send(client, body="Doors open at 8:30, ((first_name)).")
        drain()
        client.post("/sign-out")
        data = client.get(f.link(person, "my-data.json")).get_json()
        assert data["invitation"]["mobile"] == "+447400123400"
        assert data["invitation"]["texts_stopped_at"] is None
        (text,) = data["texts"]
        assert text["to"] == "+447400123400" and text["status"] == "sent"
        assert text["text"].startswith("Doors open at 8:30, Delegate.") and "/texts/stop/••••••" in text["text"]
        assert all("sms" not in str(email) for email in data["emails"])
        stop_path = urlsplit(texting.stop_url(person)).path

        token = f.link(person)
        assert client.post(f"{token}/erase").status_code == 200
        db.session.expire_all()
        erased = db.session.get(Invitation, person.id)
        assert erased.mobile is None and erased.text_stop_selector is None
        message = texts_in_outbox()[0]
        assert message.to_phone is None and message.body_text == "(erased)"
        numbers = ("+447400123400", "07400 123400", "7400123400")
        for table, column in [
            ("invitation", "mobile"),
            ("outbox_message", "to_phone"),
            ("outbox_message", "body_text"),
        ]:
            held = db.session.execute(text_sql(f"SELECT {column} FROM {table}")).scalars().all()
            assert not [v for v in held if v and any(n in v for n in numbers)], (table, column)
        assert client.get(stop_path).status_code == 404  # their stop link opens nothing now


def text_sql(statement: str):
    from sqlalchemy import text

    return text(statement)


@BOTH
def test_four_presses_of_send_at_the_same_moment_send_each_text_once(kind, tmp_path, standin):
    import threading

    from tests.support import join_all

    app = texts_app(kind, tmp_path, standin)
    with app.app_context():
        f.summit()
        delegates(5)
        organiser = f.user()
        first = app.test_client()
        f.sign_in(first, organiser)
        html = first.post("/organiser/texts", data={"audience": "summit", "body": "Coffee is ready."}).get_data(
            as_text=True
        )
        form = {"audience": "summit", "body": "Coffee is ready.", "key": key_from(html)}
        db.session.close()

    start = threading.Barrier(4)
    answers: list[int] = []

    def press() -> None:
        with app.app_context():
            client = app.test_client()
            f.sign_in(client, organiser)
            start.wait()
            answers.append(client.post("/organiser/texts/send", data=form).status_code)
            db.session.close()

    threads = [threading.Thread(target=press) for _ in range(4)]
    for thread in threads:
        thread.start()
    join_all(threads)
    with app.app_context():
        assert answers == [302] * 4
        assert db.session.scalar(select(func.count()).select_from(TextSend)) == 1
        per_person = db.session.execute(
            select(OutboxMessage.invitation_id, func.count())
            .where(OutboxMessage.channel == Channel.SMS)
            .group_by(OutboxMessage.invitation_id)
        ).all()
        assert len(per_person) == 5 and {n for _, n in per_person} == {1}
        db.engine.dispose()
