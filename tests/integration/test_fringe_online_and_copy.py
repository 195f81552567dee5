"""Online fringe events and "Copy this event".

An online event's joining link is for the people signed up: on their own pages and in their sign-up email,
never on the page of someone who isn't signed up, and never in any calendar file, public or personal (those are
published, subscribed to and forwarded). "Copy this event" fills the new-event form with an event's details."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.mail.models import OutboxMessage
from app.core.timefmt import input_value
from fringe_events import programme as fringe_programme
from fringe_events.models import FringeEvent, FringeSignup
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.mail_helpers import delivered, delivered_attachment

TEAMS = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_NjQ5ZDk0%40thread.v2/0?context=%7b%22Tid%22%7d"


def event_form(**changes) -> dict:
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(days=10)
    data = {
        "title": "Digital inclusion online",
        "theme": "Digital inclusion",
        "description": "An hour on what works.",
        "host_organisation": "Suffolk County Council",
        "host_lead": "Julian Herbert",
        "venue": "Online (Microsoft Teams)",
        "address": "",
        "joining_link": TEAMS,
        "starts_at": input_value(starts),
        "ends_at": input_value(starts + timedelta(hours=1)),
        "capacity": "40",
    }
    return {**data, **changes}


def calendar_entries(body: bytes) -> list:
    return Calendar.from_ical(body).walk("VEVENT")


@both_databases
def test_the_joining_link_is_for_the_people_signed_up_and_never_in_a_calendar_file(app, client):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    response = client.post("/organiser/fringe/new", data=event_form())
    assert response.status_code == 302
    event = db.session.scalars(select(FringeEvent)).one()
    assert event.joining_link == TEAMS
    client.post("/sign-out")
    ada = f.registered(name="Ada Lovelace")
    bob = f.invitation(name="Bob Babbage")

    # Not signed up: no link on the event's page, the programme or the personal page.
    for path in (ff.link(ada, f"fringe/{event.slug}"), ff.link(ada, "fringe"), ff.link(ada), ff.link(bob)):
        assert "teams.microsoft.com" not in client.get(path).get_data(as_text=True), path

    ff.signed_up(ada, event)

    # Signed up: on their event page and their own page, and in their sign-up email.
    event_page = client.get(ff.link(ada, f"fringe/{event.slug}")).get_data(as_text=True)
    assert "Join online" in event_page and f'href="{TEAMS.replace("&", "&amp;")}"' in event_page
    assert "Join online" in client.get(ff.link(ada)).get_data(as_text=True)
    assert "teams.microsoft.com" in client.get(ff.link(ada, "fringe")).get_data(as_text=True)
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "fringe_signed_up")).one()
    sent = delivered(message)
    assert TEAMS in sent.body_text and TEAMS.replace("&", "&amp;") in sent.body_html
    # Still nobody else's.
    assert "teams.microsoft.com" not in client.get(ff.link(bob, f"fringe/{event.slug}")).get_data(as_text=True)

    # No calendar file carries it: the emailed one, the public one, the personal feed, the programme's add links.
    emailed, _ = delivered_attachment(message, ".ics")
    public = client.get(f"/calendar/fringe/{event.slug}.ics").data
    feed = client.get(ff.link(ada, "calendar.ics")).data
    for name, body in (("emailed", emailed), ("public", public), ("personal feed", feed)):
        entries = [e for e in calendar_entries(body) if str(e["SUMMARY"]) == event.title]
        assert len(entries) == 1, name
        for prop in ("LOCATION", "URL", "DESCRIPTION"):
            assert "teams.microsoft.com" not in str(entries[0].get(prop, "")), (name, prop)
        assert b"teams.microsoft.com" not in body, name
    programme = client.get(ff.link(ada, "fringe")).get_data(as_text=True)
    google_links = [line for line in programme.splitlines() if "calendar.google.com" in line]
    assert google_links and not any("teams.microsoft.com" in line for line in google_links)


def test_a_joining_link_must_be_a_whole_web_address(app, client):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    response = client.post("/organiser/fringe/new", data=event_form(joining_link="the Teams meeting"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="field__error" id="joining_link-error">Paste the whole joining link' in page
    assert db.session.scalar(select(func.count()).select_from(FringeEvent)) == 0


@both_databases
def test_copy_this_event_fills_the_form_and_adds_a_copy_only_when_saved(app, client):
    f.summit()
    organiser = f.user(Role.ORGANISER, name="Olive Organiser")
    f.sign_in(client, organiser)
    client.post("/organiser/fringe/new", data=event_form())
    original = db.session.scalars(select(FringeEvent)).one()
    ff.signed_up(f.invitation(), original)
    assert "Copy this event" in client.get(f"/organiser/fringe/{original.id}").get_data(as_text=True)

    form = client.get(f"/organiser/fringe/{original.id}/copy")
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert 'value="Copy of Digital inclusion online"' in page
    for value in ("Online (Microsoft Teams)", "Julian Herbert", "Suffolk County Council", 'value="40"'):
        assert value in page
    assert input_value(original.starts_at) in page and "An hour on what works." in page
    assert db.session.scalar(select(func.count()).select_from(FringeEvent)) == 1  # nothing made by looking

    later = original.starts_at + timedelta(days=7)
    response = client.post(
        f"/organiser/fringe/{original.id}/copy",
        data=event_form(
            title="Copy of Digital inclusion online",
            starts_at=input_value(later),
            ends_at=input_value(later + timedelta(hours=1)),
        ),
    )

    db.session.expire_all()
    copy = db.session.scalars(select(FringeEvent).where(FringeEvent.id != original.id)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organiser/fringe/{copy.id}")
    assert copy.title == "Copy of Digital inclusion online" and copy.slug != original.slug
    for name in ("venue", "address", "description", "theme", "host_organisation", "host_lead", "capacity"):
        assert getattr(copy, name) == getattr(original, name), name
    assert copy.joining_link == TEAMS and copy.starts_at == later
    assert copy.places_taken == 0
    assert db.session.scalar(select(func.count()).where(FringeSignup.fringe_event_id == copy.id)) == 0
    assert db.session.get(FringeEvent, original.id).places_taken == 1  # the original is as it was
    created = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fringe.created").order_by(AuditEvent.id.desc())
    ).first()
    assert created.details["copied_from_id"] == original.id
    audit_page = client.get("/organiser/audit/").get_data(as_text=True)
    assert "as a copy of" in audit_page


def test_a_copy_with_a_mistake_is_sent_back_with_the_field_named(app, client):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    client.post("/organiser/fringe/new", data=event_form())
    original = db.session.scalars(select(FringeEvent)).one()
    response = client.post(f"/organiser/fringe/{original.id}/copy", data=event_form(ends_at=event_form()["starts_at"]))
    assert response.status_code == 422 and "The event must end after it starts." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FringeEvent)) == 1
    assert fringe_programme.get_event(original.id).title == "Digital inclusion online"
