"""Attendance at fringe events: the organiser's list with bulk ticks and a search, walk-ins, undo, the scanner's
records on the same list, each person's warm-up history, and the demo's programme."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.core.db import db, utcnow
from app.core.errors import ValidationFailed
from app.core.timefmt import LONDON
from fringe_events import attendance_lists, programme, signups
from fringe_events.attendance import record_attendance, resolve_event
from fringe_events.models import Attendance, CheckinMethod, FringeEvent, FringeSignup, SignupState
from invitations import people as invitation_people
from invitations.models import Invitation, InvitationState
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import FreshSessionClient
from tests.support.pages import plain, text
from tests.support.rows import count


@pytest.fixture
def client(app):
    app.test_client_class = FreshSessionClient
    return app.test_client()


@pytest.fixture
def organiser(app, client):
    f.summit()
    user = f.user(name="Olive Organiser")
    f.sign_in(client, user)
    return user


@pytest.fixture
def held(organiser):
    """An event that took place yesterday, with three people signed up."""
    event = ff.event("Intergenerational support", starts_at=utcnow().replace(microsecond=0) - timedelta(days=1))
    people = [
        f.invitation(name=n, organisation=o)
        for n, o in (
            ("Ada Lovelace", "Analytical Engines"),
            ("Grace Hopper", "Navy"),
            ("Alan Turing", "Bletchley Park"),
        )
    ]
    for person in people:
        # Sign-ups closed when it started: put them in as they were beforehand.
        db.session.add(FringeSignup(invitation_id=person.id, fringe_event_id=event.id, state=SignupState.CONFIRMED))
        event.places_taken += 1
    db.session.commit()
    return event, people


def attended(event: FringeEvent) -> dict[int, Attendance]:
    db.session.expire_all()
    return {
        a.invitation_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.event_key == event.event_key))
    }


def test_bulk_ticks_mark_the_ticked_people_as_attended(client, organiser, held):
    event, (ada, grace, alan) = held
    stranger = f.invitation(name="Not Signed Up")

    page = client.get(f"/organiser/fringe/{event.id}/attendance")
    assert page.status_code == 200
    words = plain(page)
    assert all(p.name in words for p in (ada, grace, alan)) and "Not Signed Up" not in words
    assert f'name="attended" value="{ada.id}"' in text(page)

    response = client.post(
        f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id), str(alan.id), str(stranger.id)]}
    )

    assert response.status_code == 302
    rows = attended(event)
    assert set(rows) == {ada.id, alan.id}  # the stranger isn't on the list: they'd be a walk-in
    assert all(
        r.method == CheckinMethod.LIST and not r.walk_in and r.checked_in_by_id == organiser.id for r in rows.values()
    )
    page = plain(client.get(f"/organiser/fringe/{event.id}/attendance"))
    assert "2 people marked as attended" in page
    assert "3 signed up 2 attended 0 walk-ins" in page

    # Ticking them again changes nothing (one attendance per person and event).
    client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id)]})
    assert count(Attendance) == 2


def test_the_list_searches_by_name_email_or_organisation(client, organiser, held):
    event, (ada, grace, alan) = held
    for q, expected in (("grace", {"Grace Hopper"}), ("BLETCHLEY", {"Alan Turing"}), (ada.email, {"Ada Lovelace"})):
        words = plain(client.get(f"/organiser/fringe/{event.id}/attendance", query_string={"q": q}))
        shown = {p.name for p in (ada, grace, alan) if p.name in words}
        assert shown == expected, q
    assert "Nobody on the list matches" in plain(client.get(f"/organiser/fringe/{event.id}/attendance?q=zzz"))


def test_a_walk_in_is_found_by_search_and_recorded(client, organiser, held):
    event, (ada, _, _) = held
    walker = f.invitation(name="Wanda Walker", email="wanda@example.org", organisation="Suffolk ACRE")
    gone = f.invitation(name="Wendy Revoked")
    invitation_people.revoke_invitation(gone)
    db.session.commit()

    results = plain(client.get(f"/organiser/fringe/{event.id}/walk-in", query_string={"q": "w"}))
    assert "Type at least two letters" in results
    results = client.get(f"/organiser/fringe/{event.id}/walk-in", query_string={"q": "wanda"})
    assert "Wanda Walker" in plain(results) and "Wendy Revoked" not in plain(results)
    assert "Wendy Revoked" not in plain(
        client.get(f"/organiser/fringe/{event.id}/walk-in", query_string={"q": "wendy"})
    )

    response = client.post(f"/organiser/fringe/{event.id}/walk-in", data={"invitation_id": str(walker.id)})
    assert response.status_code == 302
    row = attended(event)[walker.id]
    assert row.walk_in and row.method == CheckinMethod.MANUAL
    assert "Wanda Walker is recorded as a walk-in" in plain(client.get(f"/organiser/fringe/{event.id}/attendance"))
    # Someone signed up who is "walked in" is simply marked as attended.
    client.post(f"/organiser/fringe/{event.id}/walk-in", data={"invitation_id": str(ada.id)})
    assert attended(event)[ada.id].walk_in is False
    sheet = attendance_lists.attendance_sheet(db.session.get(FringeEvent, event.id))
    assert (sheet.signed_up, sheet.attended, sheet.walk_ins) == (3, 2, 1)
    # A revoked invitation can't be recorded, even by id.
    client.post(f"/organiser/fringe/{event.id}/walk-in", data={"invitation_id": str(gone.id)})
    assert gone.id not in attended(event)


def test_undo_removes_a_mistaken_tick(client, organiser, held):
    event, (ada, grace, _) = held
    client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id), str(grace.id)]})
    page = client.get(f"/organiser/fringe/{event.id}/attendance")
    assert f'name="invitation_id" value="{grace.id}"' in text(page)  # an Undo button per person in

    response = client.post(f"/organiser/fringe/{event.id}/attendance/undo", data={"invitation_id": str(grace.id)})

    assert response.status_code == 302
    assert set(attended(event)) == {ada.id}
    assert "Grace Hopper is no longer marked as attending" in plain(
        client.get(f"/organiser/fringe/{event.id}/attendance")
    )
    # Both the ticks and the undo are in the audit log, with who, before and after.
    from app.core.audit import AuditEvent

    trail = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.invitation_id == grace.id)
        .where(AuditEvent.action.like("fringe.attendance%"))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.details["before"], e.details["after"]) for e in trail] == [
        ("fringe.attendance_marked", "not attended", "attended"),
        ("fringe.attendance_undone", "attended", "not attended"),
    ]
    assert all(e.actor_id == organiser.id for e in trail)


def test_the_scanner_writes_the_same_records_the_list_shows(client, organiser, held):
    event, (ada, _, _) = held
    ref = resolve_event(event.slug)
    _, created = record_attendance(ada, ref, method=CheckinMethod.CAMERA)
    db.session.commit()
    assert created
    words = plain(client.get(f"/organiser/fringe/{event.id}/attendance"))
    assert "Attended" in words and "1 attended" in words
    client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id)]})
    assert count(Attendance) == 1


def test_a_cancelled_event_takes_no_attendance(client, organiser, held):
    event, (ada, _, _) = held
    programme.cancel_event(event)
    db.session.commit()
    client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id)]})
    assert count(Attendance) == 0
    assert "can't be recorded" in plain(client.get(f"/organiser/fringe/{event.id}/attendance"))


def test_a_persons_warm_up_history_is_on_their_organiser_page(client, organiser, held):
    event, (ada, grace, _) = held
    later = ff.event("Apprenticeships")
    dropped = ff.event("Democracy")
    ff.signed_up(ada, later)
    ff.signed_up(ada, dropped)
    signups.cancel_signup(ada, dropped)
    db.session.commit()
    client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id)]})

    page = plain(client.get(f"/organiser/invitations/{ada.id}"))
    assert "Warm-up events Warmed up" in page
    assert "1 of 3 fringe events attended" in page
    assert "Intergenerational support · Attended" in page
    assert "Apprenticeships · Signed up" in page and "Democracy · Cancelled their sign-up" in page
    other = plain(client.get(f"/organiser/invitations/{grace.id}"))
    assert "Signed up, didn't attend" in other and "Warmed up" not in other


def test_the_organisers_programme_page_counts_sign_ups_and_attendance(client, organiser, held):
    event, (ada, _, _) = held
    client.post(f"/organiser/fringe/{event.id}/attendance", data={"attended": [str(ada.id)]})
    page = plain(client.get("/organiser/fringe/"))
    assert "Intergenerational support" in page and "Finished" in page
    assert "Fringe" in page  # the organiser nav has the link


def test_organisers_create_an_event_with_a_form(client, organiser):
    response = client.post(
        "/organiser/fringe/new",
        data={
            "title": "Ten green social enterprises",
            "theme": "Social enterprise enquiry",
            "description": "Meet them.",
            "host_organisation": "BT Adastral Park",
            "host_lead": "Andrew Bacon",
            "venue": "OrbisEnergy",
            "address": "Wilde Street, Lowestoft NR32 1XH",
            "starts_at": "2027-09-23T10:00",
            "ends_at": "2027-09-23T13:00",
            "capacity": "40",
        },
    )
    assert response.status_code == 302
    event = db.session.scalars(select(FringeEvent)).one()
    assert event.slug == "ten-green-social-enterprises" and event.capacity == 40
    assert event.starts_at.isoformat() == "2027-09-23T09:00:00+00:00"  # 10am BST
    bad = client.post(
        "/organiser/fringe/new",
        data={"title": "Backwards", "venue": "X", "starts_at": "2027-09-23T10:00", "ends_at": "2027-09-23T09:00"},
    )
    assert bad.status_code == 422 and "The event must end after it starts." in plain(bad)
    lower = client.post(
        f"/organiser/fringe/{event.id}/edit",
        data={
            "title": event.title,
            "venue": event.venue,
            "starts_at": "2027-09-23T10:00",
            "ends_at": "2027-09-23T13:00",
            "capacity": "-1",
        },
    )
    assert lower.status_code == 422
    assert count(FringeEvent) == 1


def test_the_capacity_cannot_go_below_the_people_signed_up(app):
    f.summit()
    event = ff.event("Small", capacity=3)
    for _ in range(2):
        ff.signed_up(f.invitation(), event)
    data = programme.EventData(
        title=event.title, venue=event.venue, starts_at=event.starts_at, ends_at=event.ends_at, capacity=1
    )
    with pytest.raises(ValidationFailed, match="2 people already signed up"):
        programme.update_event(event, data)
    db.session.rollback()


def test_the_demo_loads_twelve_events_with_sign_ups_and_warmed_up_delegates(app, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "12 new fringe events" in result.output
    db.session.expire_all()
    events = db.session.scalars(select(FringeEvent).order_by(FringeEvent.starts_at)).all()
    assert len(events) == 12 and len({e.venue for e in events}) >= 10
    from app.core.summit.settings import get_summit

    summit = get_summit()
    assert all(e.ends_at < summit.starts_at for e in events)
    assert all(e.starts_at.astimezone(LONDON).weekday() < 5 for e in events)
    assert sum(1 for e in events if e.capacity) >= 3
    now = utcnow()
    past = [e for e in events if e.starts_at < now]
    assert past and len(past) < 12
    for event in events:  # the counters agree with the rows
        assert event.places_taken == count(
            FringeSignup, FringeSignup.fringe_event_id == event.id, FringeSignup.state == SignupState.CONFIRMED
        )
        assert event.capacity is None or event.places_taken <= event.capacity
    assert count(Attendance, Attendance.walk_in.is_(True)) > 0
    assert all(count(Attendance, Attendance.fringe_event_id == e.id) == 0 for e in events if e.starts_at > now)
    warmed_up = db.session.scalar(
        select(func.count(func.distinct(Attendance.invitation_id)))
        .join(Invitation)
        .where(Invitation.state == InvitationState.REGISTERED, Attendance.fringe_event_id.is_not(None))
    )
    assert warmed_up > 10
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0 and "0 new fringe events" in again.output
    assert count(FringeEvent) == 12
