"""One transition at a time per person: the guard that makes the lock impossible to forget, the sentence a
lost race gets, `summit check` finding planted drift and `--repair` mending it, and the smaller defects
found on the same attack run (erasure as a fact, a handed-on offer's email, true cancellation messages)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.errors import Conflict
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from fringe_events.models import FringeEvent
from invitations import handing_on, journey, people, transitions
from invitations.models import Invitation, InvitationState, Registration, RegistrationState, WaitlistEntry
from invitations.privacy import anonymise_older_than, erase_on_request
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.mail_helpers import delivered
from tests.support.pages import plain

S = InvitationState


def flashed_after(client, response) -> str:
    assert response.status_code in (302, 303), response.status_code
    return plain(client.get(response.headers["Location"]))


# --- the guard ---------------------------------------------------------------------------------


def test_a_state_changed_without_the_lock_is_refused(app):
    f.summit()
    inv = f.invitation()
    with pytest.raises(transitions.UnlockedTransition):
        inv.state = S.DECLINED
    db.session.rollback()
    registered = f.registered()
    with pytest.raises(transitions.UnlockedTransition):
        registered.registration.state = RegistrationState.CANCELLED
    db.session.rollback()
    transitions.lock(inv)
    inv.state = S.DECLINED  # under the lock it is allowed
    db.session.commit()
    with pytest.raises(transitions.UnlockedTransition):  # and the lock ends with the transaction
        f.fresh(inv).state = S.INVITED
    db.session.rollback()


def test_begin_rereads_the_person_and_refuses_a_stale_start(app):
    f.summit()
    inv = f.registered()
    # Another transaction cancels while this session still holds the old object.
    behind = {"synchronize_session": False}
    db.session.execute(
        update(Invitation).where(Invitation.id == inv.id).values(state=S.CANCELLED).execution_options(**behind)
    )
    db.session.execute(
        update(Registration)
        .where(Registration.invitation_id == inv.id)
        .values(state=RegistrationState.CANCELLED)
        .execution_options(**behind)
    )
    db.session.execute(update(Summit).values(places_taken=0).execution_options(**behind))
    db.session.commit()
    assert inv.state == S.REGISTERED  # what this session last read
    with pytest.raises(Conflict, match="You've already cancelled your place — this was done a moment ago"):
        journey.cancel_registration(inv)
    db.session.rollback()
    assert db.session.scalar(select(Summit.places_taken)) == 0  # nothing given back twice


# --- a lost race is a sentence -------------------------------------------------------------------


def test_cancelling_twice_says_it_was_already_done(app, client):
    f.summit()
    inv = f.registered()
    assert client.post(f.link(inv, "cancel")).status_code == 302
    again = client.post(f.link(inv, "cancel"))  # the second tab
    assert "You've already cancelled your place — this was done a moment ago, perhaps in another tab." in flashed_after(
        client, again
    )
    assert db.session.scalar(select(Summit.places_taken)) == 0
    kinds = db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.invitation_id == inv.id)).all()
    assert kinds.count("registration_cancelled") == 1


def test_registering_in_a_second_tab_says_already_registered(app, client):
    f.summit()
    inv = f.invitation()
    body = {
        "name": "Ada Lovelace",
        "organisation": "Suffolk",
        "job_title": "",
        "dietary": "",
        "access_needs": "",
        "consent": "y",
    }
    assert client.post(f.link(inv, "register"), data=body).status_code == 302
    again = client.post(f.link(inv, "register"), data=body)
    assert "You're already registered — this was done a moment ago" in flashed_after(client, again)
    assert db.session.scalar(select(Summit.places_taken)) == 1


def test_a_constraint_refusing_a_second_copy_is_a_409_sentence_not_a_500(app, client, monkeypatch):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    f.invitation(email="twice@example.org")
    # As if a second organiser's check ran before the first one's insert committed.
    monkeypatch.setattr(people, "find_by_email", lambda email: None)
    response = client.post(
        "/organiser/invitations/new",
        data={
            "email": "twice@example.org",
            "name": "Tw Ice",
            "organisation": "Suffolk",
            "job_title": "",
            "sector": "",
            "champion_id": "0",
        },
    )
    assert response.status_code == 409
    assert "That was done a moment ago, perhaps in another tab, so nothing was saved twice." in plain(response)


def test_the_api_answers_a_conflict_with_409_json(app, client, monkeypatch):
    from app.checkin import api
    from app.core.auth import credentials

    f.summit()
    token = credentials.issue_api_token(f.user(Role.STEWARD))
    db.session.commit()

    def lost(*_args, **_kwargs):
        raise Conflict("That check-in was undone a moment ago at another door.")

    monkeypatch.setattr(api.scans, "undo", lost)
    response = client.post(
        "/api/v1/checkin/undo", json={"code": "NH1-X", "event": "summit"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 409
    assert response.get_json() == {"error": "That check-in was undone a moment ago at another door."}


# --- summit check --------------------------------------------------------------------------------


@both_databases
def test_summit_check_finds_planted_drift_and_repair_mends_it(app, runner):
    f.summit(capacity=10)
    registered = [f.registered() for _ in range(3)]
    event = ff.event(capacity=5)
    signer = f.invitation()
    from fringe_events import signups

    signups.sign_up(signer, event)
    db.session.commit()
    clean = runner.invoke(args=["summit", "check"])
    assert clean.exit_code == 0, clean.output
    assert "every counter agrees" in clean.output

    db.session.execute(update(Summit).values(places_taken=1))
    db.session.execute(update(FringeEvent).where(FringeEvent.id == event.id).values(places_taken=3))
    db.session.commit()
    found = runner.invoke(args=["summit", "check"])
    assert found.exit_code == 1
    assert "summit places counter" in found.output and "3 (registrations plus offers held)" in found.output
    assert f"fringe places counter: {event.slug}" in found.output and "1 (confirmed sign-ups)" in found.output
    assert "--repair" in found.output

    repaired = runner.invoke(args=["summit", "check", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "Repaired the summit's places counter (was 1)." in repaired.output
    db.session.expire_all()
    assert db.session.scalar(select(Summit.places_taken)) == 3
    assert db.session.get(FringeEvent, event.id).places_taken == 1
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "summit.counter_repaired" in actions and "fringe.counter_repaired" in actions
    del registered


@both_databases
def test_summit_check_names_people_whose_rows_disagree_with_their_state(app, runner):
    f.summit(capacity=2)
    holder = f.registered(email="holder@example.org")
    f.registered()
    waiting = f.invitation(email="waiting@example.org")
    journey.join_waitlist(waiting)
    db.session.commit()
    # A revoked person still holding their place, and an offer past its time.
    db.session.execute(update(Invitation).where(Invitation.id == holder.id).values(state=S.REVOKED))
    db.session.execute(update(Invitation).where(Invitation.id == waiting.id).values(state=S.OFFERED))
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.invitation_id == waiting.id)
        .values(state="offered", offer_expires_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    result = runner.invoke(args=["summit", "check"])
    assert result.exit_code == 1
    assert "confirmed place held by someone not registered" in result.output and "holder@example.org" in result.output
    assert "offer past its time still counted" in result.output and "waiting@example.org" in result.output
    assert "summit places counter" in result.output  # the offer is held but was never counted


# --- smaller defects ---------------------------------------------------------------------------


def test_a_delegate_named_erased_can_still_erase_and_is_anonymised(app, client):
    f.summit(starts_at=utcnow() - timedelta(days=200), ends_at=utcnow() - timedelta(days=199))
    named = f.invitation(name="Erased", email="erased.person@example.org")
    other = f.invitation(name="Erased", email="another@example.org")
    response = client.post(f.link(named, "erase"))
    assert response.status_code == 200 and "erased" in plain(response).lower()
    assert f.fresh(named).erased_at is not None and f.fresh(named).email != "erased.person@example.org"
    db.session.execute(update(Invitation).values(updated_at=utcnow() - timedelta(days=100)))
    db.session.commit()
    assert anonymise_older_than(90) == 1  # the one still holding data, though its name was already "Erased"
    db.session.commit()
    assert f.fresh(other).erased_at is not None and f.fresh(other).email.endswith("@erased.invalid")
    with pytest.raises(Conflict, match="nothing left to erase"):
        erase_on_request(f.fresh(other))
    db.session.rollback()


def test_a_colleague_handed_an_offer_is_told_it_is_held_and_until_when(app):
    f.summit(capacity=1, offer_hold_hours=24)
    first = f.registered()
    offered = f.invitation()
    journey.join_waitlist(offered)
    db.session.commit()
    journey.cancel_registration(first)
    db.session.commit()
    assert f.fresh(offered).state == S.OFFERED
    expires = f.fresh(offered).waitlist_entry.offer_expires_at
    new = handing_on.hand_on(
        f.fresh(offered), handing_on.Colleague(name="Cole League", email="cole@example.org", organisation="Suffolk")
    )
    db.session.commit()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == new.id, OutboxMessage.kind == "colleague_invited")
    ).one()
    body = delivered(message).body_text
    assert "A PLACE HELD FOR YOU" in body and "that offer is now yours" in body
    from app.core.timefmt import when

    assert when(expires) in body
    assert f.fresh(new).state == S.OFFERED


def test_cancelling_says_where_the_place_went(app, client):
    f.summit(capacity=1)
    alone = f.registered()
    response = client.post(f.link(alone, "cancel"))
    page = plain(client.get(response.headers["Location"]))
    assert "it's free again for someone else" in page and "waiting list" not in page.split("free again")[0]

    again = f.registered()
    waiting = f.invitation()
    journey.join_waitlist(waiting)
    db.session.commit()
    response = client.post(f.link(again, "cancel"))
    assert "offered to the next person on the waiting list" in plain(client.get(response.headers["Location"]))
    assert f.fresh(waiting).state == S.OFFERED
