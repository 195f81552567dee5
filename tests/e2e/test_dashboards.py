"""The leader's page and the organisers' dashboard in a real browser at phone size (and the dashboard wide), on the
busy summit (tests/support/busy_summit.py): a leader with invitees in every group, fringe events some attended."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.db import db
from app.core.mail.models import OutboxMessage
from invitations.models import Invitation
from tests.support import factories as f
from tests.support.browser import PHONE
from tests.support.busy_summit import STAFF
from tests.support.mail_helpers import delivered

LEADER_EMAIL = STAFF["leader"][0]
ORGANISER_EMAIL = STAFF["organiser"][0]


def fits_the_screen(page, width: int = 360) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page scrolls sideways: {scroll}px wide at {width}px"


def sign_in(page, url: str, email: str) -> None:
    page.goto(f"{url}/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(f.PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_a_leader_sees_their_groups_and_sends_a_nudge(busy_server, page, shot):
    nell = busy_server.summit.people["nell"].id
    sign_in(page, busy_server.url, LEADER_EMAIL)
    expect(page).to_have_url(re.compile(r"/leader$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitees")
    expect(page.locator(".headline")).to_contain_text("3 of your 11 invitees are registered")
    groups = page.locator(".group__title")
    expect(groups).to_have_count(6)
    titles = [re.sub(r"\s*\d+$", "", t.strip()) for t in groups.all_inner_texts()]
    assert titles == [
        "Not opened yet",
        "Opened, not registered",
        "Declined",
        "On the waiting list",
        "Registered, no fringe event yet",
        "Registered and warmed up",
    ]
    not_opened = page.locator("#group-not_opened .person__name").all_inner_texts()
    assert not_opened == ["Bea Bounced", "Nell Newton", "Kit Quiet"]  # the bounced address first; not chased last
    expect(page.locator("#group-not_opened")).to_contain_text("Email bounced: wrong address?")
    expect(page.locator("#group-declined")).to_contain_text("Chairing a council meeting that day.")
    expect(page.locator(".you")).to_contain_text("You")
    expect(page.locator(".share")).to_contain_text("share of the target")
    fits_the_screen(page)
    for box in page.locator(".person__actions .button").all():
        assert box.bounding_box()["height"] >= 44, "a tap target under 44px"
    shot(page, "dash-01-leader-360")

    page.get_by_role("link", name="Edit first the nudge to Nell Newton").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nudge Nell Newton")
    message = page.get_by_label("Your message")
    expect(message).to_have_value(re.compile(r"^Dear Nell,"))
    fits_the_screen(page)
    shot(page, "dash-02-nudge-form-360")
    message.fill("Nell, it would be good to see you there: Babergh's ideas on digital services deserve a hearing.")
    page.get_by_role("button", name="Send the nudge").click()
    expect(page).to_have_url(re.compile(rf"/leader#notice-{nell}$"))
    notice = page.locator(f"#person-{nell} .person__notice")
    expect(notice).to_contain_text("Nudge sent: your message to Nell Newton is on its way")
    expect(notice).to_be_in_viewport()
    expect(notice).to_be_focused()
    expect(page.locator(f"#person-{nell}")).to_contain_text("the next nudge is possible from")
    expect(page.get_by_role("button", name="Nudge Nell Newton")).to_have_count(0)

    with busy_server.app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "leader_nudge")).all()
        assert len(sent) == 2  # the busy summit's nudge to Ivy, and this one
        assert sent[-1].invitation_id == nell and sent[-1].reply_to == LEADER_EMAIL
        assert "Babergh's ideas on digital services deserve a hearing" in delivered(sent[-1]).body_text
        assert db.session.get(Invitation, nell).last_nudged_at is not None


def test_an_organiser_opens_the_dashboard(busy_server, page, browser, shot):
    sign_in(page, busy_server.url, ORGANISER_EMAIL)
    expect(page).to_have_url(re.compile(r"/organiser/$"))
    tiles = page.locator(".tile")
    expect(tiles.filter(has_text="registered").first).to_contain_text("3")
    expect(tiles.filter(has_text="capacity")).to_contain_text("4")
    expect(tiles.filter(has_text="target")).to_contain_text("4")
    expect(page.get_by_role("img", name="The funnel")).to_be_visible()
    funnel = page.locator("#funnel-caption").locator("xpath=..")
    expect(funnel).to_contain_text("Invited")
    expect(page.get_by_role("img", name="Registrations per day")).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Conversion per leader"))).to_contain_text("Lena Leader")
    expect(page.get_by_role("table", name=re.compile("Attendance at each fringe event"))).to_contain_text(
        "Data for good"
    )
    expect(page.get_by_role("heading", name=re.compile("Bounced emails"))).to_contain_text("(2)")
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
        sign_in(desk, busy_server.url, ORGANISER_EMAIL)
        expect(desk.get_by_role("heading", name="The funnel")).to_be_visible()
        fits_the_screen(desk, 1280)
        shot(desk, "dash-04-organiser-1280")
        desk.goto(f"{busy_server.url}/organiser/leaders")
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
    busy_server, browser, shot, scripts
):
    from app.core.auth import credentials
    from app.core.auth.models import SignInLink
    from app.core.security import hash_sign_in_token
    from tests.support.mail_helpers import delivered

    with busy_server.app.app_context():
        assert credentials.send_sign_in_link(LEADER_EMAIL)
        db.session.commit()
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sign_in_link")).one()
        emailed = re.search(r"http://localhost(/sign-in/link/\S+)", delivered(message).body_text).group(1)

    # A mail scanner that runs the page's scripts (as Microsoft Defender's does) opens the link first: it is
    # signed in as nobody, holds no remember cookie, and leaves the link for the leader.
    scanner = browser.new_context(**PHONE, java_script_enabled=True)
    robot = scanner.new_page()
    robot.goto(busy_server.url + emailed)
    robot.wait_for_load_state("networkidle")
    robot.wait_for_timeout(500)
    assert robot.url == busy_server.url + emailed
    assert not [c for c in scanner.cookies() if c["name"] == "remember_token"]
    assert robot.goto(f"{busy_server.url}/leader").url.startswith(f"{busy_server.url}/sign-in")
    scanner.close()
    with busy_server.app.app_context():
        emailed_link = SignInLink.token_hash == hash_sign_in_token(emailed.rsplit("/", 1)[1])
        assert db.session.scalars(select(SignInLink.used_at).where(emailed_link)).one() is None

    context = browser.new_context(**PHONE, java_script_enabled=scripts == "on")
    page = context.new_page()
    taps = Taps(page)

    taps.open_link(busy_server.url + emailed)
    # Opening the link signs nobody in: one button does, with the leader's name on it.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to New Horizons")
    shot(page, f"dash-04-sign-in-link-scripts-{scripts}-360")
    taps.tap(page.get_by_role("button", name="Sign in as Lena Leader"))
    expect(page).to_have_url(re.compile(r"/leader$"))  # the leader's page: no password, no form
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitees")
    nell = busy_server.summit.people["nell"].id
    taps.tap(page.get_by_role("button", name="Nudge Nell Newton"))

    expect(page).to_have_url(re.compile(rf"/leader#notice-{nell}$"))
    notice = page.locator(f"#person-{nell} .person__notice")
    expect(notice).to_contain_text("Nudge sent: your message to Nell Newton is on its way")
    expect(notice).to_be_in_viewport()  # where the leader's eyes are, not 2,000 px above
    expect(notice).to_be_focused()
    fits_the_screen(page)
    shot(page, f"dash-05-leader-nudged-scripts-{scripts}-360")
    with busy_server.app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "leader_nudge")).all()
        assert [m.invitation_id for m in sent] == [busy_server.summit.people["ivy"].id, nell]  # Ivy's was seeded
    print(f"\nTaps from opening the emailed sign-in link to a sent nudge, scripts {scripts}: {taps.count}")
    assert taps.count <= 3, f"{taps.count} taps"

    # The phone remembers them: once the browser has forgotten its session, the page still opens, no link needed.
    remembered = [c for c in context.cookies() if c["name"] == "remember_token"]
    assert remembered and remembered[0]["httpOnly"]
    context.clear_cookies()
    context.add_cookies(remembered)
    page.goto(f"{busy_server.url}/leader")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your invitees")
    context.close()


def test_wide_organiser_tables_become_stacked_cards_at_phone_width(busy_server, page, shot):
    event_id = busy_server.summit.events["past"].id  # the fringe event with an attendance
    sign_in(page, busy_server.url, ORGANISER_EMAIL)
    for path, name in (
        ("/organiser/audit/", "audit"),
        ("/organiser/invitations", "invitations"),
        ("/organiser/mail/", "mail"),
        ("/organiser/fringe/", "fringe"),
        ("/organiser/leaders", "leaders"),
        (f"/organiser/fringe/{event_id}/attendance", "attendance"),
    ):
        page.goto(busy_server.url + path)
        fits_the_screen(page)
        cell = page.locator("table.table--stack tbody td[data-label]:not([data-label=''])").first
        label = cell.get_attribute("data-label")
        shown = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert shown == f'"{label}"', (path, shown)  # each cell says which column it is
        assert page.locator("table.table--stack tbody tr").first.bounding_box()["width"] <= 360 - 16, path
        shot(page, f"dash-06-stacked-{name}-360")


# The room a select leaves for its chosen option's words: its content box, less the arrow Chromium draws in it.
SELECT_TEXT_ROOM = """select => {
    const style = getComputedStyle(select);
    const context = document.createElement('canvas').getContext('2d');
    context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    return [...select.options].map(option => [option.text, Math.ceil(context.measureText(option.text).width), room]);
}"""


def test_every_choice_of_who_to_remind_is_shown_whole_on_the_narrowest_phone(busy_server, browser, shot):
    """At 320 px (the narrowest phone in use) the chosen group in the reminders' "Who" list is read whole: a
    select can't wrap its words, so each option must fit the box."""
    context = browser.new_context(**{**PHONE, "viewport": {"width": 320, "height": 640}})
    page = context.new_page()
    sign_in(page, busy_server.url, ORGANISER_EMAIL)
    page.goto(f"{busy_server.url}/organiser/reminders?state=opened_not_registered")
    fits_the_screen(page, 320)
    widths = page.get_by_label("Who").evaluate(SELECT_TEXT_ROOM)
    assert len(widths) == 8
    cut = [(text, width, room) for text, width, room in widths if width > room]
    assert cut == [], f"options wider than the box's {widths[0][2]} px: {cut}"
    shot(page, "dash-07-who-to-remind-320")
    context.close()
