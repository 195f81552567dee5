"""A rename reaches everything: renamed on the Summit page, the summit's new name is in every email's subject
that names it and in every banner, in the delegate's page title and band, and in the calendar files'
SUMMARY and DESCRIPTION; the old name is nowhere."""

from __future__ import annotations

import re
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from app.core.timefmt import input_value
from fringe_events import programme, signups
from invitations import audiences, chasing, handing_on, journey, mailing, summit_changes
from invitations.mailing import send_current_link
from invitations.models import Invitation
from tests.support import both_databases
from tests.support import factories as f
from tests.support.mail_helpers import delivered, delivered_attachment

NEW = "Suffolk Futures Summit"
OLD = "New Horizons"  # in the default name, "The Lives we Lead: New Horizons"
# Every kind whose subject names the summit (the others name a fringe event, or say what happened).
SUBJECT_NAMES_THE_SUMMIT = {
    "invitation",
    "reminder",
    "registration_confirmed",
    "details_changed",
    "registration_cancelled",
    "waitlist_joined",
    "place_offered",
    "colleague_invited",
    "handed_on",
    "your_link",
    "sign_in_link",
    "summit_changed",
    "leader_nudge",
}


def rename_on_the_summit_page(client, name: str) -> None:
    summit = db.session.scalars(select(Summit)).one()
    data = {
        "name": name,
        "tagline": summit.tagline,
        "venue": summit.venue,
        "address": summit.address,
        "starts_at": input_value(summit.starts_at),
        "ends_at": input_value(summit.ends_at),
        "capacity": str(summit.capacity),
        "target": str(summit.target),
        "offer_hold_hours": str(summit.offer_hold_hours),
    }
    response = client.post("/organiser/summit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().name == name


def every_kind_of_email(leader) -> None:
    """One message of each kind the product sends, after the rename."""
    now = db.session.scalars(select(Summit)).one().starts_at - timedelta(days=30)
    ada, bob, cara = (f.invitation(name=n, champion=leader) for n in ("Ada Lovelace", "Bob Babbage", "Cara Carter"))
    for person in (ada, bob, cara):
        mailing.send_invitation(person, now=now)
    db.session.commit()
    mailing.send_reminders(audiences.Audience(state="not_answered"), quiet_days=0)
    journey.register(ada, f.details(name="Ada Lovelace"))
    journey.update_details(ada, f.details(name="Ada Lovelace", dietary="Vegetarian"))
    journey.register(bob, f.details(name="Bob Babbage"))
    db.session.commit()
    journey.join_waitlist(cara)
    journey.cancel_registration(ada)  # Cara is offered Ada's place
    handing_on.hand_on(
        bob, handing_on.Colleague(name="Cy Colleague", email="cy@example.org", organisation="Babergh DC")
    )
    db.session.commit()
    send_current_link(cara.email)
    credentials.send_sign_in_link(leader.email)
    chasing.nudge(ada, leader, chasing.default_nudge_message(ada, leader))
    db.session.commit()
    summit = db.session.scalars(select(Summit)).one()
    summit_changes.change_summit(starts_at=summit.starts_at + timedelta(hours=1), ends_at=summit.ends_at)
    db.session.commit()
    event = programme.create_event(
        programme.EventData(
            title="Data for good",
            venue="Endeavour House",
            address="8 Russell Road, Ipswich IP1 2BX",
            starts_at=now,
            ends_at=now + timedelta(hours=2),
        )
    )
    signups.sign_up(cara, event, now=now - timedelta(days=1))
    db.session.commit()


@both_databases
def test_a_rename_reaches_every_subject_banner_title_and_calendar(app, client):
    f.summit(capacity=2, target=2)
    leader = f.user(Role.LEADER, name="Lena Leader")
    f.sign_in(client, f.user(Role.ORGANISER))
    rename_on_the_summit_page(client, NEW)

    every_kind_of_email(leader)

    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    kinds = {m.kind for m in messages}
    assert SUBJECT_NAMES_THE_SUMMIT | {"fringe_signed_up"} <= kinds, sorted(kinds)
    for message in messages:
        sent = delivered(message)
        if message.kind in SUBJECT_NAMES_THE_SUMMIT:
            assert NEW in sent.subject, (message.kind, sent.subject)
        banner = re.search(r'<div style="background-color:#0b5563[^>]*>\s*<p[^>]*>([^<]*)</p>', sent.body_html)
        assert banner and banner.group(1) == NEW, (message.kind, banner)
        for text in (sent.subject, sent.body_text, sent.body_html):
            assert OLD not in text, (message.kind, text[:300])
        for attachment in sent.attachments:
            if attachment["filename"].endswith(".ics"):
                ics, _ = delivered_attachment(message, ".ics")
                assert OLD not in ics.decode(), message.kind

    # The delegate's page: its title and the band at the top.
    cara = db.session.scalars(select(Invitation).where(Invitation.name == "Cara Carter")).one()
    page = client.get(f.link(cara)).get_data(as_text=True)
    assert f"<title>Your invitation · {NEW}</title>" in page or f"· {NEW}</title>" in page
    assert f'<p class="band__title">{NEW}</p>' in page
    assert OLD not in page

    # The calendar files: the summit's SUMMARY, a fringe event's DESCRIPTION, the personal feed's name.
    summit_entry = Calendar.from_ical(client.get("/calendar/summit.ics").data).walk("VEVENT")[0]
    assert str(summit_entry["SUMMARY"]) == NEW
    fringe = Calendar.from_ical(client.get("/calendar/fringe/data-for-good.ics").data)
    assert NEW in str(fringe.walk("VEVENT")[0]["DESCRIPTION"])
    feed = client.get(f.link(cara, "calendar.ics")).data.decode()
    assert NEW in feed and OLD not in feed
    for body in (client.get("/calendar/summit.ics").data, client.get("/calendar/fringe/data-for-good.ics").data):
        assert OLD not in body.decode()

    # Staff pages too: the header and footer carry the new name.
    organiser_page = client.get("/organiser/summit").get_data(as_text=True)
    assert f"· {NEW}</title>" in organiser_page and OLD not in organiser_page
