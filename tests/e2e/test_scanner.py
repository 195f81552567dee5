"""The scanner page in headless Chromium with a fake camera showing a real badge's QR (a .y4m made here).

Shows: green with the name, then amber on a second scan after the debounce; the handheld-scanner path;
name search; and the offline path (scan while offline, pending 1, back online, synced, counted once).
Each test proves a part of the page is wired up; the rules those parts follow (a scanner's keystrokes,
which event is today, the saved scans and problems) are tested without a browser in tests/js/ (node --test).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.security import new_badge_code
from fringe_events.models import Attendance, FringeEvent
from invitations.models import Invitation
from tests.support import factories as f
from tests.support.browser import PHONE
from tests.support.scanner import open_scanner, scan_burst, shot


def fits_the_screen(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_camera_green_with_the_name_then_amber_on_a_second_scan(phone, door):
    page = phone
    expect(page.locator("#expected")).to_have_text("4")
    fits_the_screen(page)
    shot(page, "01-ready")
    page.get_by_role("button", name="Start camera").click()
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Checked in")
    expect(result).to_contain_text("Ada Lovelace")
    expect(result).to_contain_text("Analytical Engines")
    expect(result.locator(".need--dietary")).to_contain_text("Dietary: Vegan")
    expect(result.locator(".need--access")).to_contain_text("Access: Step-free access")
    expect(result.locator(".need--access svg")).to_be_attached()
    shot(page, "02-green")
    expect(page.locator("#arrived")).to_have_text("1")
    assert door.attendances() == 1

    # The badge stays in view: its answer is not repeated (it used to turn amber every 3 seconds).
    expect(result).to_be_hidden()
    time.sleep(4)
    expect(result).to_be_hidden()
    assert door.log() == ["ok"]
    expect(page.locator("#recent li")).to_have_count(1)
    page.get_by_role("button", name="Stop camera").click()

    # Scanned again on purpose (the handheld box), it is amber: when, and by whom.
    page.get_by_label("Handheld scanner or typed code").fill(door.code)
    page.get_by_label("Handheld scanner or typed code").press("Enter")
    expect(result).to_have_class(re.compile(r"\bresult--warning\b"))
    expect(result).to_contain_text("Already checked in")
    expect(result).to_contain_text(re.compile(r"at \d{1,2}:\d\d[ap]m by Sam Steward"))
    shot(page, "03-amber")
    assert door.attendances() == 1
    assert door.methods() == ["camera"]
    assert door.log() == ["ok", "already_checked_in"]


def test_a_handheld_scanner_types_the_code_and_presses_enter(phone, door):
    page = phone
    field = page.get_by_label("Handheld scanner or typed code")
    field.focus()
    page.keyboard.type(door.code.lower(), delay=5)  # scanners type fast; case doesn't matter
    page.keyboard.press("Enter")
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Ada Lovelace")
    expect(field).to_have_value("")
    assert door.methods() == ["handheld"]

    # A forged badge is red, with the reason.
    page.get_by_role("button", name="Next").click()
    field.fill("NH1-FORGEDFORGEDFORGEDFORGEDFOR")
    field.press("Enter")
    expect(result).to_have_class(re.compile(r"\bresult--error\b"))
    expect(result).to_contain_text("Not a valid badge")
    shot(page, "04-red")

    # Undo a mistaken check-in from the list of last scans (the answer put away: it covers the list).
    page.get_by_role("button", name="Next").click()
    page.locator("#recent").get_by_role("button", name="Undo").first.click()
    expect(result).to_contain_text("Check-in undone")
    assert door.attendances() == 0
    expect(page.locator("#arrived")).to_have_text("0")


def test_name_search_from_three_letters(phone, door):
    page = phone
    page.get_by_text("Find someone by name", exact=True).click()
    search = page.get_by_label("Name", exact=True)
    search.fill("Lo")
    expect(page.locator("#search-hint")).to_have_text("Type at least 3 letters.")
    search.fill("Lovel")
    expect(page.locator("#search-results")).to_contain_text("Ada Lovelace")
    fits_the_screen(page)
    shot(page, "05-search")
    # The search gives a reference to check in by: the badge code never reaches the phone, nor the needs.
    with page.expect_response(lambda r: "/checkin/scan" in r.url) as sent:
        page.get_by_role("button", name="Check in Ada Lovelace").click()
    assert (
        sent.value.request.post_data_json["ref"] == f"p{door.ada_id}"
        and "code" not in sent.value.request.post_data_json
    )
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Vegan")  # the answer that admits her brings her needs
    assert door.methods() == ["manual"]
    expect(page.locator("#search-results")).to_contain_text("Checked in at")
    with page.expect_response(lambda r: "/checkin/search" in r.url) as searched:
        search.fill("Lovela")
    assert door.code not in searched.value.text() and "Vegan" not in searched.value.text()
    # Undo works by the reference too (the answer put away: it covers the list).
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Undo").first.click()
    expect(result).to_contain_text("Check-in undone")
    assert door.attendances() == 0


def test_at_a_fringe_event_someone_not_signed_up_is_refused_and_checked_in_as_a_walk_in_on_purpose(camera, door):
    add_fringe(door, "fringe-today", "Fringe: on today", utcnow() - timedelta(minutes=30), signed_up=(door.others[0],))
    page = open_scanner(camera, door)
    page.goto(f"{door.url}/checkin?event=fringe-today")
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    field = page.get_by_label("Handheld scanner or typed code")
    field.fill(door.code)
    field.press("Enter")
    result = page.locator("#result")
    expect(result).to_contain_text("Not signed up")
    assert door.log() == ["not_registered"] and door.attendances() == 0
    page.get_by_role("button", name="Next").click()  # the answer put away: it covers the name search
    page.get_by_text("Find someone by name", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Lovelace")
    expect(page.locator("#search-results")).to_contain_text("Not signed up (walk-in)")
    page.get_by_role("button", name="Check in Ada Lovelace as a walk-in").click()
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    with door.app.app_context():
        assert [a.walk_in for a in db.session.scalars(select(Attendance))] == [True]
    page.context.close()


def test_offline_scans_wait_then_sync_and_count_once(phone, door):
    page = phone
    expect(page.locator("#scanner[data-library=ready]")).to_be_attached()  # the QR reader loaded while online
    page.context.set_offline(True)
    expect(page.locator("#network")).to_contain_text("Offline")
    page.get_by_role("button", name="Start camera").click()
    result = page.locator("#result")
    expect(result).to_contain_text("Saved offline")
    expect(page.locator("#pending")).to_have_text("1")
    shot(page, "06-offline-pending")
    # The badge stays in view: one scan waiting, and the answer is not repeated.
    expect(result).to_be_hidden()
    time.sleep(3.5)
    expect(result).to_be_hidden()
    expect(page.locator("#pending")).to_have_text("1")
    assert door.attendances() == 0

    page.context.set_offline(False)
    expect(page.locator("#pending")).to_have_text("0")
    expect(page.locator("#sync-status")).to_contain_text("Synced 1 saved scan")
    expect(page.locator("#recent")).to_contain_text("Checked in (synced)")
    expect(page.locator("#arrived")).to_have_text("1")
    shot(page, "07-synced")
    page.get_by_role("button", name="Stop camera").click()
    assert door.attendances() == 1
    log = door.log()
    assert log.count("ok") == 1 and set(log) <= {"ok", "already_checked_in"}


DENY_CAMERA = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""


def test_camera_permission_refused_is_explained_and_the_handheld_box_still_works(camera, door):
    browser, _ = camera
    page = open_scanner(camera, door)
    page.add_init_script(DENY_CAMERA)
    page.reload()
    page.get_by_role("button", name="Start camera").click()
    message = page.locator("#camera-message")
    expect(message).to_contain_text("Camera permission was refused")
    expect(message).to_contain_text("Allow the camera for this site")
    shot(page, "08-camera-denied")
    page.get_by_label("Handheld scanner or typed code").fill(door.code)
    page.get_by_label("Handheld scanner or typed code").press("Enter")
    expect(page.locator("#result")).to_have_class(re.compile(r"\bresult--ok\b"))
    page.context.close()


def test_without_https_the_camera_is_explained_and_the_other_ways_work(camera, door):
    port = door.url.rsplit(":", 1)[1]
    page = open_scanner(camera, door, base=f"http://door.test:{port}")
    assert page.evaluate("window.isSecureContext") is False
    message = page.locator("#camera-message")
    expect(message).to_contain_text("The camera needs a secure connection")
    expect(message).to_contain_text("https://")
    expect(page.get_by_role("button", name="Start camera")).to_be_hidden()
    shot(page, "09-no-https")
    page.get_by_text("Find someone by name", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Ada")
    page.get_by_role("button", name="Check in Ada Lovelace").click()
    expect(page.locator("#result")).to_contain_text("Checked in")
    assert door.methods() == ["manual"]
    page.context.close()


def test_an_organiser_reprints_the_badge_of_the_person_on_the_card_and_a_steward_is_not_offered_it(camera, door):
    with door.app.app_context():
        f.user(role=Role.ORGANISER, name="Lucy Organiser", email="lucy@staff.example.org")
        db.session.commit()
    # A steward's card is as it was: no Reprint badge.
    page = open_scanner(camera, door)
    page.get_by_label("Handheld scanner or typed code").fill(door.code)
    page.get_by_label("Handheld scanner or typed code").press("Enter")
    result = page.locator("#result")
    expect(result).to_contain_text("Checked in")
    expect(page.get_by_role("button", name="Reprint badge")).to_be_hidden()
    assert page.locator("#scanner").get_attribute("data-reprint-url") is None
    page.context.close()

    # An organiser scans the same badge (already checked in): the card offers it, and the PDF comes down.
    page = open_scanner(camera, door, email="lucy@staff.example.org")
    # Someone checked in now: Undo, Reprint badge and Next all fit on the phone.
    page.get_by_label("Handheld scanner or typed code").fill(door.others[0])
    page.get_by_label("Handheld scanner or typed code").press("Enter")
    expect(page.locator("#result")).to_contain_text("Checked in")
    expect(page.locator("#result").get_by_role("button", name="Undo")).to_be_visible()
    expect(page.get_by_role("button", name="Reprint badge")).to_be_visible()
    fits_the_screen(page)
    shot(page, "18-reprint-offered-with-undo")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Handheld scanner or typed code").fill(door.code)
    page.get_by_label("Handheld scanner or typed code").press("Enter")
    typed_at = time.monotonic()  # the page took the code before press() returned
    result = page.locator("#result")
    expect(result).to_contain_text("Already checked in")
    shot(page, "19-reprint-offered")
    fits_the_screen(page)
    with page.expect_download() as downloaded:
        page.get_by_role("button", name="Reprint badge").click()
    assert downloaded.value.suggested_filename == f"badge-{door.ada_id}.pdf"
    assert Path(downloaded.value.path()).read_bytes().startswith(b"%PDF")
    expect(result).to_contain_text("Reprint recorded — printing…")
    expect(result).to_contain_text("Ada Lovelace")
    expect(page.get_by_role("button", name="Reprint badge")).to_be_hidden()
    shot(page, "20-reprinted")
    with door.app.app_context():
        reprints = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "badge.reprinted")))
        assert [(e.invitation_id, e.actor_label, e.details["via"]) for e in reprints] == [
            (door.ada_id, "Lucy Organiser", "scanner")
        ]

    # Refused (here: the badge's code reissued meanwhile), the card says why and nothing is recorded.
    # The same code typed again within 3 s is taken for a scanner's double send: 3.1 s after it was typed last.
    time.sleep(max(0.0, 3.1 - (time.monotonic() - typed_at)))
    page.get_by_label("Handheld scanner or typed code").fill(door.code)
    page.get_by_label("Handheld scanner or typed code").press("Enter")
    expect(result).to_contain_text("Already checked in")
    with door.app.app_context():
        db.session.get(Invitation, door.ada_id).code = new_badge_code()
        db.session.commit()
    page.get_by_role("button", name="Reprint badge").click()
    expect(result).to_have_class(re.compile(r"\bresult--error\b"))
    expect(result).to_contain_text("Not reprinted")
    expect(result).to_contain_text("That isn't a live badge, so there is nothing to print.")
    with door.app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "badge.reprinted")
            )
            == 1
        )
    page.context.close()


def test_a_signed_out_steward_cannot_reach_the_scanner(camera, door):
    browser, _ = camera
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{door.url}/checkin")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    context.close()


# Times, in the page, from the Enter that ends a scan to the big answer showing its word.
ANSWER_TIMER = """
window.__answers = [];
let pressed = null;
document.addEventListener("keydown", (e) => { if (e.key === "Enter") pressed = performance.now(); }, true);
new MutationObserver(() => {
  const box = document.getElementById("result");
  if (!box.hidden && pressed !== null) {
    window.__answers.push({ word: document.getElementById("result-word").textContent, ms: performance.now() - pressed });
    pressed = null;
  }
}).observe(document.getElementById("result"), { attributes: true, childList: true, subtree: true, characterData: true });
"""


def test_a_server_that_stops_answering_is_offline_within_1_5_s_and_the_queue_syncs_when_it_answers(phone, door):
    page = phone
    expect(page.locator("#expected")).to_have_text("4")
    expect(page.locator("#network")).to_have_text("Online")
    page.evaluate(ANSWER_TIMER)
    door.hang()  # the wifi is fine; the server takes the requests and never answers
    field = page.get_by_label("Handheld scanner or typed code")
    result = page.locator("#result")

    field.fill(door.code)
    field.press("Enter")
    expect(result).to_contain_text("Saved offline")
    expect(result).to_contain_text("The server isn't answering")
    expect(page.locator("#network")).to_have_text("Server not answering — saving scans")
    expect(page.locator("#pending")).to_have_text("1")
    shot(page, "10-server-silent")

    # The next badge doesn't wait for the silent server at all.
    page.get_by_role("button", name="Next").click()
    field.fill(door.others[0])
    field.press("Enter")
    expect(page.locator("#pending")).to_have_text("2")
    answers = page.evaluate("window.__answers")
    assert [a["word"] for a in answers] == ["Saved offline", "Saved offline"]
    assert all(a["ms"] < 1500 for a in answers), answers
    assert answers[1]["ms"] < 300, answers  # queued at once while the server is known to be silent
    assert door.attendances() == 0  # held at the server's door, not yet handled

    # The server answers again: nobody touches the phone, and the queue syncs.
    door.recover()
    expect(page.locator("#pending")).to_have_text("0")
    expect(page.locator("#network")).to_have_text("Online")
    expect(page.locator("#recent")).to_contain_text("Checked in (synced)")
    expect(page.locator("#arrived")).to_have_text("2")
    assert door.attendances() == 1
    assert door.log().count("ok") == 2


# --- handheld scanners, wherever the focus is (Enter, Tab, AIM identifiers: tests/js/keystrokes.test.mjs) ---


def names_checked_in(door) -> list[str]:
    with door.app.app_context():
        from invitations.models import Invitation

        return sorted(
            db.session.scalars(select(Invitation.name).join(Attendance, Attendance.invitation_id == Invitation.id))
        )


def test_a_scanner_that_ends_codes_with_a_pause_and_its_own_suffix(phone, door):
    page = phone
    page.get_by_text("Handheld scanner settings", exact=True).click()
    page.get_by_label("Characters after each code").fill("#END")
    page.get_by_role("button", name="Save scanner settings").click()
    expect(page.locator("#scanner-settings-status")).to_have_text("Saved on this device.")
    page.locator("#scanner-settings summary").click()
    page.locator("#status-bar").click()  # the focus out of the settings, as a steward putting the phone down
    page.keyboard.type(door.code + "#END", delay=5)  # and then nothing: the pause ends the code
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Ada Lovelace")
    assert door.log() == ["ok"]
    page.reload()  # the setting is kept on the device
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    expect(page.get_by_label("Characters after each code")).to_have_value("#END")


def test_a_badge_scanned_into_the_name_search_is_checked_in_as_a_code(phone, door):
    page = phone
    page.get_by_text("Find someone by name", exact=True).click()
    search = page.get_by_label("Name", exact=True)
    search.focus()
    page.keyboard.type(door.code, delay=5)
    page.keyboard.press("Enter")
    result = page.locator("#result")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Ada Lovelace")
    expect(search).to_have_value("")
    expect(page.locator("#search-hint")).not_to_contain_text("Nobody invited")
    assert door.log() == ["ok"]
    assert door.methods() == ["handheld"]

    # Typed by a person, a name is still a name: slow keys are never taken for a scan.
    page.get_by_role("button", name="Next").click()
    search.focus()
    page.keyboard.type("Other Del", delay=120)
    expect(page.locator("#search-results")).to_contain_text("Other Delegate 0")
    assert door.log() == ["ok"]


def test_two_codes_arriving_together_are_two_scans_each_shown(phone, door):
    page = phone
    page.keyboard.type(f"{door.code}\n{door.others[0]}\n", delay=5)
    result = page.locator("#result")
    expect(result).to_contain_text("Other Delegate 0")
    expect(result).to_contain_text("Ada Lovelace")  # the first is still in sight, under the second
    expect(page.locator("#result-also")).to_contain_text("Checked in")
    expect(page.locator("#recent li")).to_have_count(2)
    shot(page, "11-two-at-once")
    assert names_checked_in(door) == ["Ada Lovelace", "Other Delegate 0"]


# --- the right event, always in sight ------------------------------------------------------------------------


def move_summit(door, days: int) -> None:
    with door.app.app_context():
        from app.core.summit.settings import configure_summit

        start = utcnow() + timedelta(days=days)
        configure_summit(starts_at=start, ends_at=start + timedelta(hours=8))
        db.session.commit()


def add_fringe(door, slug: str, title: str, starts, hours: float = 2, signed_up: tuple[str, ...] = ()) -> None:
    """A fringe event, with the people whose codes are given signed up for it (a fringe door admits those)."""
    from fringe_events.models import FringeSignup, SignupState
    from invitations.models import Invitation

    with door.app.app_context():
        event = FringeEvent(
            slug=slug, title=title, venue="Ipswich", starts_at=starts, ends_at=starts + timedelta(hours=hours)
        )
        db.session.add(event)
        db.session.flush()
        for code in signed_up:
            person = db.session.scalars(select(Invitation).where(Invitation.code == code)).one()
            db.session.add(FringeSignup(invitation_id=person.id, fringe_event_id=event.id, state=SignupState.CONFIRMED))
        db.session.commit()


def visible_in_full(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= 360, (selector, box)
    assert page.locator(selector).evaluate("e => e.scrollWidth <= e.clientWidth + 1"), selector


def test_with_nothing_on_today_the_scanner_asks_and_another_days_event_is_shown_in_full_and_confirmed_once(
    camera, door
):
    # The picker's wiring; which event is on now or next today, and when to ask, are tests/js/events.test.mjs's.
    move_summit(door, days=120)
    add_fringe(
        door,
        "fringe-later",
        "Social Marketing Enquiry: what residents told us",
        utcnow() + timedelta(days=9),
        signed_up=(door.code, door.others[0]),
    )
    page = open_scanner(camera, door)
    page.goto(f"{door.url}/checkin")  # no event asked for: the page works out today's
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    expect(page.locator("#event")).to_have_value("")
    expect(page.locator("#event-title")).to_have_text("No event chosen")
    expect(page.locator("#event-choose")).to_be_visible()
    expect(page.locator("#event-choose")).to_contain_text("Choose the event")
    shot(page, "13-choose-event")

    field = page.get_by_label("Handheld scanner or typed code")
    field.fill(door.code)
    field.press("Enter")
    result = page.locator("#result")
    expect(result).to_contain_text("Choose the event first")
    assert door.log() == []

    # Another day's event, chosen by hand: its long name and its date in full at 360 px, and marked.
    page.locator("#event").select_option("fringe-later")
    if result.is_visible():
        page.get_by_role("button", name="Next").click()  # the answer put away, if it is still up
    expect(page.locator("#event-title")).to_have_text("Social Marketing Enquiry: what residents told us")
    expect(page.locator("#event-when")).to_contain_text(re.compile(r"\w+day \d{1,2} \w+, "))
    expect(page.locator("#event-not-today")).to_be_visible()
    expect(page.locator("#event-choose")).to_be_hidden()
    expect(page).to_have_url(re.compile(r"/checkin\?event=fringe-later$"))
    visible_in_full(page, "#event-title")
    visible_in_full(page, "#event-when")
    fits_the_screen(page)
    shot(page, "12-event-not-today")

    field.fill(door.code)
    field.press("Enter")
    confirm = page.locator("#event-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Social Marketing Enquiry: what residents told us is on")
    expect(confirm).to_contain_text("not today")
    shot(page, "14-confirm-event")
    assert door.log() == []  # nothing is checked in until the steward says so
    page.get_by_role("button", name="Yes, check in to this event").click()
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    expect(result).to_contain_text("Ada Lovelace")
    assert door.log() == ["ok"]

    # Asked once: the next badge for that event goes straight through.
    page.get_by_role("button", name="Next").click()
    field.fill(door.others[0])
    field.press("Enter")
    expect(result).to_contain_text("Other Delegate 0")
    expect(confirm).to_be_hidden()
    assert door.log() == ["ok", "ok"]
    page.context.close()


# --- conflicts after a sync stay in sight ------------------------------------------------------------------


def test_ten_offline_scans_sync_and_each_conflict_stays_listed_with_the_name_until_dismissed(phone, door):
    from app.checkin import scans

    with door.app.app_context():
        guests = [f.registered(name=f"Guest {i}").code for i in range(6)]
        grace = f.registered(name="Grace Hopper")
        grace.organisation = "Navy Computing"
        lucy = f.user(role=Role.STEWARD, name="Lucy Other-Door")
        db.session.commit()
        # Grace came in at the other door while this phone was offline.
        scans.check_in(lucy, scans.Scan(code=grace.code, event="summit", method="handheld"))
        db.session.commit()
        invited = f.invitation(name="Ivor Invited").code  # invited, never registered
        grace_code = grace.code
    codes = [door.code, *door.others, *guests[:4], grace_code, invited]
    assert len(codes) == 10

    page = phone
    page.context.set_offline(True)
    expect(page.locator("#network")).to_contain_text("Offline")
    for n, code in enumerate(codes, start=1):
        scan_burst(page, code)
        expect(page.locator("#pending")).to_have_text(str(n))
    expect(page.locator("#recent")).to_contain_text("Queued")

    page.context.set_offline(False)
    expect(page.locator("#pending")).to_have_text("0")
    expect(page.locator("#sync-status")).to_contain_text("Synced 10 saved scans")
    recent = page.locator("#recent")
    expect(recent.locator("li")).to_have_count(8)
    expect(recent).not_to_contain_text("Queued")  # each queued row became its outcome
    problems = page.locator("#problem-list li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text("Grace Hopper")
    expect(problems.nth(0)).to_contain_text("Navy Computing")
    expect(problems.nth(0)).to_contain_text(
        re.compile(r"Already checked in at \d{1,2}:\d\d[ap]m by Lucy Other-Door at another door")
    )
    expect(problems.nth(1)).to_contain_text("Ivor Invited")
    expect(problems.nth(1)).to_contain_text("Not registered")
    if page.locator("#result").is_visible():
        page.get_by_role("button", name="Next").click()
    shot(page, "15-problems-after-sync")
    fits_the_screen(page)

    # They stay until the steward dismisses them, through a reload too.
    page.reload()
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    expect(problems).to_have_count(2)
    page.get_by_role("button", name="Dismiss: Grace Hopper").click()
    expect(problems).to_have_count(1)
    page.reload()
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("Ivor Invited")
    assert door.log().count("ok") == 9  # the eight let in here, and Grace at the other door


# --- offline first: the page itself survives a reload without a network ---------------------------------------


def stored(page, key: str):
    return page.evaluate(f"localStorage.getItem({key!r})")


def test_reloaded_offline_the_scanner_comes_back_with_its_queue_and_finds_names_then_syncs(phone, door):
    page = phone
    expect(page.locator("#scanner[data-offline-ready=true]")).to_be_attached()  # the worker has saved the page
    page.wait_for_function("() => (localStorage.getItem('nh-expected-v1') || '').includes('Other Delegate 1')")
    expected = stored(page, "nh-expected-v1")
    assert door.code not in expected and "Vegan" not in expected  # names and organisations, no codes or needs

    page.context.set_offline(True)
    scan_burst(page, door.code)
    expect(page.locator("#pending")).to_have_text("1")

    page.reload()  # no network at all: the saved page, its scripts and styles
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    expect(page.locator("#network")).to_have_text("Offline — saving scans")
    expect(page.locator("#pending")).to_have_text("1")
    expect(page.locator("#recent")).to_contain_text("Queued")
    expect(page.locator("#event-title")).to_have_text("The Lives we Lead: New Horizons")
    expect(page.locator("#scanner[data-library=ready]")).to_be_attached()  # the camera's decoder came from the copy
    shot(page, "16-reloaded-offline")

    # A scan is saved …
    scan_burst(page, door.others[0])
    expect(page.locator("#pending")).to_have_text("2")
    # … and the name search works over the expected list kept on the phone.
    page.get_by_role("button", name="Next").click()
    page.get_by_text("Find someone by name", exact=True).click()
    page.get_by_label("Name", exact=True).fill("other delegate 1")
    expect(page.locator("#search-hint")).to_contain_text("Offline: searching the list saved on this phone")
    expect(page.locator("#search-results")).to_contain_text("Other Delegate 1")
    page.get_by_role("button", name="Check in Other Delegate 1").click()
    expect(page.locator("#result")).to_contain_text("Saved offline")
    expect(page.locator("#result")).to_contain_text("Other Delegate 1")
    expect(page.locator("#pending")).to_have_text("3")
    assert door.log() == []

    page.context.set_offline(False)
    expect(page.locator("#pending")).to_have_text("0")
    expect(page.locator("#sync-status")).to_contain_text("Synced 3 saved scans")
    expect(page.locator("#problems")).to_be_hidden()
    assert names_checked_in(door) == ["Ada Lovelace", "Other Delegate 0", "Other Delegate 1"]
    assert sorted(door.methods()) == ["handheld", "handheld", "manual"]

    # Signing out forgets the list of people, and the saved copy of the page.
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("html[data-device-forgotten=true]")).to_be_attached()
    assert stored(page, "nh-expected-v1") is None
    page.wait_for_function("async () => !(await caches.has('nh-scanner-page'))")
    page.context.set_offline(True)
    with pytest.raises(PlaywrightError):  # offline now, there is no saved scanner page to open
        page.goto(f"{door.url}/checkin")
    page.context.set_offline(False)
    page.goto(f"{door.url}/checkin")
    expect(page).to_have_url(re.compile(r"/sign-in"))


# The page's CSRF token replaced before the script reads it, as on a page kept from an older session.
STALE_TOKEN = """
if (!sessionStorage.getItem("fresh-token")) {
  new MutationObserver((_, watching) => {
    const meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { meta.content = "stale"; watching.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
}
"""


def test_a_page_with_an_out_of_date_token_keeps_its_scans_until_it_is_reloaded(phone, door):
    page = phone
    page.add_init_script(STALE_TOKEN)
    page.reload()
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    scan_burst(page, door.code)
    expect(page.locator("#result")).to_contain_text("Saved offline")
    expect(page.locator("#result")).to_contain_text("This page needs reloading")
    expect(page.locator("#pending")).to_have_text("1")
    expect(page.locator("#sync-status")).to_have_text(
        "This page has expired. Reload it to carry on (saved scans are kept)."
    )
    # The page tries to sync again (here: the wifi comes back), is refused again, and still says why.
    with page.expect_response(lambda response: response.request.method == "POST"):
        page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#sync-status")).to_have_text(
        "This page has expired. Reload it to carry on (saved scans are kept)."
    )
    expect(page.locator("#pending")).to_have_text("1")
    page.get_by_role("button", name="Next").click()  # the answer put away: the reason stays under the counts
    expect(page.locator("#sync-status")).to_have_text(
        "This page has expired. Reload it to carry on (saved scans are kept)."
    )
    shot(page, "17-page-expired")
    assert door.log() == []
    page.evaluate("sessionStorage.setItem('fresh-token', '1')")
    page.reload()
    expect(page.locator("#pending")).to_have_text("0")
    expect(page.locator("#problems")).to_be_hidden()
    assert door.log() == ["ok"]
