"""A fresh server's summit is set up in the browser: every organiser page leads to the set-up form until the
summit exists, the form goes through the same service as `summit configure`, and what it sets (who signs the
emails, the address they come from) is what every email and calendar file carries; the Summit page then saves
changes and refuses impossible ones."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from icalendar import Calendar
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db
from app.core.errors import Conflict, ValidationFailed
from app.core.mail import backends
from app.core.mail.delivery import send_pending
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import journey, summit_changes
from tests.support import both_databases
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.mail_helpers import delivered, delivered_attachment
from tests.support.organiser import summit_form
from tests.support.pages import csrf_from, text


@pytest.fixture
def organiser(app, client):
    f.summit()
    user = f.user(name="Olive Organiser")
    f.sign_in(client, user)
    return user


SET_UP = "/organiser/set-up"
GOOD = {
    "name": "Suffolk Futures Summit",
    "starts_at": "2027-10-13T09:30",
    "ends_at": "2027-10-13T16:00",
    "venue": "Trinity Park",
    "address": "Felixstowe Road, Ipswich IP3 8UH",
    "capacity": "200",
    "target": "180",
    "signatory_name": "Sarah Jones",
    "signatory_role": "Programme Manager, Suffolk County Council",
    "sender_email": "futures@suffolk.gov.uk",
}
# The organiser's first page, the dashboard, Summit, Leaders and Waiting list: each said "run `flask … summit
# configure`" on a fresh server.
ORGANISER_PAGES = ["/", "/organiser/", "/organiser/summit", "/organiser/leaders", "/organiser/waiting-list"]


def summits() -> int:
    return db.session.scalar(select(func.count()).select_from(Summit)) or 0


@both_databases
def test_every_organiser_page_leads_to_the_set_up_until_the_summit_exists(app, client):
    organiser = f.user(Role.ORGANISER)
    signed_in = client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD})
    first = client.get(signed_in.headers["Location"])  # where signing in takes them
    assert first.status_code in (302, 303) and first.headers["Location"].endswith(SET_UP)
    for path in ORGANISER_PAGES:
        response = client.get(path, follow_redirects=True)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and response.request.path == SET_UP, path
        assert "Set up the summit" in page and "flask" not in page and "summit configure" not in page, path
    # Once it exists, the pages are themselves again and the set-up page leads to the settings.
    client.post(SET_UP, data=GOOD)
    for path in ORGANISER_PAGES[1:]:
        assert client.get(path).status_code == 200, path
    assert client.get(SET_UP).headers["Location"].endswith("/organiser/summit")


def test_anyone_else_is_told_the_summit_is_coming_without_a_command(app, client):
    leader = f.user(Role.LEADER)
    f.sign_in(client, leader)
    response = client.get("/leader")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "The organisers are still setting the summit up" in page and "flask" not in page


@both_databases
def test_setting_the_summit_up_makes_it_through_the_service_and_records_it(app, client, runner):
    organiser = f.user(Role.ORGANISER, name="Olive Organiser")
    f.sign_in(client, organiser)
    form = client.get(SET_UP).get_data(as_text=True)
    assert 'name="capacity"' in form and 'name="signatory_name"' in form and 'name="sender_email"' in form

    response = client.post(SET_UP, data=GOOD)

    assert response.status_code == 302 and response.headers["Location"].endswith("/organiser/")
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert (summit.name, summit.venue, summit.address) == (GOOD["name"], GOOD["venue"], GOOD["address"])
    # UK time in, UTC stored: 13 October 2027 is British Summer Time (UTC+1).
    assert summit.starts_at == datetime(2027, 10, 13, 8, 30, tzinfo=UTC)
    assert summit.ends_at == datetime(2027, 10, 13, 15, 0, tzinfo=UTC)
    assert (summit.capacity, summit.target, summit.places_taken) == (200, 180, 0)
    assert (summit.signatory_name, summit.signatory_role, summit.sender_email) == (
        "Sarah Jones",
        "Programme Manager, Suffolk County Council",
        "futures@suffolk.gov.uk",
    )
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "summit.set_up")).one()
    assert event.actor_id == organiser.id and event.details["capacity"] == 200
    audit_page = client.get("/organiser/audit/").get_data(as_text=True)
    assert "set up the summit: Suffolk Futures Summit" in audit_page
    check = runner.invoke(args=["summit", "check"])
    assert check.exit_code == 0, check.output
    # A second set-up (another tab) changes nothing: the page leads to the settings.
    assert client.get(SET_UP).status_code == 302
    again = client.post(SET_UP, data={**GOOD, "name": "Something else"})
    assert again.status_code == 303 and summits() == 1
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().name == GOOD["name"]


@both_databases
@pytest.mark.parametrize(
    "change, field, sentence",
    [
        ({"ends_at": "2027-10-13T09:00"}, "ends_at", "The summit must end after it starts."),
        ({"target": "250"}, "target", "The target (250) can&#39;t be more than the capacity (200)."),
        ({"capacity": "0"}, "capacity", "Enter a capacity from 1 to 100,000 places."),
        ({"capacity": ""}, "capacity", "Enter the capacity: how many places there are."),
        ({"sender_email": "not an address"}, "sender_email", "Enter an email address, like events@suffolk.gov.uk"),
        ({"name": ""}, "name", "Enter the summit&#39;s name."),
    ],
)
def test_bad_input_gets_a_422_with_the_field_named_and_nothing_saved(app, client, change, field, sentence):
    f.sign_in(client, f.user(Role.ORGANISER))
    response = client.post(SET_UP, data={**GOOD, **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'<p class="field__error" id="{field}-error">' in page and sentence in page
    assert f'href="#{field}"' in page  # the summary at the top links to the field
    assert summits() == 0 and db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_only_organisers_may_set_the_summit_up(app, client):
    assert client.get(SET_UP).headers["Location"].startswith("/sign-in")
    for role in (Role.LEADER, Role.STEWARD):
        f.sign_in(client, f.user(role))
        assert client.get(SET_UP).status_code == 403
        assert client.post(SET_UP, data=GOOD).status_code == 403
        client.post("/sign-out")
    assert summits() == 0


def test_the_set_up_form_needs_its_csrf_token(tmp_path):
    application = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    application.test_client_class = FreshSessionClient
    with application.app_context():
        client = application.test_client()
        organiser = f.user(Role.ORGANISER)
        token = csrf_from(client.get("/sign-in").get_data(as_text=True))
        client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD, "csrf_token": token})

        refused = client.post(SET_UP, data=GOOD)
        assert refused.status_code == 422 and summits() == 0

        token = csrf_from(client.get(SET_UP).get_data(as_text=True))
        assert client.post(SET_UP, data={**GOOD, "csrf_token": token}).status_code == 302
        assert summits() == 1
        db.engine.dispose()


def _one_confirmation_for(email: str) -> OutboxMessage:
    inv = f.invitation(name="Ada Lovelace", email=email)
    journey.register(inv, f.details(name="Ada Lovelace"))
    db.session.commit()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "registration_confirmed", OutboxMessage.to_email == email)
    ).one()


def _one_confirmation() -> OutboxMessage:
    return _one_confirmation_for("ada@example.org")


@both_databases
def test_emails_are_signed_and_sent_by_whom_the_summit_says(app, client):
    f.sign_in(client, f.user(Role.ORGANISER))
    client.post(SET_UP, data=GOOD)
    message = _one_confirmation()

    sent = delivered(message)
    assert (sent.from_email, sent.from_name) == ("futures@suffolk.gov.uk", "Sarah Jones")
    assert "Sarah Jones\nProgramme Manager, Suffolk County Council\nSuffolk's public-sector partners" in sent.body_text
    assert "Sarah Jones<br>" in sent.body_html and "Programme Manager, Suffolk County Council<br>" in sent.body_html
    ics, _ = delivered_attachment(message, ".ics")
    entry = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(entry["ORGANIZER"]) == "mailto:futures@suffolk.gov.uk"
    assert entry["ORGANIZER"].params["CN"] == "Sarah Jones"
    backends.SENT_IN_MEMORY.clear()
    assert send_pending(backend=backends.MemoryBackend()).sent == 1
    assert backends.SENT_IN_MEMORY[0]["from"] == "futures@suffolk.gov.uk"
    # The public calendar file names the same organiser.
    public = Calendar.from_ical(client.get("/calendar/summit.ics").data).walk("VEVENT")[0]
    assert str(public["ORGANIZER"]) == "mailto:futures@suffolk.gov.uk"


def test_without_a_signatory_or_sender_the_settings_still_apply(app):
    f.summit(name="Suffolk Futures Summit")
    message = _one_confirmation()
    sent = delivered(message)
    # MAIL_FROM always; MAIL_FROM_NAME is empty by default, so the summit's own name.
    assert (sent.from_email, sent.from_name) == (app.config["MAIL_FROM"], "Suffolk Futures Summit")
    assert "The organisers of Suffolk Futures Summit\nSuffolk's public-sector partners" in sent.body_text
    ics, _ = delivered_attachment(message, ".ics")
    assert str(Calendar.from_ical(ics).walk("VEVENT")[0]["ORGANIZER"]) == f"mailto:{app.config['MAIL_FROM']}"
    # A MAIL_FROM_NAME that is set signs and sends every email (as before the summit had its own).
    app.config["MAIL_FROM_NAME"] = "Suffolk Partners Events"
    again = delivered(_one_confirmation_for("grace@example.org"))
    assert again.from_name == "Suffolk Partners Events"
    assert "Suffolk Partners Events\nSuffolk's public-sector partners" in again.body_text


def test_the_summit_settings_page_changes_the_signatory_and_sender(app, client):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    page = client.get("/organiser/summit").get_data(as_text=True)
    data = {
        "name": "The Lives we Lead: New Horizons",
        "venue": "Adastral Park",
        "address": "Adastral Park, Martlesham Heath, Ipswich IP5 3RE",
        "starts_at": "2027-10-14T09:30",
        "ends_at": "2027-10-14T16:30",
        "capacity": "350",
        "target": "300",
        "offer_hold_hours": "48",
        "signatory_name": "Ravi Patel",
        "signatory_role": "",
        "sender_email": "newhorizons@suffolk.gov.uk",
    }
    assert 'name="signatory_name"' in page
    assert client.post("/organiser/summit", data=data).status_code == 302
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert (summit.signatory_name, summit.sender_email) == ("Ravi Patel", "newhorizons@suffolk.gov.uk")
    sentence = client.get("/organiser/audit/").get_data(as_text=True)
    assert "the signatory from none to Ravi Patel" in sentence


@both_databases
def test_the_set_up_service_refuses_what_a_new_summit_cannot_have(app):
    """The rules live in the service too (the page's form checks them first, to show every mistake at once)."""
    good = summit_changes.SummitSetUp(
        name="Suffolk Futures Summit",
        venue="Trinity Park",
        address="Felixstowe Road, Ipswich IP3 8UH",
        starts_at=datetime(2027, 10, 13, 8, 30, tzinfo=UTC),
        ends_at=datetime(2027, 10, 13, 15, 0, tzinfo=UTC),
        capacity=200,
        target=180,
    )
    for change, field in (
        ({"capacity": 0}, "capacity"),
        ({"target": 201}, "target"),
        ({"ends_at": good.starts_at}, "ends_at"),
        ({"sender_email": "nobody"}, "sender_email"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            summit_changes.set_up_summit(replace(good, **change))
        assert refused.value.field == field
        db.session.rollback()
    assert summits() == 0
    summit_changes.set_up_summit(good)
    db.session.commit()
    with pytest.raises(Conflict):
        summit_changes.set_up_summit(replace(good, name="A second summit"))
    db.session.rollback()
    assert summits() == 1


def test_summit_settings_page_saves(app, client, organiser):
    assert client.get("/organiser/summit").status_code == 200

    response = client.post("/organiser/summit", data=summit_form(venue="The Hub"))

    assert response.status_code == 302
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert (
        summit.venue == "The Hub" and summit.capacity == 200 and summit.target == 180 and summit.offer_hold_hours == 24
    )
    # 9:30am in London in October is 8:30 UTC (British Summer Time).
    assert summit.starts_at == datetime(2027, 10, 14, 8, 30, tzinfo=UTC)
    assert summit.registration_closes_at == datetime(2027, 10, 7, 16, 0, tzinfo=UTC)
    assert summit.registration_opens_at is None


def test_summit_capacity_below_places_taken_is_refused(app, client, organiser):
    f.registered()
    f.registered()

    response = client.post("/organiser/summit", data=summit_form(capacity="1", venue="Changed Venue"))

    assert response.status_code == 422
    assert "The capacity cannot go below the 2 places already taken" in text(response)
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert summit.capacity == 350 and summit.venue == "Adastral Park" and summit.places_taken == 2


def test_summit_settings_ending_before_starting_is_refused(app, client, organiser):
    response = client.post("/organiser/summit", data=summit_form(ends_at="2027-10-14T08:00"))
    assert response.status_code == 422 and "The summit must end after it starts." in text(response)
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().capacity == 350
