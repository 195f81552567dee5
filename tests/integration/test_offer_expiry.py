"""An offer of a freed place runs out (invitations/waitlist.py): the place passes to the next person waiting, or is
free again; the mail worker and `summit expire-offers` expire offers, once; a page shows a lapsed offer as
expired without writing, and accepting one, or registering for its place, expires it first."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.db import db, utcnow
from app.core.errors import InvalidState
from app.core.mail import rounds
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import journey, waitlist
from invitations.models import InvitationState, WaitlistEntry, WaitlistState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.factories import fresh, link, offer_that_ran_out, offered_place
from tests.support.mail_helpers import delivered, last_email, mail_kinds
from tests.support.mail_worker import MailWorker
from tests.support.pages import REGISTRATION_FORM, after, plain, text
from tests.support.pages import REGISTRATION_FORM_SHORT as REGISTRATION
from tests.support.rows import count, places_taken
from tests.support.statements import view, writes

S = InvitationState


def lapse(offered) -> None:
    entry = db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.invitation_id == offered.id)).one()
    entry.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


@both_databases
def test_expired_offer_passes_to_the_next_person(app):
    f.summit(capacity=1)
    holder = f.registered()
    first, second = f.invitation(), f.invitation()
    for inv in (first, second):
        journey.join_waitlist(inv)
        db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    later = utcnow() + timedelta(hours=49)
    assert waitlist.expire_offers(later) == 1
    db.session.commit()
    db.session.expire_all()
    assert first.state == S.INVITED and first.waitlist_entry.state == WaitlistState.EXPIRED
    assert second.state == S.OFFERED
    assert places_taken() == 1
    assert "offer_expired" in mail_kinds(first)
    # Idempotent: running it again changes nothing.
    assert waitlist.expire_offers(later) == 0
    with pytest.raises(InvalidState, match="no offer"):
        journey.accept_offer(first, f.details())


def test_no_place_left_then_last_offer_expires_frees_it(app):
    f.summit(capacity=1)
    holder = f.registered()
    journey.cancel_registration(holder)
    db.session.commit()
    assert places_taken() == 0
    journey.register(f.invitation(), f.details())
    db.session.commit()
    assert places_taken() == 1


@both_databases
def test_an_offer_that_ran_out_shows_as_expired_and_viewing_it_writes_nothing(app, client):
    offered, behind = offer_that_ran_out()
    view(client, link(offered))

    html, seen = view(client, link(offered))

    assert writes(seen) == [] and "COMMIT" not in seen
    assert "Offer expired" in html and "The place we held for you has passed on" in html
    assert "Accept my place" not in html and "it's yours if you want it" not in html
    # Computed from the time: the rows are as they were until the worker (or a write that needs the place) acts.
    assert fresh(offered).state == S.OFFERED and fresh(behind).state == S.WAITLISTED and places_taken() == 1


@both_databases
def test_the_workers_step_expires_an_offer_that_ran_out_and_offers_the_place_to_the_next_person(app, client):
    offered, behind = offer_that_ran_out()

    assert rounds.run_scheduled_steps() == ["Expired 1 waiting-list offer(s) that had run out."]

    assert fresh(offered).state == S.INVITED and fresh(behind).state == S.OFFERED and places_taken() == 1
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds[-2:] == ["offer_expired", "place_offered"]
    assert rounds.run_scheduled_steps() == []  # nothing more to do: idempotent
    html, _ = view(client, link(behind))
    assert "it's yours if you want it" in html


@both_databases
def test_a_running_mail_worker_expires_offers_and_sends_the_next_persons_offer(app, client, tmp_path):
    offered, behind = offer_that_ran_out()
    queued_before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    db.session.rollback()  # hold no transaction (on SQLite, no lock) while the worker writes
    with MailWorker(app, tmp_path / "worker-outbox", tmp_path) as worker:
        emails = worker.emails(queued_before + 2)  # everything queued before, and the two emails of its own step
        db.session.rollback()
    assert fresh(offered).state == S.INVITED and fresh(behind).state == S.OFFERED and places_taken() == 1
    kinds = db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert kinds[-2:] == ["offer_expired", "place_offered"] and len(kinds) == queued_before + 2
    assert any(behind.email in json.dumps(email) for email in emails)


@both_databases
def test_a_registration_for_a_place_held_by_an_offer_that_ran_out_expires_it_first(app, client):
    (offered,) = offer_that_ran_out(waiting_behind=0)
    newcomer = f.invitation(name="New Comer")

    response = client.post(link(newcomer, "register"), data=REGISTRATION_FORM)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert fresh(newcomer).state == S.REGISTERED and fresh(offered).state == S.INVITED and places_taken() == 1


def test_a_place_held_by_a_lapsed_offer_shows_as_free_once_the_worker_has_expired_it(app, client):
    f.summit(capacity=1)
    holder = f.registered()
    waiting = f.invitation()
    journey.join_waitlist(waiting)
    db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    db.session.execute(update(WaitlistEntry).values(offer_expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    newcomer = f.invitation()
    client.get(link(newcomer))  # the first opening, recorded

    assert "The summit is full" in text(client.get(link(newcomer)))  # a page view expires nothing
    assert places_taken() == 1 and fresh(waiting).state == S.OFFERED

    assert rounds.run_scheduled_steps() == ["Expired 1 waiting-list offer(s) that had run out."]

    html = text(client.get(link(newcomer)))
    assert places_taken() == 0 and fresh(waiting).state == S.INVITED
    assert "Register for my place" in html
    assert "The summit is full" not in html


@pytest.mark.parametrize("waiting", [1, 0])
def test_accepting_a_lapsed_offer_says_where_the_place_went(client, waiting):
    offered = offered_place(waiting)[0]
    lapse(offered)

    page = after(client, client.post(link(offered, "register"), data=REGISTRATION))

    if waiting:
        assert "this offer has expired, and the place has gone to the next person waiting" in page
    else:
        assert "this offer has expired. A place is still free, though" in page
    email = delivered(last_email("offer_expired")).body_text
    assert "it is no longer held for you" in email and "passed to the next person" not in email


def test_an_offer_found_lapsed_when_accepting_stays_expired(app, client):
    f.summit(capacity=1)
    first = f.registered()
    offered = f.invitation()
    journey.join_waitlist(offered)
    db.session.commit()
    journey.cancel_registration(first)
    db.session.commit()
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.invitation_id == offered.id)
        .values(offer_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    body = {
        "name": "Late Comer",
        "organisation": "Suffolk",
        "job_title": "",
        "dietary": "",
        "access_needs": "",
        "consent": "y",
    }
    response = client.post(f.link(offered, "register"), data=body)
    assert "this offer has expired" in plain(client.get(response.headers["Location"]))
    assert f.fresh(offered).state == S.INVITED
    assert db.session.scalar(select(Summit.places_taken)) == 0


def test_expire_offers_is_idempotent(app, runner):
    f.summit(capacity=1)
    holder = f.registered()
    first, second = f.invitation(), f.invitation()
    for inv in (first, second):
        journey.join_waitlist(inv)
        db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    assert fresh(first).state == S.OFFERED
    # Let the offer lapse.
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.invitation_id == first.id)
        .values(offer_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()

    once = runner.invoke(args=["summit", "expire-offers"])
    twice = runner.invoke(args=["summit", "expire-offers"])

    assert once.exit_code == twice.exit_code == 0
    assert "Expired 1 offer(s)." in once.output and "Expired 0 offer(s)." in twice.output
    assert fresh(first).state == S.INVITED and fresh(first).waitlist_entry.state == WaitlistState.EXPIRED
    assert fresh(second).state == S.OFFERED
    assert db.session.scalar(select(Summit.places_taken)) == 1
    assert count(OutboxMessage, OutboxMessage.kind == "offer_expired") == 1
