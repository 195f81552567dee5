"""Signing up for fringe events over HTTP, with CSRF on as in production: sign up, cancel, a full event,
a cancelled event, links that are no longer live, and who may use the organisers' fringe screens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.auth.models import Role
from app.core.calendar import fringe_uid
from app.core.db import db, utcnow
from app.core.errors import InvalidState
from app.core.security import calendar_feed_token
from fringe_events import programme as fringe_programme
from fringe_events import signups as fringe_signups
from fringe_events.models import FringeEvent, FringeSignup, SignupState
from invitations import handing_on, links, people
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import FreshSessionClient, make_app
from tests.support.calendar_check import parse_both
from tests.support.fringe_factories import link
from tests.support.pages import csrf_from, plain, text
from tests.support.rows import count


@pytest.fixture
def csrf_app(tmp_path):
    application = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with application.app_context():
        yield application
        db.engine.dispose()


@pytest.fixture
def client(csrf_app):
    csrf_app.test_client_class = FreshSessionClient
    return csrf_app.test_client()


def signups(fringe_event: FringeEvent, state=SignupState.CONFIRMED) -> int:
    return count(FringeSignup, FringeSignup.fringe_event_id == fringe_event.id, FringeSignup.state == state)


def places_taken(fringe_event: FringeEvent) -> int:
    db.session.expire_all()
    return db.session.get(FringeEvent, fringe_event.id).places_taken


def post_form(client, page_url: str, action: str, **data):
    """Load the page, then post one of its forms with the page's own CSRF token."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def test_a_delegate_signs_up_and_cancels_from_their_link(client):
    f.summit()
    ada = f.invitation(name="Ada Lovelace")
    talk = ff.event("Social marketing", capacity=5)

    programme = client.get(link(ada, "fringe"))
    assert programme.status_code == 200
    assert programme.headers["Cache-Control"] == "no-store"
    assert "Social marketing" in plain(programme) and "5 places left" in plain(programme)

    # Without its CSRF token the POST is refused and changes nothing.
    refused = client.post(link(ada, f"fringe/{talk.slug}/sign-up"), data={"back": "programme"})
    assert refused.status_code == 303 and signups(talk) == 0  # back to the page, to press the button again

    response = post_form(client, link(ada, "fringe"), link(ada, f"fringe/{talk.slug}/sign-up"), back="programme")
    assert response.status_code == 302 and response.headers["Location"].endswith(link(ada, "fringe"))
    assert signups(talk) == 1 and places_taken(talk) == 1
    page = client.get(link(ada, "fringe"))
    assert "You're signed up for Social marketing" in plain(page)
    assert "Cancel my sign-up" in plain(page)

    # Their confirmation carries a REQUEST for the event's stable UID, addressed to them.
    [confirmation] = ff.messages("fringe_signed_up", ada.email)
    body, content_type = ff.ics_of(confirmation)
    parsed = parse_both(body)
    assert content_type == "text/calendar; method=REQUEST" and parsed.method == "REQUEST"
    assert parsed.entries[0].uid == fringe_uid(talk.id) and parsed.entries[0].attendees == (f"mailto:{ada.email}",)

    # A second tap signs nobody up twice.
    post_form(client, link(ada, "fringe"), link(ada, f"fringe/{talk.slug}/sign-up"), back="programme")
    assert signups(talk) == 1 and places_taken(talk) == 1 and len(ff.messages("fringe_signed_up")) == 1

    response = post_form(
        client, link(ada, f"fringe/{talk.slug}"), link(ada, f"fringe/{talk.slug}/cancel"), back="event"
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(link(ada, f"fringe/{talk.slug}"))
    assert signups(talk) == 0 and signups(talk, SignupState.CANCELLED) == 1 and places_taken(talk) == 0
    [goodbye] = ff.messages("fringe_signup_cancelled", ada.email)
    parsed = parse_both(ff.ics_of(goodbye)[0])
    assert parsed.method == "CANCEL" and parsed.entries[0].uid == fringe_uid(talk.id)
    assert "You're no longer signed up" in plain(client.get(link(ada, f"fringe/{talk.slug}")))

    # Signing up again reuses the one row (unique per person and event) and takes a place again.
    post_form(client, link(ada), link(ada, f"fringe/{talk.slug}/sign-up"), back="home")
    assert signups(talk) == 1 and count(FringeSignup) == 1 and places_taken(talk) == 1


def test_the_registered_page_shows_the_programme_and_the_calendar(client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    talk = ff.event("Intergenerational support")
    ff.signed_up(ada, talk)

    page = client.get(link(ada))
    words = plain(page)
    assert "Fringe events" in words and "Intergenerational support" in words
    assert "Add to calendar" in words and "Subscribe" in words
    html = text(page)
    assert f'href="{link(ada, "calendar.ics")}"' in html
    feed = calendar_feed_token(ada.link_selector)
    assert f'href="webcal://localhost/calendar/feed/{feed}.ics"' in html  # the feed's own token, not the link
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in html
    assert "https://outlook.live.com/calendar/0/deeplink/compose?" in html
    # The add links tell Google and Microsoft what and when, never the personal link.
    assert links.token_for(ada) not in "".join(
        part
        for part in html.split('"')
        if part.startswith("https://calendar.google") or part.startswith("https://outlook")
    )


def test_a_full_event_says_so_and_takes_nobody_else(client):
    f.summit()
    first, ada = f.invitation(name="First Person"), f.invitation(name="Ada Lovelace")
    small = ff.event("High demand families", capacity=1)
    before = client.get(link(ada, f"fringe/{small.slug}"))  # Ada opens the page while a place is left…
    assert "1 place left" in plain(before)
    ff.signed_up(first, small)  # …and someone else takes it first.

    response = client.post(
        link(ada, f"fringe/{small.slug}/sign-up"),
        data={"csrf_token": csrf_from(before.get_data(as_text=True)), "back": "event"},
    )

    assert response.status_code == 409
    assert "This event is full" in plain(response) and "all 1 places are taken" in plain(response)
    assert signups(small) == 1 and places_taken(small) == 1
    assert ff.messages("fringe_signed_up", ada.email) == []
    # The pages say so too, with no button left to press.
    for page in (client.get(link(ada, "fringe")), client.get(link(ada, f"fringe/{small.slug}"))):
        assert "Full" in plain(page)
        assert f"fringe/{small.slug}/sign-up" not in text(page)
    assert "This event is full" in plain(client.get(link(ada, f"fringe/{small.slug}")))


def test_a_cancelled_event_refuses_sign_ups(client):
    f.summit()
    ada = f.invitation(name="Ada Lovelace")
    talk = ff.event("Apprenticeships")
    page = client.get(link(ada, f"fringe/{talk.slug}"))
    fringe_programme.cancel_event(talk)
    db.session.commit()

    response = client.post(
        link(ada, f"fringe/{talk.slug}/sign-up"),
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "back": "event"},
    )

    assert response.status_code == 302
    assert "has been cancelled" in plain(client.get(link(ada, f"fringe/{talk.slug}")))
    assert signups(talk) == 0 and places_taken(talk) == 0


def test_a_past_event_refuses_sign_ups(app):
    f.summit()
    ada = f.invitation()
    held = ff.event("Held already", starts_at=utcnow() - timedelta(days=2))
    with pytest.raises(InvalidState, match="already started"):
        fringe_signups.sign_up(ada, held)


def test_revoked_and_handed_on_links_cannot_sign_up(client):
    f.summit()
    revoked, handed, other = f.invitation(name="Rita Revoked"), f.invitation(name="Hal Handed"), f.invitation()
    talk = ff.event("SLIC open studio")
    token_pages = {
        who: client.get(link(who, f"fringe/{talk.slug}")).get_data(as_text=True) for who in (revoked, handed)
    }
    people.revoke_invitation(revoked)
    handing_on.hand_on(
        handed, handing_on.Colleague(name="Colleague", email="colleague@example.org", organisation="Suffolk")
    )
    db.session.commit()

    for who, status in ((revoked, 404), (handed, 410)):
        data = {"csrf_token": csrf_from(token_pages[who]), "back": "event"}
        assert client.post(link(who, f"fringe/{talk.slug}/sign-up"), data=data).status_code == status
        assert client.get(link(who, "fringe")).status_code == status
        assert client.get(link(who, "calendar.ics")).status_code == status
        assert client.get(f"/calendar/feed/{calendar_feed_token(who.link_selector)}.ics").status_code == 404
    assert signups(talk) == 0 and places_taken(talk) == 0
    # The service says no too, whatever the path.
    db.session.expire_all()
    with pytest.raises(InvalidState, match="no longer live"):
        fringe_signups.sign_up(db.session.get(type(revoked), revoked.id), talk)
    db.session.rollback()
    fringe_signups.sign_up(db.session.get(type(other), other.id), talk)
    db.session.commit()
    assert signups(talk) == 1


def test_an_unknown_event_or_token_is_a_404(client):
    f.summit()
    ada = f.invitation()
    assert client.get(link(ada, "fringe/no-such-event")).status_code == 404
    assert client.get("/i/not-a-real-token/fringe").status_code == 404
    assert client.get("/i/not-a-real-token/calendar.ics").status_code == 404


ORGANISER_PAGES = [
    "/organiser/fringe/",
    "/organiser/fringe/new",
    "/organiser/fringe/{id}",
    "/organiser/fringe/{id}/edit",
    "/organiser/fringe/{id}/cancel",
    "/organiser/fringe/{id}/attendance",
    "/organiser/fringe/{id}/walk-in",
]
ORGANISER_POSTS = [
    "/organiser/fringe/new",
    "/organiser/fringe/{id}/edit",
    "/organiser/fringe/{id}/cancel",
    "/organiser/fringe/{id}/reinstate",
    "/organiser/fringe/{id}/attendance",
    "/organiser/fringe/{id}/attendance/undo",
    "/organiser/fringe/{id}/walk-in",
]


@pytest.mark.parametrize("role", [None, Role.LEADER, Role.STEWARD])
def test_organiser_fringe_screens_refuse_everyone_else(app, role):
    app.config["WTF_CSRF_ENABLED"] = False  # so a refusal here is the role check, not a missing token
    client = app.test_client()
    f.summit()
    talk = ff.event("Social marketing")
    if role is not None:
        f.sign_in(client, f.user(role=role))
    for url in ORGANISER_PAGES:
        response = client.get(url.format(id=talk.id))
        if role is None:
            assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url
        else:
            assert response.status_code == 403, url
    for url in ORGANISER_POSTS:
        response = client.post(url.format(id=talk.id), data={"reason": "x", "invitation_id": "1", "attended": "1"})
        assert response.status_code == (302 if role is None else 403), url
    db.session.expire_all()
    assert db.session.get(FringeEvent, talk.id).status.value == "scheduled"


def test_the_public_calendar_files_need_no_sign_in_and_carry_nothing_personal(client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    talk = ff.event("Counting Suffolk")
    ff.signed_up(ada, talk)
    for url in ("/calendar/summit.ics", f"/calendar/fringe/{talk.slug}.ics"):
        response = client.get(url)
        assert response.status_code == 200 and response.content_type == "text/calendar; charset=utf-8"
        assert "attachment" in response.headers["Content-Disposition"]
        body = response.get_data()
        assert ada.email.encode() not in body and links.token_for(ada).encode() not in body
        assert b"/i/" not in body and b"ATTENDEE" not in body
        assert parse_both(body).method == "PUBLISH"
    assert client.get("/calendar/fringe/nothing-here.ics").status_code == 404
    assert db.session.scalars(select(FringeSignup)).one().state == SignupState.CONFIRMED
