"""The delegate's phone badge at 360px: readable, the QR decodes from the screen, and it opens with the network off."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from app.core.db import db
from invitations import journey
from invitations.models import Invitation
from tests.support import factories as f


def decode_screen(locator) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(locator.screenshot())))]


def test_the_badge_page_shows_offline_once_loaded(live_server, page, shot):
    with live_server.app.app_context():
        grace = db.session.get(Invitation, live_server.delegates["grace"].id)
        journey.register(grace, f.details(name="Grace Hopper", organisation="Harvard Computation Lab"))
        db.session.commit()
        code = grace.code

    page.goto(live_server.link("grace", "badge"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    expect(page.get_by_text("Harvard Computation Lab")).to_be_visible()
    expect(page.locator("#fringe-only")).to_have_count(0)
    qr = page.get_by_role("img", name="Check-in QR code for Grace Hopper")
    assert qr.bounding_box()["width"] >= 300  # large: most of a 360px screen
    assert decode_screen(qr) == [code]
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    expect(page.locator("html[data-offline-ready=true]")).to_be_attached()
    expect(page.locator("#offline-status")).to_contain_text("Saved on this phone")
    shot(page, "badge-01-online")

    page.context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Grace Hopper")
    assert decode_screen(page.get_by_role("img", name="Check-in QR code for Grace Hopper")) == [code]
    assert page.evaluate("getComputedStyle(document.body).fontFamily")  # the stylesheet came from the saved copy
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.phone-badge__band')).backgroundColor")
        == "rgb(11, 85, 99)"
    )
    shot(page, "badge-02-offline")
    page.context.set_offline(False)


def test_without_a_summit_place_the_badge_says_it_is_for_fringe_events(live_server, page, shot):
    page.goto(live_server.link("ada", "badge"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lovelace")
    expect(page.locator("#fringe-only")).to_contain_text("this badge is for the fringe events only")
    assert (
        page.locator("#fringe-only").bounding_box()["y"]
        < page.get_by_role("img", name="Check-in QR code for Ada Lovelace").bounding_box()["y"]
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shot(page, "badge-03-fringe-only")
