"""Fringe places follow the invitation: revoked or erased gives them back; a colleague sent instead inherits them."""

from __future__ import annotations

from app.core.db import db
from fringe_events.models import FringeEvent, FringeSignup, SignupState
from invitations import handing_on, people, privacy
from tests.support import factories as f
from tests.support import fringe_factories as ff


def test_revoking_gives_back_fringe_places(app):
    f.summit()
    event = ff.event(capacity=1)
    inv = f.invitation()
    ff.signed_up(inv, event)
    assert db.session.get(FringeEvent, event.id).places_taken == 1
    people.revoke_invitation(inv)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(FringeEvent, event.id).places_taken == 0
    ff.signed_up(f.invitation(), event)  # the place is free for someone else


def test_erasure_gives_back_fringe_places(app):
    f.summit()
    event = ff.event(capacity=2)
    inv = f.invitation()
    ff.signed_up(inv, event)
    privacy.erase_on_request(inv)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(FringeEvent, event.id).places_taken == 0


def test_a_colleague_sent_instead_inherits_the_sign_ups(app):
    f.summit()
    event = ff.event(capacity=1)
    inv = f.invitation()
    ff.signed_up(inv, event)
    colleague = handing_on.hand_on(inv, handing_on.Colleague(name="Sam", email="sam@example.org", organisation="X"))
    db.session.commit()
    db.session.expire_all()
    signup = db.session.query(FringeSignup).one()
    assert signup.invitation_id == colleague.id and signup.state == SignupState.CONFIRMED
    assert db.session.get(FringeEvent, event.id).places_taken == 1
