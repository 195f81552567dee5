"""Attendance for a fringe event that hasn't started yet: a warning, and a confirm step before anything is
recorded (the bulk ticks and a walk-in alike)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.db import db, utcnow
from fringe_events.models import Attendance, FringeSignup, SignupState
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import FreshSessionClient
from tests.support.pages import plain


@pytest.fixture
def client(app):
    app.test_client_class = FreshSessionClient
    client = app.test_client()
    f.summit()
    f.sign_in(client, f.user(name="Olive Organiser"))
    return client


@pytest.fixture
def upcoming(client):
    """An event in three days, with two people signed up."""
    event = ff.event("Digital by default", starts_at=utcnow().replace(microsecond=0) + timedelta(days=3))
    people = [f.invitation(name="Ada Lovelace"), f.invitation(name="Grace Hopper")]
    for person in people:
        db.session.add(FringeSignup(invitation_id=person.id, fringe_event_id=event.id, state=SignupState.CONFIRMED))
    db.session.commit()
    return event, people


def attendances() -> set[int]:
    db.session.expire_all()
    return set(db.session.scalars(select(Attendance.invitation_id)))


def test_the_list_warns_that_the_event_has_not_started(client, upcoming):
    event, _ = upcoming
    page = plain(client.get(f"/organiser/fringe/{event.id}/attendance"))
    assert "This event hasn't started yet" in page and "We'll ask you to confirm" in page


def test_ticking_people_before_the_start_asks_first_and_records_only_when_confirmed(client, upcoming):
    event, (ada, grace) = upcoming
    url = f"/organiser/fringe/{event.id}/attendance"

    asked = client.post(url, data={"attended": [str(ada.id), str(grace.id)]})

    assert asked.status_code == 409
    page = plain(asked)
    assert "Digital by default hasn't started yet" in page and "Ada Lovelace" in page and "Grace Hopper" in page
    assert "Yes, mark them as attended now" in page and "No, back to the list" in page
    assert attendances() == set()

    confirmed = client.post(url, data={"attended": [str(ada.id), str(grace.id)], "before_start": "yes"})
    assert confirmed.status_code == 302 and attendances() == {ada.id, grace.id}


def test_a_walk_in_before_the_start_asks_first(client, upcoming):
    event, _ = upcoming
    walker = f.invitation(name="Wanda Walker")
    url = f"/organiser/fringe/{event.id}/walk-in"

    asked = client.post(url, data={"invitation_id": str(walker.id)})
    assert asked.status_code == 409 and "Yes, mark Wanda Walker as attended now" in plain(asked)
    assert attendances() == set()

    assert client.post(url, data={"invitation_id": str(walker.id), "before_start": "yes"}).status_code == 302
    assert attendances() == {walker.id}


def test_an_event_under_way_asks_nothing(client, upcoming):
    event, (ada, _) = upcoming
    event.starts_at = utcnow() - timedelta(minutes=5)
    event.ends_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    page = plain(client.get(f"/organiser/fringe/{event.id}/attendance"))
    assert "hasn't started yet" not in page
    assert client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id)]}).status_code == 302
    assert attendances() == {ada.id}
