"""Email through SendGrid's own library against a stand-in server: delivery, retries, failures, workers, webhook."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from icalendar import Calendar
from sqlalchemy import func, select, text, update

from app.core.db import db, utcnow
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage, OutboxStatus, ProviderEvent
from invitations import journey, links, mailing, people
from invitations.models import Invitation, InvitationState
from tests.support import PATIENCE_SECONDS, join_all
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.mail_helpers import delivered, drain, statuses
from tests.support.sendgrid_standin import API_KEY, StandIn

BOTH = pytest.mark.parametrize("kind", ["sqlite", "postgres"])


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.stop()


def sendgrid_app(kind, tmp_path, standin, **overrides):
    # The stand-in answers in milliseconds, but a loaded machine can take seconds: a client timeout here
    # would retry a message the stand-in had already accepted, and send it twice.
    settings = dict(
        MAIL_BACKEND="sendgrid",
        SENDGRID_HOST=standin.url,
        SENDGRID_API_KEY=API_KEY,
        MAIL_RETRY_BASE_SECONDS=0.001,
        MAIL_RETRY_MAX_SECONDS=0.01,
        SENDGRID_TIMEOUT=PATIENCE_SECONDS,
    )
    settings.update(overrides)
    return make_app(kind, tmp_path, **settings)


@BOTH
def test_confirmation_arrives_with_a_calendar_file_for_the_summit(kind, tmp_path, standin):
    app = sendgrid_app(kind, tmp_path, standin)
    with app.app_context():
        summit = f.summit()
        inv = f.invitation(email="ada@example.org", name="Ada Lovelace")
        journey.register(inv, f.details(name="Ada Lovelace"))
        db.session.commit()
        assert drain().sent == 1
        payload = standin.accepted[0]
        assert payload["personalizations"][0]["to"][0]["email"] == "ada@example.org"
        assert payload["subject"] == "You're registered for The Lives we Lead: New Horizons"
        text = payload["content"][0]["value"]
        assert links.personal_url(inv) in text
        (ics,) = payload["attachments"]
        assert ics["filename"] == "new-horizons.ics" and ics["type"].startswith("text/calendar")
        calendar = Calendar.from_ical(base64.b64decode(ics["content"]))
        assert str(calendar["METHOD"]) == "REQUEST"
        (event,) = calendar.walk("VEVENT")
        assert event.decoded("DTSTART") == summit.starts_at
        assert event.decoded("DTEND") == summit.ends_at
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert summit.venue in str(event["LOCATION"])
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.SENT and message.provider_id == "sgmsg1"
        db.engine.dispose()


def test_click_tracking_is_off_in_every_request_that_carries_a_link(tmp_path, standin):
    """With tracking on, SendGrid rewrites every link through itself and reports each click's URL back:
    a personal or sign-in link would leave the person. Every request switches it off."""
    from app.core.auth import credentials
    from app.core.auth.models import Role

    app = sendgrid_app("sqlite", tmp_path, standin)
    with app.app_context():
        f.summit()
        inv = f.invitation(email="ada@example.org", name="Ada Lovelace")
        mailing.send_invitation(inv)
        journey.register(inv, f.details(name="Ada Lovelace"))
        f.user(role=Role.LEADER, email="lena@staff.example.org", name="Lena Leader")
        assert credentials.send_sign_in_link("lena@staff.example.org")
        db.session.commit()
        assert drain().sent == 3
        kinds = [payload["categories"][0] for payload in standin.accepted]
        assert sorted(kinds) == ["invitation", "registration_confirmed", "sign_in_link"]
        for payload in standin.accepted:
            text = payload["content"][0]["value"]
            assert "/i/" in text or "/sign-in/link/" in text
            assert payload["tracking_settings"]["click_tracking"] == {"enable": False, "enable_text": False}
        db.engine.dispose()


def test_flaky_provider_loses_nothing_and_duplicates_are_counted(tmp_path, standin):
    app = sendgrid_app("sqlite", tmp_path, standin)
    with app.app_context():
        f.summit()
        for n in range(40):
            mailing.send_invitation(f.invitation(email=f"p{n}@example.org"))
        db.session.commit()
        # The first 60 requests: every other one fails, alternating 500 and 429. Then the provider recovers.
        standin.plan = lambda n: 202 if n > 60 or n % 2 == 0 else (500 if n % 4 == 1 else 429)
        outcome = drain()
        received = standin.outbox_ids()
        duplicates = sum(count - 1 for count in received.values())
        print(
            f"\nflaky provider: {outcome}; requests {standin.requests}, distinct delivered {len(received)}, duplicates {duplicates}"
        )
        assert statuses() == {"sent": 40}
        assert len(received) == 40
        assert duplicates == 0
        retried = db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1))
        assert retried > 0  # the failures really happened and were retried
        assert {status for status, _ in standin.rejected} == {500, 429}
        db.engine.dispose()


def test_permanent_refusal_is_marked_failed_shown_to_organisers_and_can_be_retried(tmp_path, standin):
    app = sendgrid_app("sqlite", tmp_path, standin)
    with app.app_context():
        f.summit()
        organiser = f.user()
        mailing.send_invitation(f.invitation(email="someone@reject.example", name="Rejected Person"))
        db.session.commit()
        outcome = drain()
        assert outcome.failed == 1 and outcome.retry == 0
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.FAILED and message.attempts == 1
        assert "400" in message.last_error and "does not accept mail" in message.last_error
        client = app.test_client()
        f.sign_in(client, organiser)
        page = client.get("/organiser/mail/?status=failed").get_data(as_text=True)
        assert "Rejected Person" in page and "does not accept mail" in page
        detail = client.get(f"/organiser/mail/{message.id}").get_data(as_text=True)
        assert "Send it again" in detail
        # The organiser fixes the domain on the provider's side and retries by hand.
        db.session.execute(update(OutboxMessage).values(to_email="someone@example.org"))
        db.session.commit()
        assert client.post(f"/organiser/mail/{message.id}/retry").status_code == 302
        assert drain().sent == 1
        assert statuses() == {"sent": 1}
        db.engine.dispose()


def test_gives_up_after_the_configured_attempts(tmp_path, standin):
    app = sendgrid_app("sqlite", tmp_path, standin, MAIL_MAX_ATTEMPTS=3)
    with app.app_context():
        f.summit()
        mailing.send_invitation(f.invitation())
        db.session.commit()
        standin.plan = lambda n: 503
        drain()
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.FAILED and message.attempts == 3
        assert "Gave up after 3 attempts" in message.last_error
        db.engine.dispose()


def test_network_error_is_temporary(tmp_path, standin):
    app = sendgrid_app("sqlite", tmp_path, standin, SENDGRID_HOST="http://127.0.0.1:9", MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        f.summit()
        mailing.send_invitation(f.invitation())
        db.session.commit()
        first = delivery.send_pending()
        assert first.retry == 1
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.PENDING and "Could not reach SendGrid" in message.last_error
        db.engine.dispose()


@BOTH
def test_a_dead_workers_claim_is_picked_up_again(kind, tmp_path, standin):
    app = sendgrid_app(kind, tmp_path, standin, MAIL_CLAIM_LEASE_SECONDS=60)
    with app.app_context():
        f.summit()
        for _ in range(5):
            mailing.send_invitation(f.invitation())
        db.session.commit()
        # Worker A claims the batch and dies before sending anything.
        claimed = delivery.claim_batch("worker-a", limit=10)
        assert len(claimed) == 5 and statuses() == {"sending": 5}
        # Within the lease nobody else touches them.
        assert delivery.send_pending(worker_id="worker-b").sent == 0
        # The lease runs out.
        db.session.execute(update(OutboxMessage).values(claimed_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
        assert delivery.send_pending(worker_id="worker-b").sent == 5
        assert statuses() == {"sent": 5} and len(standin.outbox_ids()) == 5
        db.engine.dispose()


@BOTH
def test_two_workers_never_send_one_message_twice(kind, tmp_path, standin):
    app = sendgrid_app(kind, tmp_path, standin)
    with app.app_context():
        f.summit()
        invitations = [
            people.InviteeData(email=f"w{n}@example.org", name=f"W {n}", organisation="X") for n in range(200)
        ]
        for data in invitations:
            mailing.send_invitation(people.create_invitation(data))
        db.session.commit()

    def work(name):
        with app.app_context():
            return delivery.send_pending(limit=10, worker_id=name)

    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, work(n))) for n in ("worker-1", "worker-2")]
    for thread in threads:
        thread.start()
    join_all(threads)
    with app.app_context():
        received = standin.outbox_ids()
        print(f"\n[{kind}] two workers: {results}")
        assert sum(r.sent for r in results.values()) == 200
        assert all(r.sent > 0 for r in results.values())  # both really worked
        assert len(received) == 200 and max(received.values()) == 1
        assert statuses() == {"sent": 200}
        db.engine.dispose()


def test_registration_succeeds_while_email_is_down(tmp_path, standin):
    app = sendgrid_app("sqlite", tmp_path, standin)
    standin.plan = lambda n: 503
    with app.app_context():
        f.summit()
        inv = f.invitation()
        client = app.test_client()
        token = links.token_for(inv)
        response = client.post(
            f"/i/{token}/register",
            data={
                "name": "Grace Hopper",
                "organisation": "Suffolk",
                "job_title": "",
                "dietary": "",
                "access_needs": "",
                "consent": "y",
            },
        )
        assert response.status_code == 302
        assert delivery.send_pending().retry == 1
        db.session.expire_all()
        assert db.session.get(Invitation, inv.id).state == InvitationState.REGISTERED
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.kind == "registration_confirmed" and message.status == OutboxStatus.PENDING
        assert "503" in message.last_error
        # The provider comes back: the confirmation goes out.
        standin.plan = lambda n: 202
        assert drain().sent == 1
        db.engine.dispose()


# --- the event webhook ---------------------------------------------------------------------------


@pytest.fixture
def keypair():
    private = ec.generate_private_key(ec.SECP256R1())
    public_der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public_der).decode()


def signed_post(client, private, events, timestamp=None, tamper=False):
    """A post signed as SendGrid signs it, at `timestamp` (Unix seconds as a string; now unless given)."""
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    body = json.dumps(events)
    signature = base64.b64encode(private.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))).decode()
    if tamper:
        body = body.replace("bounce", "delivered")
    return client.post(
        "/webhooks/sendgrid",
        data=body,
        content_type="application/json",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )


@pytest.fixture
def webhook_app(tmp_path, keypair):
    _, public = keypair
    app = make_app("sqlite", tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=public)
    with app.app_context():
        f.summit()
        inv = f.invitation(email="bounce@example.org", name="Bounced Person")
        mailing.send_invitation(inv)
        db.session.commit()
        delivery.send_pending()
        yield app, inv, db.session.scalars(select(OutboxMessage)).one()


def event(message, name="bounce", event_id="ev-1", **extra):
    return {
        "email": message.to_email,
        "event": name,
        "sg_event_id": event_id,
        "timestamp": 1700000100,
        "sg_message_id": f"{message.provider_id}.filter0001",
        "outbox_id": str(message.id),
        **extra,
    }


def test_webhook_records_a_signed_bounce_and_flags_the_address(webhook_app, keypair):
    app, inv, message = webhook_app
    private, _ = keypair
    client = app.test_client()
    response = signed_post(
        client, private, [event(message, reason="550 mailbox unavailable"), event(message, "open", "ev-2")]
    )
    assert response.status_code == 200 and response.get_json() == {"recorded": 2, "duplicates": 0}
    db.session.expire_all()
    assert db.session.get(Invitation, inv.id).bounced_at is not None
    assert "550" in db.session.get(Invitation, inv.id).bounce_reason
    organiser = f.user()
    f.sign_in(client, organiser)
    assert "wrong address?" in client.get("/organiser/invitations").get_data(as_text=True)
    assert "550 mailbox unavailable" in client.get(f"/organiser/mail/{message.id}").get_data(as_text=True)


@BOTH
def test_a_clicked_link_in_a_stored_event_is_concealed_as_the_outbox_conceals_it(kind, tmp_path, keypair):
    """A click event carries the URL clicked: the personal link (or an encoded one, or a sign-in link). The
    stored event keeps the URL with a placeholder where the token was, and the stored URL opens nothing."""
    from app.core.auth import credentials
    from app.core.auth.models import Role
    from app.core.security import sign_in_token

    private, public = keypair
    app = make_app(kind, tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=public)
    with app.app_context():
        f.summit()
        inv = f.invitation(email="ada@example.org", name="Ada Lovelace")
        mailing.send_invitation(inv)
        f.user(role=Role.LEADER, email="lena@staff.example.org", name="Lena Leader")
        credentials.send_sign_in_link("lena@staff.example.org")
        db.session.commit()
        delivery.send_pending()
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).one()
        link = links.personal_url(inv)
        token = links.token_for(inv)
        sign_in = "http://localhost/sign-in/link/" + sign_in_token("A" * 22)
        encoded = "https://example.org/redirect?to=" + link.replace("/", "%2F").replace(":", "%3A")
        events = [
            event(message, "click", "ev-c1", url=link),
            event(message, "click", "ev-c2", url=encoded),
            event(message, "click", "ev-c3", url=sign_in, reason=f"clicked {link}"),
        ]
        client = app.test_client()
        assert signed_post(client, private, events).get_json() == {"recorded": 3, "duplicates": 0}
        db.session.expire_all()
        stored = {e.sg_event_id: e for e in db.session.scalars(select(ProviderEvent))}
        assert stored["ev-c1"].payload["url"] == f"http://localhost/i/{{{{link-token:{inv.link_selector}}}}}"
        assert "{{link-token:" in stored["ev-c2"].payload["url"] and token not in stored["ev-c2"].payload["url"]
        assert stored["ev-c3"].payload["url"] == "http://localhost/sign-in/link/{{sign-in-token:" + "A" * 22 + "}}"
        assert token not in stored["ev-c3"].reason
        rows = db.session.execute(
            text("SELECT CAST(payload AS TEXT), reason FROM provider_event WHERE event = 'click'")
        ).all()
        for payload, reason in rows:
            assert token not in payload and token not in reason and sign_in.rsplit("/", 1)[1] not in payload
        assert client.get(stored["ev-c1"].payload["url"].removeprefix("http://localhost")).status_code == 404
        assert client.get(link.removeprefix("http://localhost")).status_code == 200  # the link itself still works
        db.engine.dispose()


def test_webhook_refuses_unsigned_and_badly_signed_posts(webhook_app, keypair):
    app, inv, message = webhook_app
    private, _ = keypair
    client = app.test_client()
    unsigned = client.post("/webhooks/sendgrid", data=json.dumps([event(message)]), content_type="application/json")
    assert unsigned.status_code == 403
    assert signed_post(client, private, [event(message)], tamper=True).status_code == 403
    other_key = ec.generate_private_key(ec.SECP256R1())
    assert signed_post(client, other_key, [event(message)]).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 0
    assert db.session.get(Invitation, inv.id).bounced_at is None


def test_webhook_is_idempotent_on_replay(webhook_app, keypair):
    app, _, message = webhook_app
    private, _ = keypair
    client = app.test_client()
    assert signed_post(client, private, [event(message, "delivered", "ev-9")]).get_json()["recorded"] == 1
    replay = signed_post(client, private, [event(message, "delivered", "ev-9")])
    assert replay.status_code == 200 and replay.get_json() == {"recorded": 0, "duplicates": 1}
    assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 1


def test_webhook_accepts_an_event_for_an_unknown_message(webhook_app, keypair):
    app, _, _ = webhook_app
    private, _ = keypair
    unknown = {
        "email": "nobody@example.org",
        "event": "delivered",
        "sg_event_id": "ev-x",
        "timestamp": 1700000000,
        "sg_message_id": "not-ours.filter1",
    }
    response = signed_post(app.test_client(), private, [unknown])
    assert response.status_code == 200
    recorded = db.session.scalars(select(ProviderEvent)).one()
    assert recorded.message_id is None and recorded.invitation_id is None


@pytest.mark.parametrize(
    "age, refused", [(0, False), (-60, False), (290, False), (310, True), (3600, True), (-310, True), (10**9, True)]
)
def test_webhook_refuses_events_signed_more_than_five_minutes_from_now(webhook_app, keypair, age, refused):
    """A signed post copied and replayed later (with new event ids, so they'd count again) is refused: 403."""
    app, inv, message = webhook_app
    private, _ = keypair
    response = signed_post(app.test_client(), private, [event(message)], timestamp=str(int(time.time()) - age))
    if refused:
        assert response.status_code == 403
        assert "only posts signed within 300 seconds of now are accepted" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(ProviderEvent)) == 0
        assert db.session.get(Invitation, inv.id).bounced_at is None
    else:
        assert response.status_code == 200 and response.get_json()["recorded"] == 1


def test_webhook_window_is_a_setting_and_a_timestamp_must_be_a_number(webhook_app, keypair):
    app, _, message = webhook_app
    private, _ = keypair
    client = app.test_client()
    app.config["SENDGRID_WEBHOOK_MAX_AGE_SECONDS"] = 30
    old = signed_post(client, private, [event(message, event_id="ev-a")], timestamp=str(int(time.time()) - 60))
    assert old.status_code == 403 and "within 30 seconds" in old.get_data(as_text=True)
    app.config["SENDGRID_WEBHOOK_MAX_AGE_SECONDS"] = 120
    fresh = signed_post(client, private, [event(message, event_id="ev-a")], timestamp=str(int(time.time()) - 60))
    assert fresh.status_code == 200
    words = signed_post(client, private, [event(message, event_id="ev-b")], timestamp="yesterday")
    assert words.status_code == 403 and "not a number of seconds" in words.get_data(as_text=True)


def test_webhook_with_json_nested_too_deep_is_a_400(webhook_app, keypair):
    app, _, _ = webhook_app
    private, _ = keypair
    timestamp = str(int(time.time()))
    body = "[" * 5000 + "]" * 5000
    signature = base64.b64encode(private.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))).decode()
    response = app.test_client().post(
        "/webhooks/sendgrid",
        data=body,
        content_type="application/json",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )
    assert response.status_code == 400


def test_webhook_without_a_configured_key_refuses_everything(tmp_path, keypair):
    app = make_app("sqlite", tmp_path)
    private, _ = keypair
    with app.app_context():
        assert signed_post(app.test_client(), private, []).status_code == 403


# --- organiser sending ----------------------------------------------------------------------------


def test_send_all_shows_the_count_then_queues_each_invitation(app, client):
    f.summit()
    organiser = f.user()
    already = f.invitation()
    mailing.send_invitation(already)
    fresh = [f.invitation() for _ in range(3)]
    db.session.commit()
    f.sign_in(client, organiser)
    page = client.get("/organiser/invitations/send").get_data(as_text=True)
    assert "<strong>3</strong> invitations would go now" in page
    asked = client.post("/organiser/invitations/send")
    assert asked.status_code == 200 and "Send 3 invitations?" in asked.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 1  # asked, nothing sent yet
    assert client.post("/organiser/invitations/send", data={"confirm": "yes"}).status_code == 302
    sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "invitation")).all()
    assert len(sent) == 4  # the earlier one plus three
    for inv in fresh:
        db.session.refresh(inv)
        assert inv.sent_at is not None
        body = next(delivered(m).body_text for m in sent if m.invitation_id == inv.id)
        assert links.personal_url(inv) in body
        assert f"/i/{links.token_for(inv)}/decline" in body
    assert "Everyone has been sent" in client.get("/organiser/invitations/send").get_data(as_text=True)


def test_reminders_go_to_the_chosen_group_and_never_within_the_quiet_days(app, client):
    f.summit()
    organiser = f.user()
    not_opened, opened = f.invitation(), f.invitation()
    registered = f.invitation()
    for inv in (not_opened, opened, registered):
        mailing.send_invitation(inv)
    opened.opened_at = utcnow()
    journey.register(registered, f.details())
    db.session.commit()
    f.sign_in(client, organiser)
    page = client.get("/organiser/reminders?state=not_answered").get_data(as_text=True)
    # Everyone was just sent their invitation, so the quiet days leave all of them out for now.
    assert "<strong>0</strong> reminders would go now" in page and "2 people are left out" in page
    app.config["REMIND_QUIET_DAYS"] = 0
    page = client.get("/organiser/reminders").get_data(as_text=True)
    assert "<strong>2</strong> reminders would go now" in page  # not answered: both unanswered ones
    client.post("/organiser/reminders", data={"state": "not_opened", "confirm": "yes"})
    reminded = db.session.scalars(select(OutboxMessage.invitation_id).where(OutboxMessage.kind == "reminder")).all()
    assert reminded == [not_opened.id]
    app.config["REMIND_QUIET_DAYS"] = 3
    client.post("/organiser/reminders", data={"state": "not_answered", "confirm": "yes"})
    reminded = db.session.scalars(select(OutboxMessage.invitation_id).where(OutboxMessage.kind == "reminder")).all()
    assert reminded == [not_opened.id]  # both heard from us in the last 3 days
    refused = client.post("/organiser/reminders", data={"state": "bogus"})
    assert refused.status_code == 400 and "not a group we know" in refused.get_data(as_text=True)
