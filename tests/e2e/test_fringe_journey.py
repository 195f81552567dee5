"""A delegate's fringe journey in a real browser at phone width: sign up for two events, cancel one, and
download a calendar that holds exactly the summit and the one event still booked."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from app.core.calendar import fringe_uid, summit_uid
from app.core.db import db, utcnow
from fringe_events.models import FringeEvent, FringeSignup, SignupState
from invitations import journey
from invitations.models import Invitation
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.calendar_check import parse_both

TITLES = (
    "Social marketing: changing what people do",
    "High demand families: one family, many agencies",
    "Suffolk Apprenticeships: opening doors",
)


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways: {width}px wide at 360px"


def test_delegate_signs_up_for_two_fringe_events_cancels_one_and_downloads_their_calendar(live_server, page, shot):
    ada = live_server.delegates["ada"]
    with live_server.app.app_context():
        journey.register(db.session.get(Invitation, ada.id), f.details(name=ada.name))
        db.session.commit()
        soon = utcnow().replace(hour=13, minute=0, second=0, microsecond=0) + timedelta(days=12)
        events = {
            title: ff.event(title, starts_at=soon + timedelta(days=7 * i), capacity=30 if i == 1 else None)
            for i, title in enumerate(TITLES)
        }
        ids = {title: e.id for title, e in events.items()}

    # From the personal page to the programme.
    page.goto(live_server.link("ada"))
    programme_link = page.get_by_role("link", name=re.compile(r"^See all 3 fringe events$"))
    expect(programme_link).to_be_visible()
    fits_the_screen(page)
    programme_link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fringe events")
    fits_the_screen(page)
    shot(page, "fringe-01-programme")

    for title in TITLES[:2]:
        page.get_by_role("button", name=f"Sign up for {title}").click()
        expect(page.get_by_role("status")).to_contain_text(f"You're signed up for {title}")
    expect(page.get_by_role("region", name="Your events")).to_contain_text(TITLES[0])
    expect(page.get_by_role("region", name="Your events")).to_contain_text(TITLES[1])
    fits_the_screen(page)
    shot(page, "fringe-02-signed-up-for-two")

    # Cancel one from its own page.
    page.get_by_role("link", name=TITLES[1]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLES[1])
    fits_the_screen(page)
    shot(page, "fringe-03-event-page")
    page.get_by_role("button", name=f"Cancel my sign-up for {TITLES[1]}").click()
    expect(page.get_by_role("status")).to_contain_text(f"You're no longer signed up for {TITLES[1]}")
    expect(page.get_by_role("button", name=f"Sign up for {TITLES[1]}")).to_be_visible()

    # Back on the personal page: the calendar card offers the file.
    page.goto(live_server.link("ada"))
    add = page.get_by_role("link", name="Add to calendar", exact=True)
    expect(add).to_be_visible()
    subscribe = page.get_by_role("link", name="Subscribe")
    # The feed's own address, never the personal link: a subscription hands it to the calendar's servers.
    expect(subscribe).to_have_attribute("href", re.compile(r"^webcal://127\.0\.0\.1:\d+/calendar/feed/[^/]+\.ics$"))
    fits_the_screen(page)
    shot(page, "fringe-04-personal-page")

    with page.expect_download() as download_info:
        add.click()
    download = download_info.value
    assert download.suggested_filename == "new-horizons.ics"
    downloaded = open(download.path(), "rb").read()
    href = add.get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"

    for body in (downloaded, response.body()):
        parsed = parse_both(body)
        assert parsed.method == "PUBLISH"
        assert sorted(e.uid for e in parsed.entries) == sorted([summit_uid(), fringe_uid(ids[TITLES[0]])])
        assert all(e.status == "CONFIRMED" for e in parsed.entries)

    with live_server.app.app_context():
        rows = {
            s.fringe_event_id: s.state
            for s in db.session.scalars(select(FringeSignup).where(FringeSignup.invitation_id == ada.id))
        }
        assert rows == {ids[TITLES[0]]: SignupState.CONFIRMED, ids[TITLES[1]]: SignupState.CANCELLED}
        taken = {e.id: e.places_taken for e in db.session.scalars(select(FringeEvent))}
        assert taken == {ids[TITLES[0]]: 1, ids[TITLES[1]]: 0, ids[TITLES[2]]: 0}


def test_an_organiser_ticks_everyone_shown_and_undoes_one(live_server, browser, shot):
    with live_server.app.app_context():
        organiser = f.user(name="Olive Organiser")
        held = ff.event("Counting Suffolk", starts_at=utcnow().replace(microsecond=0) - timedelta(hours=3))
        for key in ("ada", "grace"):
            db.session.add(FringeSignup(invitation_id=live_server.delegates[key].id, fringe_event_id=held.id))
        held.places_taken = 2
        db.session.commit()
        held_id, email = held.id, organiser.email
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()

    page.goto(f"{live_server.url}/organiser/fringe/{held_id}/attendance")
    page.get_by_role("button", name="Tick everyone shown").click()
    expect(page.get_by_label("Ada Lovelace")).to_be_checked()
    expect(page.get_by_label("Grace Hopper")).to_be_checked()
    page.get_by_role("button", name="Mark the ticked people as attended").click()
    expect(page.get_by_role("status")).to_contain_text("2 people marked as attended")
    shot(page, "fringe-05-attendance")

    page.get_by_role("button", name="Undo Grace Hopper").click()
    expect(page.get_by_role("status")).to_contain_text("Grace Hopper is no longer marked as attending")
    with live_server.app.app_context():
        from fringe_events.models import Attendance

        rows = db.session.scalars(select(Attendance).where(Attendance.fringe_event_id == held_id)).all()
        assert [r.invitation_id for r in rows] == [live_server.delegates["ada"].id]
        assert rows[0].method.value == "list" and not rows[0].walk_in
    context.close()
