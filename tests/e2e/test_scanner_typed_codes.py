"""A code typed at the door with one character wrong or missing: the scanner says to scan or type it again
(amber), not the red "not one of ours" that a well-formed unknown code still gets."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from app.core.security import new_badge_code
from tests.support.scanner import shot


def test_a_mistyped_code_asks_for_care_and_a_forged_one_stays_red(phone, door):
    page = phone
    field = page.get_by_label("Handheld scanner or typed code")
    result = page.locator("#result")

    field.fill(door.code[:-1])  # the last character missed
    field.press("Enter")
    expect(result).to_have_class(re.compile(r"\bresult--warning\b"))
    expect(result).to_contain_text("That code doesn't look complete — scan it again or type it carefully.")
    expect(result).not_to_contain_text("photo ID")
    shot(page, "05-incomplete")
    assert door.attendances() == 0

    page.get_by_role("button", name="Next").click()
    wrong = door.code[:8] + ("Z" if door.code[8] != "Z" else "Y") + door.code[9:]  # one character wrong
    field.fill(wrong)
    field.press("Enter")
    expect(result).to_have_class(re.compile(r"\bresult--warning\b"))
    expect(result).to_contain_text("doesn't look complete")

    page.get_by_role("button", name="Next").click()
    field.fill(new_badge_code())  # well formed, check character and all, but never issued
    field.press("Enter")
    expect(result).to_have_class(re.compile(r"\bresult--error\b"))
    expect(result).to_contain_text("Not a valid badge")

    page.get_by_role("button", name="Next").click()
    field.fill(door.code.lower())  # typed carefully at last
    field.press("Enter")
    expect(result).to_have_class(re.compile(r"\bresult--ok\b"))
    assert door.attendances() == 1
    assert door.log() == ["incomplete", "incomplete", "invalid", "ok"]
