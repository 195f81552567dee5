"""Calendar files as served and as emailed, each read back with two parsers: the personal feed, the public files,
the clocks going back, and changes of time, place and status that tell everyone affected."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.calendar import fringe_uid, summit_uid
from app.core.db import db, utcnow
from app.core.mail.links import conceal, reveal
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from app.core.timefmt import input_value, span
from fringe_events import programme, signups
from fringe_events.models import FringeEvent
from invitations import handing_on, journey, links, people
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import FreshSessionClient
from tests.support.calendar_check import end_of_bst, parse_both
from tests.support.fringe_factories import link
from tests.support.mail_helpers import delivered
from tests.support.pages import plain, text


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


def feed(client, invitation):
    response = client.get(link(invitation, "calendar.ics"))
    assert response.status_code == 200
    return response, parse_both(response.get_data())


def edit_form(event: FringeEvent, **overrides) -> dict:
    """The edit form as the organiser's browser sends it, with the event's current values."""
    data = {
        "title": event.title,
        "theme": event.theme,
        "description": event.description,
        "host_organisation": event.host_organisation,
        "host_lead": event.host_lead,
        "venue": event.venue,
        "address": event.address,
        "starts_at": input_value(event.starts_at),
        "ends_at": input_value(event.ends_at),
        "capacity": "" if event.capacity is None else str(event.capacity),
    }
    data.update(overrides)
    return data


def test_the_personal_feed_holds_the_summit_once_registered_and_the_confirmed_sign_ups(app, client):
    f.summit()
    ada = f.invitation(name="Ada Lovelace")
    going, dropped, called_off, other = (ff.event(t) for t in ("Going", "Dropped", "Called off", "Someone else's"))
    for event in (going, dropped, called_off):
        ff.signed_up(ada, event)
    ff.signed_up(f.invitation(), other)
    signups.cancel_signup(ada, dropped)
    programme.cancel_event(called_off)
    db.session.commit()

    response, parsed = feed(client, ada)

    assert response.content_type == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert parsed.method == "PUBLISH"
    entries = parsed.by_uid()
    assert set(entries) == {fringe_uid(going.id), fringe_uid(called_off.id)}  # not registered: no summit yet
    assert entries[fringe_uid(going.id)].status == "CONFIRMED"
    assert entries[fringe_uid(called_off.id)].status == "CANCELLED"
    assert entries[fringe_uid(called_off.id)].sequence == 1 and entries[fringe_uid(going.id)].sequence == 0
    assert entries[fringe_uid(going.id)].url == "http://localhost/"  # the public page, never the personal link
    assert entries[fringe_uid(going.id)].location == "Endeavour House, 8 Russell Road, Ipswich IP1 2BX"

    journey.register(ada, f.details(name=ada.name))
    db.session.commit()
    _, parsed = feed(client, ada)
    assert set(parsed.by_uid()) == {summit_uid(), fringe_uid(going.id), fringe_uid(called_off.id)}
    summit_entry = parsed.by_uid()[summit_uid()]
    assert summit_entry.location == "Adastral Park, Martlesham Heath, Ipswich IP5 3RE"
    assert summit_entry.url == "http://localhost/"


def feed_token(invitation) -> str:
    from app.core.security import calendar_feed_token

    return calendar_feed_token(invitation.link_selector)


@both_databases
def test_the_feed_has_a_token_of_its_own_that_opens_the_feed_and_nothing_else(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    going = ff.event("Going")
    ff.signed_up(ada, going)
    token, feed_of_ada = links.token_for(ada), feed_token(ada)
    assert feed_of_ada != token and len(feed_of_ada) == len(token) == 44  # 128-bit selector, 128-bit MAC

    html = text(client.get(link(ada)))
    # The page offers its own download under the personal link, and the feed's own address to subscribe to.
    assert f'href="{link(ada, "calendar.ics")}"' in html
    assert f'href="webcal://localhost/calendar/feed/{feed_of_ada}.ics"' in html
    assert "webcal://localhost/i/" not in html

    served = client.get(f"/calendar/feed/{feed_of_ada}.ics")
    assert served.status_code == 200 and served.content_type == "text/calendar; charset=utf-8"
    assert served.headers["Cache-Control"] == "no-store" and served.headers["Referrer-Policy"] == "same-origin"
    own = client.get(link(ada, "calendar.ics"))
    for body in (served.get_data(as_text=True), own.get_data(as_text=True)):
        parsed = parse_both(body.encode())
        assert {entry.uid for entry in parsed.entries} == {summit_uid(), fringe_uid(going.id)}
        assert {entry.url for entry in parsed.entries} == {"http://localhost/"}
        unfolded = body.replace("\r\n ", "")
        assert token not in unfolded and feed_of_ada not in unfolded and "/i/" not in unfolded

    # The feed's token opens nothing but the feed; the personal link's token is no feed.
    for path in (f"/i/{feed_of_ada}", f"/i/{feed_of_ada}/calendar.ics", f"/i/{feed_of_ada}/badge.png"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/calendar/feed/{token}.ics").status_code == 404
    assert client.get("/calendar/feed/not-a-real-token.ics").status_code == 404
    assert client.get(f"/sign-in/link/{feed_of_ada}").status_code == 404
    # Stored mail and provider events conceal a feed's address as they conceal a personal link.
    address = f"webcal://localhost/calendar/feed/{feed_of_ada}.ics"
    concealed = conceal(address)
    assert feed_of_ada not in concealed and "{{calendar-token:" in concealed and reveal(concealed) == address


@both_databases
def test_a_new_link_a_hand_on_or_a_revocation_takes_the_feed_with_it(app, client):
    f.summit()
    ada, bob, cy = f.registered(name="Ada"), f.registered(name="Bob"), f.registered(name="Cy")
    before = {who.id: feed_token(who) for who in (ada, bob, cy)}
    for who in (ada, bob, cy):
        assert client.get(f"/calendar/feed/{before[who.id]}.ics").status_code == 200
    links.reissue_link(ada)
    colleague = handing_on.hand_on(
        bob, handing_on.Colleague(name="Bea Colleague", email="bea@example.org", organisation="Suffolk")
    )
    people.revoke_invitation(cy)
    db.session.commit()
    for who in (ada, bob, cy):
        assert client.get(f"/calendar/feed/{before[who.id]}.ics").status_code == 404, who.name
    assert client.get(f"/calendar/feed/{feed_token(ada)}.ics").status_code == 200  # the new link's feed
    assert client.get(f"/calendar/feed/{feed_token(colleague)}.ics").status_code == 200  # and the colleague's own


@both_databases
def test_no_emailed_calendar_file_carries_the_personal_link(app, client):
    from app.core.mail.compose import ATTACHMENT_BUILDERS

    summit = f.summit()
    ada = f.invitation(name="Ada Lovelace")
    talk = ff.event("Social marketing")
    journey.register(ada, f.details(name="Ada Lovelace"))
    ff.signed_up(ada, talk)
    signups.cancel_signup(ada, talk)
    db.session.commit()
    sent = [delivered(m) for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    token = links.token_for(ada)
    calendars = [a for m in sent for a in m.attachments if a["content_type"].startswith("text/calendar")]
    assert len(calendars) == 3  # the confirmation, the sign-up and its cancellation
    for item in calendars:
        body = base64.b64decode(item["content_b64"])
        parsed = parse_both(body)
        assert {entry.url for entry in parsed.entries} == {"http://localhost/"}
        assert token.encode() not in body.replace(b"\r\n ", b"") and b"/i/" not in body.replace(b"\r\n ", b"")
    # A message queued before this change names the personal link as the entry's URL: it is not used.
    legacy = ATTACHMENT_BUILDERS["summit_ics"](summit=summit, url=links.personal_url(ada), attendee=ada)
    assert b"/i/" not in legacy.replace(b"\r\n ", b"") and b"URL:http://localhost/" in legacy
    legacy = ATTACHMENT_BUILDERS["fringe_ics"](
        event=talk, url=links.personal_url(ada), attendee=ada, cancelled=None, method="REQUEST"
    )
    assert b"/i/" not in legacy.replace(b"\r\n ", b"") and b"URL:http://localhost/" in legacy


def test_events_either_side_of_the_clocks_going_back_are_served_at_the_right_instant(app, client):
    f.summit()
    ada = f.invitation()
    change = end_of_bst(utcnow().year + 1)
    # 2pm London on the Thursday before (BST, 13:00 UTC) and the Thursday after (GMT, 14:00 UTC).
    before = ff.event("Before", starts_at=datetime(change.year, 10, change.day - 3, 13, 0, tzinfo=UTC))
    after = ff.event("After", starts_at=datetime(change.year, 10, change.day, 14, 0, tzinfo=UTC) + timedelta(days=4))
    for event in (before, after):
        ff.signed_up(ada, event)

    files = [feed(client, ada)[1]] + [
        parse_both(client.get(f"/calendar/fringe/{e.slug}.ics").get_data()) for e in (before, after)
    ]
    files += [parse_both(ff.ics_of(m)[0]) for m in ff.messages("fringe_signed_up")]

    for parsed in files:
        for entry in parsed.entries:
            expected = before if entry.uid == fringe_uid(before.id) else after
            assert entry.starts_utc == expected.starts_at and entry.ends_utc == expected.ends_at
            assert entry.local_start.hour == 14 and entry.tzid == "Europe/London"
    page = plain(client.get(link(ada, "fringe")))
    assert "2pm–4pm" in page and "1pm" not in page  # shown in London time, both sides of the change


def test_the_public_summit_file(app, client):
    summit = f.summit()
    parsed = parse_both(client.get("/calendar/summit.ics").get_data())
    [entry] = parsed.entries
    assert parsed.method == "PUBLISH" and entry.uid == summit_uid()
    assert entry.starts_utc == summit.starts_at and entry.summary == summit.name
    assert entry.url == "http://localhost/"


@both_databases
def test_changing_a_fringe_events_time_emails_each_person_signed_up_once_with_the_same_uid(app, client, organiser):
    talk = ff.event("Social marketing", capacity=10)
    ada, grace, quitter, revoked = (
        f.invitation(name=n) for n in ("Ada Lovelace", "Grace Hopper", "Quentin Quit", "Rita Revoked")
    )
    for person in (ada, grace, quitter, revoked):
        ff.signed_up(person, talk)
    signups.cancel_signup(quitter, talk)
    people.revoke_invitation(revoked)
    db.session.commit()
    first_sequence = {
        m.to_email: parse_both(ff.ics_of(m)[0]).entries[0].sequence for m in ff.messages("fringe_signed_up")
    }
    before_feed = feed(client, ada)[1].by_uid()[fringe_uid(talk.id)]

    was = span(talk.starts_at, talk.ends_at)
    moved = talk.starts_at + timedelta(days=2, hours=1)
    response = client.post(
        f"/organiser/fringe/{talk.id}/edit",
        data=edit_form(talk, starts_at=input_value(moved), ends_at=input_value(moved + timedelta(hours=2))),
    )

    assert response.status_code == 302
    changed = ff.messages("fringe_changed")
    assert sorted(m.to_email for m in changed) == sorted([ada.email, grace.email])  # once each, and nobody else
    for message in changed:
        body, content_type = ff.ics_of(message)
        parsed = parse_both(body)
        [entry] = parsed.entries
        assert content_type == "text/calendar; method=REQUEST" and parsed.method == "REQUEST"
        assert entry.uid == fringe_uid(talk.id) and entry.sequence > first_sequence[message.to_email]
        assert entry.starts_utc == moved and entry.attendees == (f"mailto:{message.to_email}",)
        assert "now " in delivered(message).body_text and "(was " in delivered(message).body_text
    after_feed = feed(client, ada)[1].by_uid()[fringe_uid(talk.id)]
    assert after_feed.uid == before_feed.uid and after_feed.sequence == before_feed.sequence + 1

    flashed = plain(client.get(f"/organiser/fringe/{talk.id}"))  # the page the organiser lands on
    assert f"What changed: When: {was} → {span(moved, moved + timedelta(hours=2))}" in flashed
    assert "We've emailed the 2 people signed up" in flashed
    page = plain(client.get(f"/organiser/fringe/{talk.id}"))  # and it stays on the event page
    assert "What changed" in page and "Emailed 2 people signed up" in page
    assert was in page and span(moved, moved + timedelta(hours=2)) in page


def test_editing_only_the_description_tells_nobody_and_keeps_the_sequence(app, client, organiser):
    talk = ff.event("Role models")
    ff.signed_up(f.invitation(), talk)
    response = client.post(f"/organiser/fringe/{talk.id}/edit", data=edit_form(talk, description="Now with a panel."))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(FringeEvent, talk.id).ics_sequence == 0
    assert ff.messages("fringe_changed") == []
    page = plain(client.get(f"/organiser/fringe/{talk.id}"))
    assert "the time and place are unchanged" in page.lower() or "the time and place stayed the same" in page


def test_moving_the_place_tells_people_what_moved(app, client, organiser):
    talk = ff.event("Democracy")
    ada = f.invitation(name="Ada Lovelace")
    ff.signed_up(ada, talk)
    response = client.post(
        f"/organiser/fringe/{talk.id}/edit",
        data=edit_form(talk, venue="Ipswich Town Hall", address="Cornhill, Ipswich IP1 1DH"),
    )
    assert response.status_code == 302
    [message] = ff.messages("fringe_changed")
    assert "Where: now Ipswich Town Hall, Cornhill, Ipswich IP1 1DH" in delivered(message).body_text
    assert "was Endeavour House, 8 Russell Road, Ipswich IP1 2BX" in delivered(message).body_text
    entry = parse_both(ff.ics_of(message)[0]).entries[0]
    assert entry.location == "Ipswich Town Hall, Cornhill, Ipswich IP1 1DH" and entry.sequence == 1
    page = plain(client.get(f"/organiser/fringe/{talk.id}"))
    assert "Where" in page and "Ipswich Town Hall" in page and "Endeavour House" in page


def test_cancelling_and_reinstating_an_event(app, client, organiser):
    talk = ff.event("Gypsy and Traveller communities")
    ada = f.invitation(name="Ada Lovelace")
    ff.signed_up(ada, talk)

    assert client.get(f"/organiser/fringe/{talk.id}/cancel").status_code == 200
    response = client.post(f"/organiser/fringe/{talk.id}/cancel", data={"reason": "The venue flooded."})
    assert response.status_code == 302
    [message] = ff.messages("fringe_cancelled")
    body, content_type = ff.ics_of(message)
    parsed = parse_both(body)
    assert content_type == "text/calendar; method=CANCEL" and parsed.method == "CANCEL"
    assert parsed.entries[0].status == "CANCELLED" and parsed.entries[0].sequence == 1
    assert parsed.entries[0].uid == fringe_uid(talk.id)
    assert "The venue flooded." in delivered(message).body_text
    assert feed(client, ada)[1].by_uid()[fringe_uid(talk.id)].status == "CANCELLED"
    assert parse_both(client.get(f"/calendar/fringe/{talk.slug}.ics").get_data()).entries[0].status == "CANCELLED"
    page = plain(client.get(f"/organiser/fringe/{talk.id}"))
    assert "Cancelled" in page and "Reason given: The venue flooded." in page
    assert "This event is cancelled" in plain(client.get(link(ada, f"fringe/{talk.slug}")))

    assert client.post(f"/organiser/fringe/{talk.id}/reinstate").status_code == 302
    back = [m for m in ff.messages("fringe_changed") if m.to_email == ada.email]
    assert len(back) == 1
    parsed = parse_both(ff.ics_of(back[0])[0])
    assert parsed.method == "REQUEST" and parsed.entries[0].status == "CONFIRMED" and parsed.entries[0].sequence == 2
    assert "It's back on" in delivered(back[0]).body_text


def test_changing_the_summits_time_emails_every_registered_delegate(app, client, organiser):
    ada, grace = f.registered(name="Ada Lovelace"), f.registered(name="Grace Hopper")
    f.invitation(name="Not Registered")
    summit = db.session.scalars(select(Summit)).one()
    new_start = summit.starts_at + timedelta(days=1)
    before = parse_both(ff.ics_of(ff.messages("registration_confirmed", ada.email)[0])[0]).entries[0]

    data = {
        "name": summit.name,
        "tagline": summit.tagline,
        "venue": summit.venue,
        "address": summit.address,
        "starts_at": input_value(summit.starts_at + timedelta(days=1)),
        "ends_at": input_value(summit.ends_at + timedelta(days=1)),
        "registration_opens_at": "",
        "registration_closes_at": "",
        "capacity": "350",
        "target": "300",
        "offer_hold_hours": "48",
    }
    response = client.post("/organiser/summit", data=data)

    assert response.status_code == 302
    changed = ff.messages("summit_changed")
    assert sorted(m.to_email for m in changed) == sorted([ada.email, grace.email])
    for message in changed:
        parsed = parse_both(ff.ics_of(message)[0])
        [entry] = parsed.entries
        assert parsed.method == "REQUEST" and entry.uid == summit_uid() == before.uid
        assert entry.sequence == before.sequence + 1
        assert entry.starts_utc == new_start
        assert "When: now" in delivered(message).body_text
    page = plain(client.get("/organiser/summit"))
    assert "What changed: When:" in page and "We've emailed the 2 registered delegates" in page

    # Saving again without moving anything tells nobody.
    client.post("/organiser/summit", data=dict(data, capacity="340"))
    assert len(ff.messages("summit_changed")) == 2
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().ics_sequence == 1


def test_every_fringe_email_renders_in_both_versions_with_its_link(app):
    f.summit()
    ada = f.invitation(name="Ada Lovelace")
    talk = ff.event("Apprenticeships")
    ff.signed_up(ada, talk)
    programme.update_event(
        talk,
        programme.EventData(
            title=talk.title,
            venue="The Apex",
            address="Charter Square, Bury St Edmunds IP33 3FD",
            starts_at=talk.starts_at,
            ends_at=talk.ends_at,
        ),
    )
    programme.cancel_event(talk, reason="Sorry.")
    programme.reinstate_event(talk)
    db.session.commit()
    signups.cancel_signup(ada, talk)
    db.session.commit()
    kinds = ["fringe_signed_up", "fringe_changed", "fringe_cancelled", "fringe_signup_cancelled"]
    for kind in kinds:
        messages = ff.messages(kind, ada.email)
        assert messages, kind
        for message in map(delivered, messages):
            for body in (delivered(message).body_text, delivered(message).body_html):
                assert "Ada" in body and "/i/" in body and "{{" not in body
            assert (
                "The organisers of The Lives we Lead: New Horizons" in delivered(message).body_text
                and 'lang="en-GB"' in delivered(message).body_html
            )
