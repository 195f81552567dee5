"""The delegate's journey through services: register, full, waiting list, offers, cancelling, handing on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.errors import InvalidState, RegistrationClosed, SummitFull, ValidationFailed
from app.core.summit.models import Summit
from invitations import handing_on, journey, people, summit_changes, waitlist
from invitations.models import InvitationState, RegistrationState, WaitlistState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.mail_helpers import mail_kinds
from tests.support.rows import places_taken

S = InvitationState


@both_databases
def test_register_takes_a_place_and_writes_its_confirmation(app):
    f.summit(capacity=2)
    inv = f.invitation()
    journey.register(inv, f.details(name="Ada Lovelace", dietary="Vegan"))
    db.session.commit()
    db.session.expire_all()
    assert inv.state == S.REGISTERED
    assert inv.name == "Ada Lovelace"
    assert inv.registration.dietary == "Vegan"
    assert inv.registration.consent_at is not None
    assert places_taken() == 1
    assert mail_kinds(inv) == ["registration_confirmed"]


@both_databases
def test_full_summit_refuses_and_waiting_list_takes_them(app):
    f.summit(capacity=1)
    f.registered()
    late = f.invitation()
    with pytest.raises(SummitFull):
        journey.register(late, f.details())
    db.session.rollback()
    journey.join_waitlist(late)
    db.session.commit()
    assert late.state == S.WAITLISTED
    assert waitlist.waitlist_position(late) == 1
    assert places_taken() == 1
    assert "waitlist_joined" in mail_kinds(late)


def test_waiting_list_refuses_when_places_remain(app):
    f.summit(capacity=5)
    with pytest.raises(InvalidState, match="register now"):
        journey.join_waitlist(f.invitation())


@both_databases
def test_cancellation_offers_the_place_to_the_first_in_line(app):
    f.summit(capacity=1)
    holder = f.registered()
    first, second = f.invitation(), f.invitation()
    journey.join_waitlist(first)
    db.session.commit()
    journey.join_waitlist(second)
    db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    db.session.expire_all()
    assert holder.state == S.CANCELLED
    assert holder.registration.state == RegistrationState.CANCELLED
    assert first.state == S.OFFERED and second.state == S.WAITLISTED
    assert first.waitlist_entry.offer_expires_at > utcnow() + timedelta(hours=47)
    assert places_taken() == 1  # the offer holds the place
    assert "place_offered" in mail_kinds(first)
    journey.accept_offer(first, f.details(name=first.name))
    db.session.commit()
    assert first.state == S.REGISTERED and places_taken() == 1
    assert first.waitlist_entry.state == WaitlistState.ACCEPTED


def test_accepting_after_expiry_is_refused_and_place_moves_on(app):
    f.summit(capacity=1)
    holder = f.registered()
    first = f.invitation()
    journey.join_waitlist(first)
    db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    with pytest.raises(InvalidState, match="expired"):
        journey.accept_offer(first, f.details(), now=utcnow() + timedelta(hours=49))
    db.session.commit()
    assert places_taken() == 0  # nobody else waiting, so the place is free again
    assert first.state == S.INVITED


def test_raising_capacity_offers_new_places_to_the_waiting_list(app):
    f.summit(capacity=1)
    f.registered()
    waiting = f.invitation()
    journey.join_waitlist(waiting)
    db.session.commit()
    summit_changes.configure_summit(capacity=2)
    db.session.commit()
    assert waiting.state == S.OFFERED and places_taken() == 2


def test_capacity_cannot_drop_below_places_taken(app):
    f.summit(capacity=3)
    f.registered()
    f.registered()
    with pytest.raises(ValidationFailed, match="2 places already taken"):
        summit_changes.configure_summit(capacity=1)


def test_registration_window_is_enforced(app):
    f.summit(registration_opens_at=f.future(24))
    with pytest.raises(RegistrationClosed, match="not opened"):
        journey.register(f.invitation(), f.details())
    db.session.rollback()
    summit_changes.configure_summit(clear_opens=True, registration_closes_at=f.past(1))
    db.session.commit()
    with pytest.raises(RegistrationClosed, match="closed"):
        journey.register(f.invitation(), f.details())


def test_decline_records_reason_and_can_still_register_later(app):
    f.summit()
    inv = f.invitation()
    journey.decline(inv, "Council meeting that day")
    db.session.commit()
    assert inv.state == S.DECLINED and inv.decline_reason == "Council meeting that day"
    journey.register(inv, f.details())
    db.session.commit()
    assert inv.state == S.REGISTERED


def test_decline_from_registered_is_refused(app):
    f.summit()
    inv = f.registered()
    with pytest.raises(InvalidState, match="Cancel my place"):
        journey.decline(inv)


@both_databases
def test_handing_on_a_registered_place_moves_it_without_the_waiting_list(app):
    f.summit(capacity=1)
    champion = f.user(role=Role.LEADER)
    original = f.registered(champion=champion)
    waiting = f.invitation()
    journey.join_waitlist(waiting)
    db.session.commit()
    colleague = handing_on.hand_on(
        original,
        handing_on.Colleague(name="Sam Deputy", email="Sam.Deputy@Example.org", organisation="Ipswich Borough Council"),
    )
    db.session.commit()
    db.session.expire_all()
    assert original.state == S.HANDED_ON
    assert original.registration.state == RegistrationState.TRANSFERRED
    assert colleague.email == "sam.deputy@example.org"
    assert colleague.state == S.REGISTERED and colleague.registration.state == RegistrationState.CONFIRMED
    assert colleague.substitute_for_id == original.id
    assert colleague.champion_id == original.champion_id
    assert waiting.state == S.WAITLISTED  # nobody jumped the queue, nobody lost out
    assert places_taken() == 1
    assert mail_kinds(colleague) == ["colleague_invited"]
    assert mail_kinds(original)[-1] == "handed_on"


def test_handing_on_a_waiting_list_place_keeps_the_position(app):
    f.summit(capacity=1)
    f.registered()
    first, second = f.invitation(), f.invitation()
    for inv in (first, second):
        journey.join_waitlist(inv)
        db.session.commit()
    colleague = handing_on.hand_on(first, handing_on.Colleague(name="C", email="c@example.org", organisation="X"))
    db.session.commit()
    assert colleague.state == S.WAITLISTED
    assert waitlist.waitlist_position(colleague) == 1


def test_handing_on_to_someone_already_invited_is_refused(app):
    f.summit()
    inv = f.invitation()
    other = f.invitation(email="taken@example.org")
    with pytest.raises(ValidationFailed, match="already been invited"):
        handing_on.hand_on(inv, handing_on.Colleague(name="T", email="TAKEN@example.org", organisation="X"))
    db.session.rollback()
    assert inv.state == S.INVITED and other.state == S.INVITED


def test_revoking_a_registered_invitation_frees_the_place(app):
    f.summit(capacity=1)
    inv = f.registered()
    people.revoke_invitation(inv)
    db.session.commit()
    assert inv.state == S.REVOKED and places_taken() == 0


def test_one_invitation_per_email_case_insensitive(app):
    f.summit()
    f.invitation(email="Person@Example.org")
    with pytest.raises(ValidationFailed):
        people.create_invitation(people.InviteeData(email="PERSON@example.ORG", name="Dup", organisation="X"))


@both_databases
def test_database_refuses_a_second_invitation_for_an_email(app):
    from sqlalchemy.exc import IntegrityError

    from invitations.models import Invitation

    f.summit()
    f.invitation(email="one@example.org")
    db.session.add(
        Invitation(email="one@example.org", name="Dup", organisation="X", link_selector="x" * 22, code="NH1-DUP")
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 1


@both_databases
def test_database_refuses_places_beyond_capacity(app):
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    f.summit(capacity=2)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Summit).values(places_taken=3))
        db.session.flush()
    db.session.rollback()
