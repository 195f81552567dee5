"""Emails a person causes with their own link are coalesced and limited (app/core/mail/outbox.py): one link can't
flood an inbox."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select, update

from app.core.db import db, utcnow
from app.core.mail import delivery, outbox
from app.core.mail.models import OutboxMessage, OutboxStatus
from fringe_events.models import FringeSignup, SignupState
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.mail_helpers import delivered


def messages(invitation, *kinds: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.invitation_id == invitation.id, OutboxMessage.kind.in_(kinds))
            .order_by(OutboxMessage.id)
        )
    )


def change_details(client, person, n: int):
    response = client.post(
        f.link(person, "details"), data={"name": f"Grace Hopper {n}", "organisation": "Navy", "job_title": "Admiral"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def send_what_is_due_later(now_shift: timedelta) -> None:
    """Let the held messages fall due (as if the hour had passed) and send them."""
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .values(next_attempt_at=utcnow() - now_shift)
    )
    db.session.commit()
    delivery.send_pending()


@both_databases
def test_two_hundred_detail_changes_with_a_worker_sending_make_a_handful_of_emails(app, client):
    f.summit()
    person = f.registered(name="Grace Hopper")
    started = time.monotonic()
    for n in range(200):
        change_details(client, person, n)
        delivery.send_pending()  # a worker sending as fast as it can between the changes
    took = time.monotonic() - started
    sent = [m for m in messages(person, "details_changed") if m.status == OutboxStatus.SENT]
    waiting = [m for m in messages(person, "details_changed") if m.status == OutboxStatus.PENDING]
    assert len(sent) == app.config["OWN_ACTION_EMAILS_PER_HOUR"] == 3
    assert len(waiting) == 1 and waiting[0].next_attempt_at > utcnow() + timedelta(minutes=50)
    assert delivery.send_pending().sent == 0  # held until the hour allows
    # When it goes, it says the details as they are then: the last change, not the fourth.
    send_what_is_due_later(timedelta(seconds=1))
    last = messages(person, "details_changed")[-1]
    assert last.status == OutboxStatus.SENT and "Grace Hopper 199" in delivered(last).body_text
    print(f"\n200 detail changes with a worker sending between them: {took:.1f} s, 4 emails")


@both_databases
def test_detail_changes_while_one_email_waits_make_no_more(app, client):
    f.summit()
    person = f.registered(name="Grace Hopper")
    for n in range(50):
        change_details(client, person, n)
    [waiting] = messages(person, "details_changed")
    assert waiting.status == OutboxStatus.PENDING and waiting.next_attempt_at <= utcnow()
    delivery.send_pending()
    assert "Grace Hopper 49" in delivered(messages(person, "details_changed")[0]).body_text
    # Another person's changes are theirs: not held back by hers.
    other = f.registered(name="Ada Lovelace")
    change_details(client, other, 1)
    assert len(messages(other, "details_changed")) == 1


def sign_up_and_cancel(client, person, event):
    assert client.post(ff.link(person, f"fringe/{event.slug}/sign-up"), data={"back": "event"}).status_code == 302
    assert client.post(ff.link(person, f"fringe/{event.slug}/cancel"), data={"back": "event"}).status_code == 302


@both_databases
def test_a_hundred_fringe_sign_up_and_cancel_pairs_make_a_handful_of_emails(app, client):
    f.summit()
    person = f.invitation(name="Ada Lovelace")
    talk = ff.event("Social marketing", capacity=5)
    for _ in range(100):
        sign_up_and_cancel(client, person, talk)
        delivery.send_pending()
    kinds = ("fringe_signed_up", "fringe_signup_cancelled")
    every = messages(person, *kinds)
    sent = [m for m in every if m.status == OutboxStatus.SENT]
    assert len(sent) == 3 and len(every) == 4, [(m.kind, m.status) for m in every]
    # What the last email sent (or the one waiting, when it goes) says matches how things stand: not signed up.
    assert every[-1].kind == "fringe_signup_cancelled"
    db.session.expire_all()
    assert db.session.scalars(select(FringeSignup.state)).one() == SignupState.CANCELLED

    # One more sign-up: the waiting cancellation and it undo each other, so the last one sent stands.
    assert client.post(ff.link(person, f"fringe/{talk.slug}/sign-up"), data={"back": "event"}).status_code == 302
    after = messages(person, *kinds)
    last_sent = [m for m in after if m.status == OutboxStatus.SENT][-1]
    waiting = [m for m in after if m.status == OutboxStatus.PENDING]
    assert last_sent.kind == "fringe_signed_up" and waiting == []


@both_databases
def test_signing_up_for_several_events_at_once_is_not_held_back(app, client):
    f.summit()
    person = f.invitation(name="Ada Lovelace")
    events = [ff.event(f"Event {n}") for n in range(6)]
    for event in events:
        assert client.post(ff.link(person, f"fringe/{event.slug}/sign-up"), data={"back": "event"}).status_code == 302
    assert delivery.send_pending().sent == 6  # none held: the limit is per event, and ten across all of them
    for _ in range(2):
        sign_up_and_cancel(client, person, events[0])
        delivery.send_pending()
    assert len(messages(person, "fringe_signed_up", "fringe_signup_cancelled")) <= 10


def test_the_rolling_hour(app):
    now = utcnow()

    def went(minutes_ago: float) -> OutboxMessage:
        return OutboxMessage(
            status=OutboxStatus.SENT, sent_at=now - timedelta(minutes=minutes_ago), next_attempt_at=now
        )

    assert outbox.send_time([], 3, now) == now
    assert outbox.send_time([went(10), went(5)], 3, now) == now
    assert outbox.send_time([went(50), went(10), went(5)], 3, now) == now + timedelta(minutes=10)
    assert outbox.send_time([went(70), went(10), went(5)], 3, now) == now  # one is more than an hour old
    held = OutboxMessage(status=OutboxStatus.PENDING, next_attempt_at=now + timedelta(minutes=10))
    assert outbox.send_time([went(30), went(5), held], 3, now) == now + timedelta(minutes=30)
