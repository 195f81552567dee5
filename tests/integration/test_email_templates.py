"""Every message kind renders in both versions, names its recipient, carries the link, and is signed."""

from __future__ import annotations

import pytest

from app.core.db import utcnow
from app.core.mail.outbox import enqueue
from invitations import links
from tests.support import factories as f
from tests.support.mail_helpers import delivered

KINDS = [
    "invitation",
    "reminder",
    "registration_confirmed",
    "details_changed",
    "registration_cancelled",
    "waitlist_joined",
    "place_offered",
    "offer_expired",
    "colleague_invited",
    "handed_on",
    "leader_nudge",
    "your_link",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_text_and_html_with_the_link(app, kind):
    summit = f.summit()
    inv = f.invitation(name="Ada Lovelace")
    colleague = f.invitation(name="Grace Hopper")
    link = links.personal_url(inv)
    context = dict(
        invitation=inv,
        summit=summit,
        link=link,
        decline_link=link + "/decline",
        position=3,
        expires_at=utcnow(),
        original=inv,
        had_place=True,
        colleague=colleague,
        leader_name="Andrew Good",
        leader_organisation="Mid Suffolk District Council",
        message="Hope you can come.\nIt matters.",
    )
    message = delivered(
        enqueue(kind, to_email=inv.email, to_name=inv.name, subject=f"Subject for {kind}", context=context)
    )
    for body in (message.body_text, message.body_html):
        assert "Ada" in body or "Grace" in body
        assert link in body or (kind == "handed_on" and "Grace Hopper" in body)
    assert 'lang="en-GB"' in message.body_html and "<title>Subject for" in message.body_html
    assert f"The organisers of {summit.name}" in message.body_text or kind == "leader_nudge"
    assert "{{" not in message.body_text + message.body_html


def test_nudge_escapes_the_leaders_text(app):
    summit = f.summit()
    inv = f.invitation()
    message = enqueue(
        "leader_nudge",
        to_email=inv.email,
        subject="A word",
        context=dict(
            invitation=inv,
            summit=summit,
            link="http://x/i/t",
            leader_name="L",
            leader_organisation="O",
            message="<script>alert(1)</script>",
        ),
    )
    html = delivered(message).body_html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
