"""The accessibility statement (app/public/routes.py, as GOV.UK's model asks) and the footer link to it beside the privacy
notice on every page."""

from __future__ import annotations

import re

import pytest

from app.core.auth.models import Role
from tests.support import factories as f

FOOTER = re.compile(r'<a href="/privacy">Privacy notice</a> · <a href="/accessibility">Accessibility statement</a>')


def test_the_accessibility_statement_says_what_the_gov_uk_model_asks(client):
    response = client.get("/accessibility")
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    for words in (
        "Accessibility statement",
        "Web Content Accessibility Guidelines version 2.2 AA standard",  # the standard
        "How accessible this website is",  # what is known not to meet it
        "Non-accessible content",
        "in a different format",  # how to ask for another format
        "Reporting accessibility problems with this website",
        "Equality and Human Rights Commission (EHRC)",  # the enforcement procedure
        "Equality Commission for Northern Ireland (ECNI)",
        "axe-core",  # how it was tested
        "Nu HTML Checker",
        "with a keyboard alone",
        "This statement was prepared on 1 December 2026",
    ):
        assert words in text, words
    assert 'href="mailto:newhorizons@suffolk.example.org.uk"' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/privacy", "/accessibility", "/sign-in", "/no-such-page", "/i/" + "A" * 44])
def test_the_footer_links_the_statement_beside_the_privacy_notice(client, path):
    f.summit()
    response = client.get(path)
    assert response.mimetype == "text/html"
    assert FOOTER.search(response.get_data(as_text=True)), f"{path} ({response.status_code})"


def test_the_footer_link_is_on_delegates_and_organisers_pages_too(client):
    f.summit()
    invitation = f.invitation()
    assert FOOTER.search(client.get(f.link(invitation)).get_data(as_text=True))
    f.sign_in(client, f.user(Role.ORGANISER))
    assert FOOTER.search(client.get("/organiser/").get_data(as_text=True))
