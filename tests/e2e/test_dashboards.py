"""The leader's page and the organisers' dashboard in a real browser at phone size (and the dashboard wide)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.mail.models import OutboxMessage
from fringe_events.models import Attendance, FringeEvent
from invitations import mailing, transitions
from invitations.models import Invitation, InvitationState, Registration, RegistrationState
from tests.support import factories as f
from tests.support.browser import PHONE
from tests.support.mail_helpers import delivered

S = InvitationState
LEADER_EMAIL = "lena.leader@babergh.example.gov.uk"
ORGANISER_EMAIL = "olive.organiser@suffolk.example.gov.uk"


def fits_the_screen(page, width: int = 360) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways: {scroll}px wide at {width}px"


def seed(live_server) -> dict[str, int]:
    """A leader with invitees in every group, an organiser, and a fringe event some attended."""
    with live_server.app.app_context():
        lena = f.user(role=Role.LEADER, name="Lena Leader", email=LEADER_EMAIL)
        lena.organisation = "Babergh District Council"
        f.user(role=Role.ORGANISER, name="Olive Organiser", email=ORGANISER_EMAIL)
        event = FringeEvent(
            slug="digital",
            title="Digital by default",
            venue="Ipswich Town Hall",
            starts_at=utcnow() - timedelta(days=4),
            ends_at=utcnow() - timedelta(days=4, hours=-2),
        )
        db.session.add(event)
        now = utcnow()
        ids = {}
        for inv_id in (live_server.delegates["ada"].id, live_server.delegates["grace"].id):
            inv = db.session.get(Invitation, inv_id)
            inv.champion_id = lena.id
            mailing.send_invitation(inv, now=now - timedelta(days=12))
        ids["ada"] = live_server.delegates["ada"].id
        people = [
            ("Katherine Johnson", dict(days=9, opened=True)),
            (
                "Dorothy Vaughan",
                dict(days=15, opened=True, state=S.DECLINED, reason="Chairing a council meeting that day."),
            ),
            ("Mary Jackson", dict(days=20, opened=True, state=S.REGISTERED)),
            ("Hedy Lamarr", dict(days=18, opened=True, state=S.REGISTERED, warm=True)),
            ("Annie Easley", dict(days=6, bounced=True)),
            ("Lena Leader", dict(days=10, opened=True, state=S.REGISTERED, email=LEADER_EMAIL)),
        ]
        for name, spec in people:
            inv = f.invitation(
                name=name, champion=lena, organisation="Babergh District Council", email=spec.get("email")
            )
            mailing.send_invitation(inv, now=now - timedelta(days=spec["days"]))
            if spec.get("opened"):
                inv.opened_at = now - timedelta(days=spec["days"] - 1)
            if spec.get("bounced"):
                inv.bounced_at, inv.bounce_reason = now - timedelta(days=5), "550 mailbox unavailable"
            state = spec.get("state", S.INVITED)
            transitions.lock(inv)
            inv.state = state
            if state == S.DECLINED:
                inv.decline_reason = spec["reason"]
            if state == S.REGISTERED:
                db.session.add(
                    Registration(
                        invitation=inv,
                        state=RegistrationState.CONFIRMED,
                        registered_at=now - timedelta(days=spec["days"] - 2),
                    )
                )
            db.session.flush()
            if spec.get("warm"):
                db.session.add(
                    Attendance(
                        invitation_id=inv.id,
                        event_key=event.event_key,
                        fringe_event_id=event.id,
                        checked_in_at=now - timedelta(days=4),
                    )
                )
            ids[name.split()[0].lower()] = inv.id
        db.session.commit()
        return ids


def sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_leader_sees_their_groups_and_sends_a_nudge(live_server, page, shot):
    ids = seed(live_server)
    sign_in(page, live_server.url, LEADER_EMAIL)
    expect(page).to_have_url(re.compile(r"/leader$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitees")
    expect(page.locator(".headline")).to_contain_text("2 of your 7 invitees are registered")
    groups = page.locator(".group__title")
    expect(groups).to_have_count(5)
    titles = [re.sub(r"\s*\d+$", "", t.strip()) for t in groups.all_inner_texts()]
    assert titles == [
        "Not opened yet",
        "Opened, not registered",
        "Declined",
        "Registered, no fringe event yet",
        "Registered and warmed up",
    ]
    not_opened = page.locator("#group-not_opened .person__name").all_inner_texts()
    assert not_opened == ["Annie Easley", "Ada Lovelace", "Grace Hopper"]  # the bounced address first
    expect(page.locator("#group-not_opened")).to_contain_text("Email bounced: wrong address?")
    expect(page.locator("#group-declined")).to_contain_text("Chairing a council meeting that day.")
    expect(page.locator(".you")).to_contain_text("You")
    expect(page.locator(".share")).to_contain_text("share of the target")
    fits_the_screen(page)
    for box in page.locator(".person__actions .button").all():
        assert box.bounding_box()["height"] >= 44, "a tap target under 44px"
    shot(page, "dash-01-leader-360")

    page.get_by_role("link", name="Edit first the nudge to Ada Lovelace").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nudge Ada Lovelace")
    message = page.get_by_label("Your message")
    expect(message).to_have_value(re.compile(r"^Dear Ada,"))
    fits_the_screen(page)
    shot(page, "dash-02-nudge-form-360")
    message.fill("Ada, it would be good to see you there: Babergh's ideas on digital services deserve a hearing.")
    page.get_by_role("button", name="Send the nudge").click()
    expect(page).to_have_url(re.compile(rf"/leader#notice-{ids['ada']}$"))
    notice = page.locator(f"#person-{ids['ada']} .person__notice")
    expect(notice).to_contain_text("Nudge sent: your message to Ada Lovelace is on its way")
    expect(notice).to_be_in_viewport()
    expect(notice).to_be_focused()
    expect(page.locator(f"#person-{ids['ada']}")).to_contain_text("the next nudge is possible from")
    expect(page.get_by_role("button", name="Nudge Ada Lovelace")).to_have_count(0)

    with live_server.app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "leader_nudge")).all()
        assert len(sent) == 1
        assert sent[0].invitation_id == ids["ada"] and sent[0].reply_to == LEADER_EMAIL
        assert "Babergh's ideas on digital services deserve a hearing" in delivered(sent[0]).body_text
        assert db.session.get(Invitation, ids["ada"]).last_nudged_at is not None


def test_an_organiser_opens_the_dashboard(live_server, page, browser, shot):
    seed(live_server)
    sign_in(page, live_server.url, ORGANISER_EMAIL)
    expect(page).to_have_url(re.compile(r"/organiser/$"))
    tiles = page.locator(".tile")
    expect(tiles.filter(has_text="registered").first).to_contain_text("3")
    expect(tiles.filter(has_text="capacity")).to_contain_text("10")
    expect(tiles.filter(has_text="target")).to_contain_text("8")
    expect(page.get_by_role("img", name="The funnel")).to_be_visible()
    funnel = page.locator("#funnel-caption").locator("xpath=..")
    expect(funnel).to_contain_text("Invited")
    expect(page.get_by_role("img", name="Registrations per day")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Conversion per leader"))).to_contain_text("Lena Leader")
    expect(page.get_by_role("table", name=re.compile("Attendance at each fringe event"))).to_contain_text(
        "Digital by default"
    )
    expect(page.get_by_role("heading", name=re.compile("Bounced emails"))).to_contain_text("(1)")
    fits_the_screen(page)
    shot(page, "dash-03-organiser-360")

    wide = browser.new_context(
        **{
            **PHONE,
            "viewport": {"width": 1280, "height": 900},
            "is_mobile": False,
            "has_touch": False,
            "device_scale_factor": 1,
        }
    )
    try:
        desk = wide.new_page()
        sign_in(desk, live_server.url, ORGANISER_EMAIL)
        expect(desk.get_by_role("heading", name="The funnel")).to_be_visible()
        fits_the_screen(desk, 1280)
        shot(desk, "dash-04-organiser-1280")
        desk.goto(f"{live_server.url}/organiser/leaders")
        expect(desk.get_by_role("link", name="Lena Leader")).to_be_visible()
        desk.get_by_role("link", name="Lena Leader").click()
        expect(desk.get_by_role("heading", level=1)).to_have_text("Lena Leader’s invitees")
        shot(desk, "dash-05-organiser-views-leader-1280")
    finally:
        wide.close()


class Taps:
    """Counts what the leader does with a finger: opening the emailed link is the first tap."""

    def __init__(self, page) -> None:
        self.page, self.count = page, 0

    def open_link(self, url: str) -> None:
        self.count += 1
        self.page.goto(url)

    def tap(self, locator) -> None:
        self.count += 1
        locator.tap()


@pytest.mark.parametrize("scripts", ["on", "off"])
def test_a_leader_goes_from_the_emailed_sign_in_link_to_a_sent_nudge_in_three_taps_or_fewer(
    live_server, browser, shot, scripts
):
    from app.core.auth import credentials
    from app.core.auth.models import SignInLink
    from tests.support.mail_helpers import delivered

    seed(live_server)
    with live_server.app.app_context():
        assert credentials.send_sign_in_link(LEADER_EMAIL)
        db.session.commit()
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sign_in_link")).one()
        emailed = re.search(r"http://localhost(/sign-in/link/\S+)", delivered(message).body_text).group(1)

    # A mail scanner that runs the page's scripts (as Microsoft Defender's does) opens the link first: it is
    # signed in as nobody, holds no remember cookie, and leaves the link for the leader.
    scanner = browser.new_context(**PHONE, java_script_enabled=True)
    robot = scanner.new_page()
    robot.goto(live_server.url + emailed)
    robot.wait_for_load_state("networkidle")
    robot.wait_for_timeout(500)
    assert robot.url == live_server.url + emailed
    assert not [c for c in scanner.cookies() if c["name"] == "remember_token"]
    assert robot.goto(f"{live_server.url}/leader").url.startswith(f"{live_server.url}/sign-in")
    scanner.close()
    with live_server.app.app_context():
        assert db.session.scalars(select(SignInLink.used_at)).one() is None

    context = browser.new_context(**PHONE, java_script_enabled=scripts == "on")
    page = context.new_page()
    taps = Taps(page)

    taps.open_link(live_server.url + emailed)
    # Opening the link signs nobody in: one button does, with the leader's name on it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to New Horizons")
    shot(page, f"dash-04-sign-in-link-scripts-{scripts}-360")
    taps.tap(page.get_by_role("button", name="Sign in as Lena Leader"))
    expect(page).to_have_url(re.compile(r"/leader$"))  # the leader's page: no password, no form
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitees")
    grace = live_server.delegates["grace"].id
    taps.tap(page.get_by_role("button", name="Nudge Grace Hopper"))

    expect(page).to_have_url(re.compile(rf"/leader#notice-{grace}$"))
    notice = page.locator(f"#person-{grace} .person__notice")
    expect(notice).to_contain_text("Nudge sent: your message to Grace Hopper is on its way")
    expect(notice).to_be_in_viewport()  # where the leader's eyes are, not 2,000 px above
    expect(notice).to_be_focused()
    fits_the_screen(page)
    shot(page, f"dash-05-leader-nudged-scripts-{scripts}-360")
    with live_server.app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "leader_nudge")).all()
        assert [m.invitation_id for m in sent] == [grace]
    print(f"\nTaps from opening the emailed sign-in link to a sent nudge, scripts {scripts}: {taps.count}")
    assert taps.count <= 3, f"{taps.count} taps"

    # The phone remembers them: once the browser has forgotten its session, the page still opens, no link needed.
    remembered = [c for c in context.cookies() if c["name"] == "remember_token"]
    assert remembered and remembered[0]["httpOnly"]
    context.clear_cookies()
    context.add_cookies(remembered)
    page.goto(f"{live_server.url}/leader")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitees")
    context.close()


def test_wide_organiser_tables_become_stacked_cards_at_phone_width(live_server, page, shot):
    seed(live_server)
    with live_server.app.app_context():
        event_id = db.session.scalars(select(FringeEvent.id)).first()
    sign_in(page, live_server.url, ORGANISER_EMAIL)
    for path, name in (
        ("/organiser/audit/", "audit"),
        ("/organiser/invitations", "invitations"),
        ("/organiser/mail/", "mail"),
        ("/organiser/fringe/", "fringe"),
        ("/organiser/leaders", "leaders"),
        (f"/organiser/fringe/{event_id}/attendance", "attendance"),
    ):
        page.goto(live_server.url + path)
        fits_the_screen(page)
        cell = page.locator("table.table--stack tbody td[data-label]:not([data-label=''])").first
        label = cell.get_attribute("data-label")
        shown = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert shown == f'"{label}"', (path, shown)  # each cell says which column it is
        assert page.locator("table.table--stack tbody tr").first.bounding_box()["width"] <= 360 - 16, path
        shot(page, f"dash-06-stacked-{name}-360")
