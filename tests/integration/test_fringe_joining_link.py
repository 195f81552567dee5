"""An online fringe event's joining link is for the people signed up: on their own pages and in their sign-up email,
never on the page of someone who isn't signed up, and never in any calendar file, public or personal (those are
published, subscribed to and forwarded); and it must be a whole web address. ("Copy this event": test_fringe_copy.py.)"""

from __future__ import annotations

from icalendar import Calendar
from sqlalchemy import func, select

from app.core.auth.models import Role
from app.core.db import db
from app.core.mail.models import OutboxMessage
from fringe_events.models import FringeEvent
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.fringe_factories import TEAMS, event_form
from tests.support.mail_helpers import delivered, delivered_attachment


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
