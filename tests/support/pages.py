"""Pages as a reader sees them, and the CSRF token a form carries."""

from __future__ import annotations

import html as html_lib
import re

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def text(response) -> str:
    """The page as a person reads it (entities such as &#39; unescaped)."""
    return html_lib.unescape(response.get_data(as_text=True))


def plain(response) -> str:
    """The page's words without tags, spaces collapsed: what a reader sees."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


REGISTRATION_FORM = {
    "name": "Ada Lovelace",
    "organisation": "Analytical Engines Ltd",
    "job_title": "Head of Computing",
    "dietary": "Vegan",
    "access_needs": "Step-free access",
    "consent": "y",
}

# The fewest fields a registration needs.
REGISTRATION_FORM_SHORT = {"name": "Ada Lovelace", "organisation": "Engines", "job_title": "", "consent": "y"}


def after(client, response) -> str:
    """The page a redirect lands on, flash and all."""
    assert response.status_code in (302, 303), response.status_code
    return text(client.get(response.headers["Location"]))
