"""Stored mail holds no working personal link: a database dump opens no one's page; delivery puts the link back."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from app.core.db import db
from app.core.mail import delivery
from app.core.mail.backends import FileBackend
from app.core.mail.links import MASK
from app.core.mail.models import OutboxMessage, OutboxStatus
from app.core.mail.outbox import enqueue
from app.core.security import link_token, selector_from_token
from invitations import journey, links, mailing
from invitations.models import Invitation
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.dumps import TOKEN_CHARS, TOKEN_LENGTH, dump, readable
from tests.support.mail_helpers import delivered, delivered_attachment

AFTER_I = re.compile(rb"(?:/|%2F)i(?:/|%2F)([^\s/?#\"'<>&\\]+)", re.IGNORECASE)


def link_candidates(data: bytes) -> tuple[set[str], set[str], set[str]]:
    """What follows /i/ (or %2Fi%2F); every token-sized stretch of URL-safe base64, wherever it sits; and the
    stretches that stand alone, exactly token-sized."""
    after_i = {m.decode("latin-1") for m in AFTER_I.findall(data)}
    runs = [run.decode() for run in TOKEN_CHARS.findall(data)]
    windows = {run[i : i + TOKEN_LENGTH] for run in runs for i in range(len(run) - TOKEN_LENGTH + 1)}
    return after_i, windows, {run for run in runs if len(run) == TOKEN_LENGTH}


def opening(client, candidates: set[str]) -> set[str]:
    """The candidates that open a page."""
    return {c for c in candidates if client.get(f"/i/{c}").status_code != 404}


def send_and_register(app):
    """Invitations sent and delivered; then a registration (with its .ics) and a fringe sign-up still pending."""
    f.summit()
    people = [f.invitation(name=name) for name in ("Ada Lovelace", "Grace Hopper", "Mary Somerville")]
    for person in people:
        mailing.send_invitation(person)
    db.session.commit()
    assert delivery.send_pending().sent == 3
    ada = people[0]
    journey.register(ada, f.details(name=ada.name))
    db.session.commit()
    ff.signed_up(ada, ff.event("Data for neighbourhoods"))
    return people


@both_databases
def test_a_database_dump_opens_no_delegates_page_but_the_delivered_mail_does(app, client):
    people = send_and_register(app)
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert {m.status for m in messages} == {OutboxStatus.SENT, OutboxStatus.PENDING}
    assert {m.kind for m in messages} >= {"invitation", "registration_confirmed", "fringe_signed_up"}

    # Twice: with some messages only queued (their context stored as references), then once the worker has
    # written every one of them (bodies and calendar files on their rows).
    for stage in ("some queued", "all written"):
        after_i, windows, whole = link_candidates(readable(dump(app)))
        assert len(after_i) >= 3, stage
        assert opening(client, after_i | whole) == set(), stage
        # Every stretch, wherever it sits, gets the check that /i/<token> makes.
        assert {w for w in windows if selector_from_token(w)} == set(), stage
        assert any("link-token" in c for c in after_i), stage  # what stands where each link was
        if stage == "some queued":
            delivery.send_pending()
    assert len(windows) > 1000  # the search really looked (names, hashes, the attachments' base64…)

    # The control: the same search over the mail as delivered finds everyone's link, and each one opens.
    as_sent = b"\n".join(
        part.encode()
        for m in map(delivered, messages)
        for part in [m.body_text, m.body_html, *(a["content_b64"] for a in m.attachments)]
    )
    after_i, windows, _ = link_candidates(readable(as_sent))
    tokens = {w for w in windows if selector_from_token(w)}
    assert tokens == {links.token_for(p) for p in people} and tokens <= {c[:TOKEN_LENGTH] for c in after_i}
    assert opening(client, tokens) == tokens


@both_databases
def test_each_link_is_stored_as_its_selector_and_delivered_whole(app):
    people = send_and_register(app)
    ada = db.session.get(Invitation, people[0].id)
    token, placeholder = links.token_for(ada), "{{link-token:%s}}" % ada.link_selector
    confirmation = ff.messages("registration_confirmed", ada.email)[0]
    assert token not in json.dumps(confirmation.params)  # queued: the context, links as placeholders
    assert f"/i/{placeholder}" in json.dumps(confirmation.params)
    delivery.send_pending()  # the worker writes the message, and keeps what it wrote
    db.session.refresh(confirmation)
    assert token not in confirmation.body_text + confirmation.body_html
    assert f"/i/{placeholder}" in confirmation.body_text and f"/i/{placeholder}" in confirmation.body_html

    sent = delivered(confirmation)
    assert links.personal_url(ada) in sent.body_text and links.personal_url(ada) in sent.body_html
    assert "link-token" not in sent.body_text + sent.body_html
    calendar, content_type = delivered_attachment(confirmation, ".ics")
    assert content_type.startswith("text/calendar")
    # The calendar file names the public page, never the personal link (a calendar file travels).
    assert "URL:http://localhost/\r\n" in re.sub(r"\r\n ", "", calendar.decode()) and token not in calendar.decode()
    # The delivered copy was made in memory: the row still holds the placeholder.
    db.session.expire_all()
    assert token not in db.session.get(OutboxMessage, confirmation.id).body_text


def test_the_file_backend_writes_the_working_link(app, tmp_path):
    f.summit()
    inv = f.invitation()
    mailing.send_invitation(inv)
    db.session.commit()
    assert delivery.send_pending(backend=FileBackend(str(tmp_path / "outbox"))).sent == 1
    [summary] = [json.loads(p.read_text()) for p in (tmp_path / "outbox").glob("*.json")]
    [page] = [p.read_text() for p in (tmp_path / "outbox").glob("*.html")]
    assert links.personal_url(inv) in summary["text"] and links.personal_url(inv) in page


def test_text_that_only_looks_like_a_placeholder_never_becomes_a_link(app):
    summit = f.summit()
    victim, target = f.invitation(name="Victim"), f.invitation(name="Target")
    forged = "{{link-token:%s}}" % victim.link_selector  # as someone holding a dump might write it
    message = enqueue(
        "leader_nudge",
        to_email=target.email,
        to_name=target.name,
        subject="A word",
        context=dict(
            invitation=target,
            summit=summit,
            link=links.personal_url(target),
            leader_name="L",
            leader_organisation="O",
            message=f"Open this: http://localhost/i/{forged}",
        ),
    )
    sent = delivered(message)
    assert link_token(victim.link_selector) not in sent.body_text + sent.body_html
    assert f"/i/{MASK}" in sent.body_text
    assert links.personal_url(target) in sent.body_text  # the recipient's own link is still there


def test_the_mail_page_shows_the_message_with_the_link_masked(app, client):
    f.summit()
    inv = f.invitation(name="Ada Lovelace")
    mailing.send_invitation(inv)
    db.session.commit()
    message = ff.messages("invitation")[0]
    f.sign_in(client, f.user())
    page = client.get(f"/organiser/mail/{message.id}").get_data(as_text=True)
    preview = client.get(f"/organiser/mail/{message.id}/preview").get_data(as_text=True)
    for shown in (page, preview):
        assert "Ada" in shown and f"/i/{MASK}" in shown and f"/i/{MASK}/decline" in shown
        assert links.token_for(inv) not in shown and "link-token" not in shown
