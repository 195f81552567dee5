"""Email through GOV.UK Notify's own client against a stand-in that checks its signed token as Notify does: the
delegate journey in one generic template, calendar files as links, retries and refusals, delivery receipts."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.db import db, utcnow
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage, OutboxStatus, ProviderEvent
from app.core.security import calendar_feed_token
from invitations import audiences, journey, links, mailing
from invitations.models import Invitation
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.dumps import candidates, dump, opening, readable, working_mac
from tests.support.mail_helpers import drain, statuses
from tests.support.notify_standin import (
    CALLBACK_TOKEN,
    SECRET,
    SERVICE_ID,
    TEAM_ONLY,
    TEMPLATE_ID,
    StandIn,
    notify_app,
    post_receipt,
)

BOTH = pytest.mark.parametrize("kind", ["sqlite", "postgres"])


@pytest.fixture
def standin():
    server = StandIn().start()
    yield server
    server.stop()


def receipt(message: OutboxMessage, status: str, notification_id: str | None = None) -> dict:
    """Notify's delivery-receipt callback body for this message, as Notify posts it."""
    return {
        "id": notification_id or message.provider_id,
        "reference": str(message.id),
        "to": message.to_email,
        "status": status,
        "created_at": "2027-10-01T09:00:00.000000Z",
        "completed_at": "2027-10-01T09:00:05.000000Z",
        "sent_at": "2027-10-01T09:00:01.000000Z",
        "notification_type": "email",
        "template_id": TEMPLATE_ID,
        "template_version": 1,
    }


def sent_to(standin, message: OutboxMessage) -> list[dict]:
    return [body for body in standin.accepted if body["reference"] == str(message.id)]


def only(kind: str, invitation: Invitation) -> OutboxMessage:
    (message,) = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind, OutboxMessage.invitation_id == invitation.id)
    ).all()
    return message


@BOTH
def test_the_delegate_journey_goes_through_notify_with_a_bounce_and_temporary_failures(kind, tmp_path, standin):
    app = notify_app(kind, tmp_path, standin)
    with app.app_context():
        client = app.test_client()
        f.summit(capacity=2)
        ada, bea, cy, dan = (
            f.invitation(email=f"{name.lower()}@example.org", name=f"{name} Example")
            for name in ("Ada", "Bea", "Cy", "Dan")
        )
        for person in (ada, bea, cy, dan):
            mailing.send_invitation(person)
        db.session.commit()
        # Notify's first answer is a 429: that invitation is tried again after the backoff, and goes.
        standin.plan = lambda n: 429 if n == 1 else 201
        assert drain().sent == 4
        assert [status for status, _ in standin.rejected] == [429]

        # Ada and Dan take the two places, Bea waits, Dan gives his up so Bea is offered it; Cy is reminded; Ada
        # signs up for a fringe event.
        for person in (ada, dan):
            journey.register(person, f.details(name=person.name))
            db.session.commit()
        journey.join_waitlist(bea)
        db.session.commit()
        journey.cancel_registration(dan)
        db.session.commit()
        # Cy, invited a week ago (the quiet days count his invitation), is reminded.
        week_ago = utcnow() - timedelta(days=7)
        db.session.execute(update(OutboxMessage).where(OutboxMessage.kind == "invitation").values(created_at=week_ago))
        assert mailing.send_reminders(audiences.Audience(state="not_answered"), quiet_days=3) == 1
        db.session.commit()
        talk = ff.event("Data for neighbourhoods")
        ff.signed_up(ada, talk)
        drain()

        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        kinds = Counter(m.kind for m in messages)
        assert {"registration_confirmed": 2, "place_offered": 1, "reminder": 1, "fringe_signed_up": 1}.items() <= (
            kinds.items()
        )
        assert statuses() == {"sent": len(messages)}
        # Nothing lost, nothing sent twice: each message reached Notify once, by its own reference.
        assert standin.references() == Counter({m.id: 1 for m in messages})
        assert max(m.attempts for m in messages) == 2 and sum(m.attempts for m in messages) == len(messages) + 1
        for message in messages:
            (body,) = sent_to(standin, message)
            assert body["template_id"] == TEMPLATE_ID and body["email_address"] == message.to_email
            assert body["personalisation"]["subject"] == message.subject
            assert message.provider_id == body["notification_id"]
            assert "{{" not in body["personalisation"]["body"] and "••" not in body["personalisation"]["body"]
            assert message.attachments == []  # Notify carries none: nothing was built to be attached

        def said(kind_, person) -> str:
            return sent_to(standin, only(kind_, person))[0]["personalisation"]["body"]

        feed = f"http://localhost/calendar/feed/{calendar_feed_token(ada.link_selector)}.ics"
        confirmation = said("registration_confirmed", ada)
        assert confirmation.startswith("# You're registered\n")
        assert "\nAdd it to your calendar:\nhttp://localhost/calendar/summit.ics\n" in confirmation
        assert f"\n{feed}\n" in confirmation and f"\n{links.personal_url(ada)}\n" in confirmation
        signed_up = said("fringe_signed_up", ada)
        assert f"\nAdd it to your calendar:\nhttp://localhost/calendar/fringe/{talk.slug}.ics\n" in signed_up
        assert f"\n{feed}\n" in signed_up and "attached" not in signed_up
        assert f"\n{links.personal_url(bea)}\n" in said("place_offered", bea)
        assert f"\n{links.personal_url(cy)}\n" in said("reminder", cy)
        assert f"\n{links.personal_url(dan)}/decline\n" in said("invitation", dan)
        # The links the message gives open what they say.
        assert client.get("/calendar/summit.ics").data.startswith(b"BEGIN:VCALENDAR")
        assert talk.title.encode() in client.get(f"/calendar/fringe/{talk.slug}.ics").data
        assert client.get(feed.removeprefix("http://localhost")).status_code == 200

        # Receipts: Ada's confirmation delivered; Cy's reminder bounced, so Cy's invitation is flagged; a technical
        # failure of Bea's offer puts it back in the outbox, and it goes again, once.
        offer = only("place_offered", bea)
        for message, status in (
            (only("registration_confirmed", ada), "delivered"),
            (only("reminder", cy), "permanent-failure"),
            (offer, "technical-failure"),
        ):
            assert post_receipt(client, receipt(message, status)).get_json() == {"recorded": True}
        db.session.expire_all()
        assert db.session.get(OutboxMessage, offer.id).status == OutboxStatus.PENDING
        assert drain().sent == 1
        assert len(sent_to(standin, offer)) == 2
        assert standin.references() - Counter({offer.id: 1}) == Counter({m.id: 1 for m in messages})
        cy_now = db.session.get(Invitation, cy.id)
        assert cy_now.bounced_at is not None and "permanent failure" in cy_now.bounce_reason
        events = db.session.scalars(select(ProviderEvent).order_by(ProviderEvent.id)).all()
        assert [(e.event, e.invitation_id) for e in events] == [
            ("delivered", ada.id),
            ("bounce", cy.id),
            ("deferred", bea.id),
        ]
        assert not any("@" in json.dumps(e.payload) + e.reason for e in events)  # no address is kept

        # The copy of the database opens nothing; the mail as Notify received it does (the control).
        data = readable(dump(app))
        near_paths, windows = candidates(data)
        # The search really looked: it found what stands where each person's link and Ada's feed were.
        assert sum("{{link-token:" in c for c in near_paths) >= 4
        assert any("{{calendar-token:" in c for c in near_paths)
        assert opening(client, near_paths) == set()
        assert {w for w in windows if working_mac(w)} == set()
        sent_near, sent_windows = candidates(json.dumps(standin.accepted).encode())
        working = {w for w in sent_windows if working_mac(w)}
        assert {links.token_for(p) for p in (ada, bea, cy, dan)} | {calendar_feed_token(ada.link_selector)} <= working
        assert links.token_for(ada) in opening(client, working & sent_near)
        db.engine.dispose()


def test_a_429_is_tried_again_once_and_then_sent(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin)
    with app.app_context():
        f.summit()
        mailing.send_invitation(f.invitation())
        db.session.commit()
        standin.plan = lambda n: 429 if n == 1 else 201
        first = delivery.send_pending()
        assert (first.retry, first.sent) == (1, 0)
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.PENDING and "GOV.UK Notify answered 429" in message.last_error
        assert "Exceeded rate limit" in message.last_error
        assert drain().sent == 1
        db.session.expire_all()
        assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 2, None)
        assert standin.requests == 2 and standin.references() == Counter({message.id: 1})
        db.engine.dispose()


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_is_temporary(tmp_path, standin, status):
    app = notify_app("sqlite", tmp_path, standin, MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        f.summit()
        mailing.send_invitation(f.invitation())
        db.session.commit()
        standin.plan = lambda n: status
        drain()
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.FAILED and message.attempts == 2
        assert f"Gave up after 2 attempts. Last: GOV.UK Notify answered {status}" in message.last_error
        db.engine.dispose()


def test_notify_out_of_reach_is_temporary(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin, NOTIFY_BASE_URL="http://127.0.0.1:9")
    with app.app_context():
        f.summit()
        mailing.send_invitation(f.invitation())
        db.session.commit()
        assert delivery.send_pending().retry == 1
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.PENDING and "Could not reach GOV.UK Notify" in message.last_error
        db.engine.dispose()


def test_a_400_is_permanent_and_organisers_read_notifys_own_words(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin)
    with app.app_context():
        f.summit()
        organiser = f.user()
        mailing.send_invitation(f.invitation(email="someone@reject.example", name="Rejected Person"))
        db.session.commit()
        outcome = drain()
        assert (outcome.failed, outcome.retry) == (1, 0)
        message = db.session.scalars(select(OutboxMessage)).one()
        assert message.status == OutboxStatus.FAILED and message.attempts == 1
        assert message.last_error == f"GOV.UK Notify refused the message (400): {TEAM_ONLY}"
        client = app.test_client()
        f.sign_in(client, organiser)
        page = client.get(f"/organiser/mail/{message.id}").get_data(as_text=True)
        assert "refused the message (400): Can&#39;t send to this recipient using a team-only API key" in page
        assert "Send it again" in page
        # Once the address is one the key may send to, the organiser sends it again and it goes.
        db.session.execute(update(OutboxMessage).values(to_email="someone@example.org"))
        db.session.commit()
        assert client.post(f"/organiser/mail/{message.id}/retry").status_code == 302
        assert drain().sent == 1 and statuses() == {"sent": 1}
        db.engine.dispose()


def test_a_key_notify_does_not_know_is_refused_by_its_signature(tmp_path, standin):
    """The stand-in checks the token as Notify does: the same service id with another secret signs nothing it takes."""
    other_key = f"another-{SERVICE_ID}-{uuid.uuid4()}"
    app = notify_app("sqlite", tmp_path, standin, NOTIFY_API_KEY=other_key)
    with app.app_context():
        f.summit()
        mailing.send_invitation(f.invitation())
        db.session.commit()
        assert drain().failed == 1
        message = db.session.scalars(select(OutboxMessage)).one()
        assert (
            message.last_error
            == "GOV.UK Notify refused the message (403): Invalid token: signature, api token not found"
        )
        assert standin.accepted == []
        db.engine.dispose()


def test_a_message_written_with_an_attachment_is_not_sent_without_it(tmp_path, standin):
    """Written for SendGrid (its calendar file attached) before MAIL_BACKEND became notify: its words point at a
    file Notify can't carry, so it fails with a sentence rather than going half-true."""
    app = notify_app("sqlite", tmp_path, standin, MAIL_BACKEND="memory")
    with app.app_context():
        f.summit()
        f.registered()
        message = db.session.scalars(select(OutboxMessage)).one()
        from app.core.mail.compose import write_down

        write_down(message)
        db.session.commit()
        assert [a["filename"] for a in message.attachments] == ["new-horizons.ics"]
        app.config["MAIL_BACKEND"] = "notify"
        assert drain().failed == 1
        db.session.expire_all()
        assert message.last_error.startswith("Not sent: it was written with an attachment (new-horizons.ics) before")
        assert standin.accepted == []
        db.engine.dispose()


# --- delivery receipts -----------------------------------------------------------------------------------


def sent_invitation(app, standin) -> OutboxMessage:
    f.summit()
    inv = f.invitation(email="ada@example.org", name="Ada Lovelace")
    mailing.send_invitation(inv)
    db.session.commit()
    assert drain().sent == 1
    return db.session.scalars(select(OutboxMessage)).one()


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer wrong-token-of-some-length",
        f"Bearer {CALLBACK_TOKEN}x",
        CALLBACK_TOKEN,
        f"Basic {CALLBACK_TOKEN}",
        "Bearer ",
    ],
)
def test_a_receipt_without_the_callback_token_is_a_401_and_changes_nothing(tmp_path, standin, header):
    app = notify_app("sqlite", tmp_path, standin)
    with app.app_context():
        message = sent_invitation(app, standin)
        headers = {"Authorization": header} if header is not None else {}
        response = app.test_client().post(
            "/webhooks/notify", data=json.dumps(receipt(message, "permanent-failure")), headers=headers
        )
        assert response.status_code == 401
        assert "NOTIFY_CALLBACK_TOKEN" in response.get_json()["error"]
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert db.session.scalars(select(ProviderEvent)).all() == []
        assert db.session.get(Invitation, message.invitation_id).bounced_at is None
        db.engine.dispose()


def test_with_no_callback_token_set_every_receipt_is_refused(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin, NOTIFY_CALLBACK_TOKEN="")
    with app.app_context():
        message = sent_invitation(app, standin)
        client = app.test_client()
        assert post_receipt(client, receipt(message, "delivered"), token="").status_code == 401
        assert post_receipt(client, receipt(message, "delivered")).status_code == 401
        db.engine.dispose()


def test_a_receipt_sent_again_is_recorded_once_and_a_bad_body_is_a_400(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin)
    with app.app_context():
        message = sent_invitation(app, standin)
        client = app.test_client()
        assert post_receipt(client, receipt(message, "delivered")).get_json() == {"recorded": True}
        assert post_receipt(client, receipt(message, "delivered")).get_json() == {"recorded": False}
        (event,) = db.session.scalars(select(ProviderEvent)).all()
        assert (event.event, event.message_id, event.sg_event_id) == (
            "delivered",
            message.id,
            f"notify:{message.provider_id}:delivered",
        )
        assert "to" not in event.payload and event.payload["status"] == "delivered"
        for bad in (b"not json", b"[]", json.dumps({"status": "delivered"}).encode(), b"[" * 5000):
            response = client.post("/webhooks/notify", data=bad, headers={"Authorization": f"Bearer {CALLBACK_TOKEN}"})
            assert response.status_code == 400 and response.get_json()["error"]
        db.engine.dispose()


def test_temporary_failures_are_sent_again_until_the_attempts_run_out(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin, MAIL_MAX_ATTEMPTS=2)
    with app.app_context():
        message = sent_invitation(app, standin)
        client = app.test_client()
        first_id = message.provider_id
        post_receipt(client, receipt(message, "temporary-failure"))
        db.session.expire_all()
        assert message.status == OutboxStatus.PENDING and "temporary failure" in message.last_error
        assert drain().sent == 1
        db.session.expire_all()
        assert message.provider_id != first_id and message.attempts == 2
        # A late copy of the first send's receipt changes nothing: it is about a send that is no longer the latest.
        post_receipt(client, receipt(message, "technical-failure", notification_id=first_id))
        db.session.expire_all()
        assert message.status == OutboxStatus.SENT
        # The second send fails too: with the attempts spent, it is failed for organisers to see.
        post_receipt(client, receipt(message, "temporary-failure"))
        db.session.expire_all()
        assert message.status == OutboxStatus.FAILED
        assert message.last_error.startswith("Gave up after 2 attempts. Last: GOV.UK Notify could not deliver it")
        assert len(standin.accepted) == 2
        db.engine.dispose()


def test_a_later_delivery_clears_the_bounce_flag(tmp_path, standin):
    app = notify_app("sqlite", tmp_path, standin)
    with app.app_context():
        message = sent_invitation(app, standin)
        client = app.test_client()
        post_receipt(client, receipt(message, "permanent-failure"))
        assert db.session.get(Invitation, message.invitation_id).bounced_at is not None
        later = {
            **receipt(message, "delivered", notification_id=str(uuid.uuid4())),
            "completed_at": "2027-10-02T09:00:00Z",
        }
        post_receipt(client, later)
        db.session.expire_all()
        assert db.session.get(Invitation, message.invitation_id).bounced_at is None
        db.engine.dispose()


def test_the_stand_in_checks_the_token_as_notify_does():
    """HS256 under the key's secret part, `iss` the service id, `iat` within 30 seconds of now either way."""
    import jwt

    from tests.support.notify_standin import token_problem

    now = time.time()

    def token(secret=SECRET, algorithm="HS256", **claims):
        return "Bearer " + jwt.encode({"iss": SERVICE_ID, "iat": int(now), **claims}, secret, algorithm=algorithm)

    assert token_problem(token()) is None
    assert token_problem(token(iat=int(now) - 29)) is None
    assert "30 seconds" in token_problem(token(iat=int(now) - 31))
    assert "30 seconds" in token_problem(token(iat=int(now) + 31))
    assert "signature" in token_problem(token(secret=str(uuid.uuid4()) + "-another-secret"))
    assert "service not found" in token_problem(token(iss=str(uuid.uuid4())))
    assert "HS256" in token_problem(token(secret=None, algorithm="none"))  # unsigned
    assert "must be provided" in token_problem(None)


CALENDAR_KINDS = {
    # kind: the words that stand where "the calendar file attached" was, and whether a link follows them
    "registration_confirmed": ("Add it to your calendar:", True),
    "fringe_signed_up": ("Add it to your calendar:", True),
    "fringe_changed": ("open the event's calendar file", True),
    "summit_changed": ("open the summit's calendar file", True),
    "fringe_cancelled": ("If you added it to your calendar, please take it out.", False),
    "fringe_signup_cancelled": ("If you added it to your calendar, please take it out.", False),
}


@pytest.mark.parametrize("kind", sorted(CALENDAR_KINDS))
def test_every_message_that_had_a_calendar_file_says_what_to_do_without_it(tmp_path, standin, kind):
    from app.core.mail.outbox import enqueue
    from tests.support.mail_helpers import delivered

    app = notify_app("sqlite", tmp_path, standin)
    with app.app_context():
        summit = f.summit()
        ada = f.invitation(name="Ada Lovelace")
        talk = ff.event("Data for neighbourhoods")
        calendar_link = f"http://localhost/calendar/fringe/{talk.slug}.ics"
        context = dict(
            invitation=ada,
            summit=summit,
            event=talk,
            link=links.personal_url(ada),
            event_link=links.personal_url(ada) + f"/fringe/{talk.slug}",
            place="Endeavour House",
            changes=[["When", "before", "after"]],
            reason="",
            calendar_link=calendar_link,
            calendar_feed_link=f"http://localhost/calendar/feed/{calendar_feed_token(ada.link_selector)}.ics",
        )
        message = delivered(enqueue(kind, to_email=ada.email, subject="A subject", context=context))
        words, with_link = CALENDAR_KINDS[kind]
        for body in (message.body_text, message.body_html):
            assert "attached" not in body and words in body
        assert message.attachments == []
        if with_link:
            assert f":\n{calendar_link}\n" in message.body_text and f'href="{calendar_link}"' in message.body_html
        db.engine.dispose()
