"""A delegate's journey in a real browser at phone width: register, decline, and the keyboard path."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from app.core.db import db
from app.core.mail.models import OutboxMessage
from invitations.models import Invitation, InvitationState, Registration

S = InvitationState
CONSENT_LABEL = "I agree that the organisers may use these details"
CONSENT_ERROR = "Please tick to agree, so that we can hold your place."


def load(invitation_id: int) -> Invitation:
    """The invitation as the database now has it (a fresh session per app context)."""
    return db.session.get(Invitation, invitation_id)


def fits_the_screen(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways: {width}px wide at 360px"


def test_delegate_registers_from_their_link(live_server, page, shot):
    ada = live_server.delegates["ada"]

    page.goto(live_server.link("ada"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Ada")
    register = page.get_by_role("link", name="Register for my place")
    expect(register).to_be_visible()
    fits_the_screen(page)
    shot(page, "01-welcome")

    register.click()
    expect(page).to_have_url(re.compile(r"/register$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Register for your place")
    fits_the_screen(page)
    page.get_by_label("Full name").fill("Ada King Lovelace")
    page.get_by_label("Organisation").fill("Analytical Engines Ltd")
    page.get_by_label("Job title").fill("Head of Computing")
    page.get_by_label("Dietary requirements").fill("Vegan, no nuts please")
    page.get_by_label("Access needs").fill("Step-free access")
    shot(page, "02-register-filled")

    # Without consent: the error sits next to the box, the answers are kept, and nothing is registered.
    page.get_by_role("button", name="Register for my place").click()
    consent_error = page.locator("#consent-error")
    expect(consent_error).to_have_text(CONSENT_ERROR)
    consent = page.get_by_label(CONSENT_LABEL)
    expect(consent).to_have_attribute("aria-invalid", "true")
    expect(consent).to_have_attribute("aria-describedby", re.compile(r"\bconsent-error\b"))
    field_box = page.locator(".field", has=consent).bounding_box()
    error_box = consent_error.bounding_box()
    assert field_box["y"] <= error_box["y"] <= field_box["y"] + field_box["height"], "the error is not beside the box"
    expect(page.get_by_role("alert")).to_contain_text(CONSENT_ERROR)  # and in the summary at the top
    expect(page.get_by_label("Dietary requirements")).to_have_value("Vegan, no nuts please")
    fits_the_screen(page)
    shot(page, "03-register-consent-error")
    with live_server.app.app_context():
        assert load(ada.id).state == S.INVITED
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
        assert (
            db.session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "registration_confirmed")
            )
            == 0
        )

    consent.check()
    page.get_by_role("button", name="Register for my place").click()
    expect(page.get_by_text("You're registered", exact=False).first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "You're registered for The Lives we Lead: New Horizons"
    )
    expect(page.get_by_role("region", name="Your details")).to_contain_text("Vegan, no nuts please")
    fits_the_screen(page)
    shot(page, "04-personal-registered")

    with live_server.app.app_context():
        inv = load(ada.id)
        assert inv.state == S.REGISTERED
        assert inv.name == "Ada King Lovelace"
        assert inv.registration.dietary == "Vegan, no nuts please"
        assert inv.registration.consent_at is not None
        kinds = list(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.invitation_id == ada.id)))
        assert "registration_confirmed" in kinds


def test_delegate_says_they_cannot_come(live_server, page, shot):
    grace = live_server.delegates["grace"]
    reason = "Council meeting the same day."

    page.goto(live_server.link("grace"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Grace")
    page.get_by_role("link", name="I can't come").click()
    expect(page).to_have_url(re.compile(r"/decline$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Can't come?")
    button = page.get_by_role("button", name="Tell the organisers I can't come")
    expect(button).to_be_visible()
    fits_the_screen(page)
    shot(page, "05-decline")
    with live_server.app.app_context():
        assert load(grace.id).state == S.INVITED  # opening the page changes nothing

    page.get_by_label("Would you tell us why?").fill(reason)
    button.click()
    expect(page.get_by_role("status")).to_contain_text("Thank you for letting us know")
    expect(page.get_by_text("You've told us you can't come")).to_be_visible()
    fits_the_screen(page)
    shot(page, "06-declined")

    with live_server.app.app_context():
        inv = load(grace.id)
        assert inv.state == S.DECLINED
        assert inv.decline_reason == reason


def test_register_page_by_keyboard_alone(live_server, page, shot):
    page.goto(live_server.link("ada", "register"))
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    focused = []
    for _ in range(14):
        page.keyboard.press("Tab")
        info = page.evaluate("""() => {
            const el = document.activeElement;
            const box = el.getBoundingClientRect();
            const style = getComputedStyle(el);
            return {tag: el.tagName.toLowerCase(), id: el.id, cls: el.className, text: (el.textContent || '').trim(),
                    top: box.top + window.scrollY, outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth)};
        }""")
        focused.append(info)
        if info["tag"] == "button":
            break
        if len(focused) == 2:
            shot(page, "07-keyboard-first-field")

    skip = focused[0]
    assert skip["cls"] == "skip-link" and skip["text"] == "Skip to main content", focused[0]

    fields = [item["id"] for item in focused if item["tag"] in ("input", "textarea", "select")]
    assert fields == ["name", "organisation", "job_title", "dietary", "access_needs", "mobile", "consent"], focused
    assert focused[-1]["tag"] == "button" and focused[-1]["text"] == "Register for my place"

    tops = [item["top"] for item in focused[1:]]
    assert tops == sorted(tops), f"focus jumps back up the page: {tops}"

    for item in focused:
        assert item["outline"] != "none" and item["outlineWidth"] > 0, f"no visible focus ring on {item}"
