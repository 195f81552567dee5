"""The organisers' own wording: edited in the browser, checked on save, written into the email safely, previewed,
tested, reset and audited; and the invitation screen's one-off covering note."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.mail import wording
from app.core.mail.compose import compose, write_down
from app.core.mail.links import MASK
from app.core.mail.models import MessageWording, OutboxMessage
from app.core.mail.wording_defaults import KINDS
from app.dashboards import audit_log
from app.dashboards.wording_routes import preview_message, sample_context
from fringe_events import signups
from fringe_events.calendars import event_url
from fringe_events.models import FringeEvent
from invitations import audiences, links, mailing
from invitations.models import Invitation, InvitationState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.busy_summit import busy_summit
from tests.support.mail_helpers import delivered

EDITED_SUBJECT = "Come to ((summit_name)), ((first_name))"
EDITED_BODY = """Hello ((first_name)),

We'd **really** like you at ((summit_name)) on ((summit_date)).

- talks
- *workshops*

[Say yes](((personal_link)))
"""


def organiser(client):
    user = f.user(Role.ORGANISER, email="olive@staff.example.org", name="Olive Organiser")
    f.sign_in(client, user)
    return user


def save(client, kind: str, subject: str, body: str):
    return client.post(f"/organiser/emails/{kind}", data={"subject": subject, "body": body})


def invitation_email(inv: Invitation) -> OutboxMessage:
    mailing.send_invitation(inv)
    db.session.commit()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == inv.id, OutboxMessage.kind == "invitation")
    ).one()


@both_databases
def test_the_edited_wording_reaches_the_subject_the_text_and_the_html(app, client):
    f.summit()
    organiser(client)
    response = save(client, "invitation", EDITED_SUBJECT, EDITED_BODY)
    assert response.status_code == 302
    inv = f.invitation(name="Ada Lovelace")
    sent = delivered(invitation_email(inv))
    link = links.personal_url(inv)
    assert db.session.scalars(select(MessageWording.kind)).all() == ["invitation"]
    assert sent.subject == "Come to The Lives we Lead: New Horizons, Ada"
    assert "Hello Ada," in sent.body_text and "We'd really like you at The Lives we Lead" in sent.body_text
    assert "- workshops" in sent.body_text and f"Say yes:\n{link}" in sent.body_text
    assert "Hello Ada," in sent.body_html and "<strong>really</strong>" in sent.body_html
    assert "<em>workshops</em>" in sent.body_html and "<li>" in sent.body_html
    assert f'href="{link}">Say yes</a>' in sent.body_html and '<a style="display:inline-block;' in sent.body_html
    assert not re.search(r'<[^>]* style="[^"]*"[^>]* style=', sent.body_html)  # one style to a tag, or none works
    assert "We would like to invite you" not in sent.body_text  # the default wording is gone
    assert "Suffolk's public-sector partners" in sent.body_text + sent.body_html  # still signed, in its frame


@both_databases
def test_a_persons_name_changes_nothing_in_the_rendered_email(app, client):
    f.summit()
    organiser(client)
    assert save(client, "invitation", "For ((name))", EDITED_BODY + "\nYou are ((name)).\n").status_code == 302
    for name in ("((personal_link))", "<script>alert(1)</script>", "**x** [y](http://evil.example)"):
        inv = f.invitation(name=name)
        sent = delivered(invitation_email(inv))
        link = links.personal_url(inv)
        assert sent.subject == f"For {name}"
        assert f"You are {name}." in sent.body_text  # as written, in plain text
        assert sent.body_text.count(link) == 1 and sent.body_html.count(link) == 3  # the button and its fallback only
        assert "<script" not in sent.body_html and "<strong>x</strong>" not in sent.body_html
        assert 'href="http://evil.example"' not in sent.body_html
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        assert f"You are {escaped}." in sent.body_html


@both_databases
def test_the_stored_message_holds_no_working_link(app, client):
    f.summit()
    organiser(client)
    save(client, "invitation", EDITED_SUBJECT, EDITED_BODY)
    inv = f.invitation(name="Ada Lovelace")
    message = invitation_email(inv)
    write_down(message)
    db.session.commit()
    token = links.token_for(inv)
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.body_text and "Say yes" in stored.body_text and "Come to" in stored.subject
    for field in (stored.subject, stored.body_text, stored.body_html, repr(stored.params)):
        assert token not in field
    assert "{{link-token:" in stored.body_text and "{{link-token:" in stored.body_html
    assert token in delivered(stored).body_html  # put back only as it is sent


@both_databases
def test_a_required_placeholder_is_refused_and_an_unknown_one_named(app, client):
    f.summit()
    organiser(client)
    response = save(client, "invitation", "Hello", "Dear ((first_name)), come along.")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "This message must carry ((personal_link))" in page
    assert 'id="body-error"' in page  # next to the field
    response = save(client, "invitation", "Hi ((nickname))", "((personal_link)) from ((favourite_colour)).")
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "((nickname)) is not a placeholder this message offers" in page
    assert "((favourite_colour)) is not a placeholder" in page
    response = save(client, "invitation", "Your link: ((personal_link))", "((personal_link))")
    assert response.status_code == 422 and "A link can't go in a subject" in unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(func.count()).select_from(MessageWording)) == 0


@both_databases
def test_back_to_the_default_and_every_change_audited_with_before_and_after(app, client):
    f.summit()
    organiser(client)
    save(client, "reminder", "Still time, ((first_name))", "Do reply: ((personal_link))")
    page = client.get("/organiser/emails/").get_data(as_text=True)
    assert re.search(r"Reminder</a>.*?Edited", page, re.S)
    assert client.post("/organiser/emails/reminder/default").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(MessageWording)) == 0
    assert client.get("/organiser/emails/reminder").get_data(as_text=True).count("gentle reminder") == 1
    inv = f.invitation(name="Ada Lovelace")
    mailing.send_invitation(inv)
    later = utcnow() + timedelta(minutes=1)  # past the invitation itself, which the quiet days would count
    mailing.send_reminders(audiences.Audience(state="not_answered"), quiet_days=0, now=later)
    db.session.commit()
    reminder = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).one()
    sent = delivered(reminder)
    assert sent.subject.startswith("A reminder: your invitation to") and "gentle reminder" in sent.body_text
    changed, reset = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("mail.wording%"))).all()
    assert changed.details["before"]["subject"] == KINDS["reminder"].subject
    assert changed.details["after"] == {"subject": "Still time, ((first_name))", "body": "Do reply: ((personal_link))"}
    assert reset.details["before"]["body"] == "Do reply: ((personal_link))"
    assert reset.details["after"]["body"] == KINDS["reminder"].body
    words = [
        "".join(p if isinstance(p, str) else p.text for p in parts)
        for _, parts in audit_log.sentences([changed, reset])
    ]
    assert words[0] == (
        "Olive Organiser reworded the reminder email: the subject from “A reminder: your invitation to "
        "((summit_name))” to “Still time, ((first_name))” and its message."
    )
    assert words[1].startswith("Olive Organiser put the reminder email back to its default wording")
    assert "reworded the reminder email" in client.get("/organiser/audit/").get_data(as_text=True)


@both_databases
def test_the_preview_shows_the_email_as_the_chosen_invitee_gets_it(app, client):
    f.summit()
    organiser(client)
    save(client, "invitation", EDITED_SUBJECT, EDITED_BODY)
    f.invitation(name="Ada Lovelace")
    grace = f.invitation(name="Grace Hopper", organisation="Navy")
    db.session.commit()
    page = client.get(f"/organiser/emails/invitation/preview?invitation={grace.id}").get_data(as_text=True)
    assert "Come to The Lives we Lead: New Horizons, Grace" in page
    assert "Hello Grace," in page and "Say yes:" in page
    assert f'<option value="{grace.id}" selected>Grace Hopper (Navy)</option>' in page
    assert 'class="mail-preview mail-preview--phone"' in page
    assert links.token_for(grace) not in page and MASK in page  # the organiser sees no working link
    frame = client.get(f"/organiser/emails/invitation/preview.html?invitation={grace.id}")
    html = frame.get_data(as_text=True)
    assert "Hello Grace," in html and "<strong>really</strong>" in html and links.token_for(grace) not in html
    assert "sandbox" in frame.headers["Content-Security-Policy"]
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # a preview sends nothing
    assert client.get("/organiser/emails/invitation/preview?invitation=999999").status_code == 404
    assert client.get("/organiser/emails/invitation/preview?invitation=x").status_code == 400
    assert client.get("/organiser/emails/no_such_email").status_code == 404


@both_databases
def test_send_me_a_test_queues_one_message_to_the_organiser(app, client):
    f.summit()
    olive = organiser(client)
    save(client, "invitation", EDITED_SUBJECT, EDITED_BODY)
    grace = f.invitation(name="Grace Hopper")
    db.session.commit()
    response = client.post("/organiser/emails/invitation/test", data={"invitation": grace.id})
    assert response.status_code == 302
    (message,) = db.session.scalars(select(OutboxMessage)).all()
    assert message.to_email == olive.email and message.invitation_id is None
    sent = delivered(message)
    assert sent.subject == "Test: Come to The Lives we Lead: New Horizons, Grace"
    assert "Hello Grace," in sent.body_text
    assert links.token_for(grace) not in sent.body_text + sent.body_html  # its links open the public page


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_previews_and_its_default_wording_saves(app, client, kind):
    """Each kind's default wording passes its own checks, and previews for an invitee with a fringe event."""
    busy = busy_summit()
    f.sign_in(client, busy.staff["organiser"])
    assert wording.problems(KINDS[kind], KINDS[kind].subject, KINDS[kind].body) == {}
    page = client.get(f"/organiser/emails/{kind}/preview")
    assert page.status_code == 200 and "Plain-text version" in page.get_data(as_text=True)
    assert client.get(f"/organiser/emails/{kind}/preview.html").status_code == 200


def _lines(text: str) -> list[str]:
    """A text email's lines before its signature, compared loosely: spaces, case and a closing colon aside."""
    body = text.split("\n-- \n")[0]
    return [re.sub(r"\s+", " ", line).strip().rstrip(":").lower() for line in body.split("\n") if line.strip()]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_default_wording_says_what_todays_email_says(app, kind):
    """The default wording (what the editor starts from, and what "back to the default" means) is today's email
    in the organisers' markup: written from it for one invitee, nearly every line is a line of today's text.
    (Today's title line, the buttons' words and a few conditional phrases are what may differ.)"""
    busy = busy_summit()
    with app.test_request_context(method="POST"):
        people = select(Invitation).order_by(Invitation.id)
        if kind == "reminder":  # today's reminder suits the person's state: the default is the not-answered one
            people = people.where(Invitation.state == InvitationState.INVITED)
        inv = db.session.scalars(people).first()
        context = sample_context(KINDS[kind], inv, busy.staff["organiser"])
        today = compose(preview_message(KINDS[kind], inv.email, inv.name, context)).body_text
        db.session.add(MessageWording(kind=kind, subject=KINDS[kind].subject, body=KINDS[kind].body))
        db.session.flush()
        default = compose(preview_message(KINDS[kind], inv.email, inv.name, context)).body_text
    assert "We would like to invite you" not in default or kind == "invitation"
    ours, theirs = _lines(default), _lines(today)
    kept = [line for line in ours if line in theirs]
    assert len(kept) >= 0.7 * len(ours), [line for line in ours if line not in theirs]


@both_databases
def test_the_covering_note_goes_above_those_invitations_only(app, client):
    f.summit()
    organiser(client)
    ada = f.invitation(name="Ada Lovelace")
    db.session.commit()
    note = "A word from the **chief executives**, ((first_name)): <script>x()</script> please come."
    response = client.post("/organiser/invitations/send", data={"note": note + " ((secret))"})
    assert response.status_code == 422 and "((secret)) is not a placeholder" in response.get_data(as_text=True)
    asked = client.post("/organiser/invitations/send", data={"note": note})  # the group's page asks first
    assert asked.status_code == 200 and "covering note goes above the invitation" in asked.get_data(as_text=True)
    assert client.post("/organiser/invitations/send", data={"note": note, "confirm": "yes"}).status_code == 302
    sent = delivered(db.session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id == ada.id)).one())
    assert "A word from the chief executives, Ada:  please come." in sent.body_text
    assert "<strong>chief executives</strong>, Ada:" in sent.body_html and "<script" not in sent.body_html
    assert "We would like to invite you" in sent.body_text  # the invitation itself, as worded
    grace = f.invitation(name="Grace Hopper")
    mailing.send_invitation(grace)
    db.session.commit()
    later = delivered(db.session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id == grace.id)).one())
    assert "chief executives" not in later.body_text  # a one-off
    assert save(client, "invitation", EDITED_SUBJECT, EDITED_BODY).status_code == 302  # and with their own wording
    mary = f.invitation(name="Mary Somerville")
    db.session.commit()
    assert client.post("/organiser/invitations/send", data={"note": note, "confirm": "yes"}).status_code == 302
    ours = delivered(db.session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id == mary.id)).one())
    assert "<strong>chief executives</strong>, Mary:" in ours.body_html and "<strong>really</strong>" in ours.body_html
    assert "&lt;p" not in ours.body_html and "A word from the chief executives, Mary:" in ours.body_text
    assert ours.body_text.index("A word from") < ours.body_text.index("Hello Mary,")


def test_a_leader_can_neither_see_nor_change_the_wording(app, client):
    f.summit()
    leader = f.user(Role.LEADER, email="leader@staff.example.org")
    f.sign_in(client, leader)
    assert client.get("/organiser/emails/").status_code == 403
    assert save(client, "invitation", "x", "((personal_link))").status_code == 403
    assert db.session.scalar(select(func.count()).select_from(MessageWording)) == 0


@both_databases
def test_a_reworded_sign_in_link_works_and_is_stored_concealed(app, client):
    f.summit()
    organiser(client)
    body = "Hi ((first_name)), here you are:\n\n[Sign me in](((sign_in_link)))\n\nFor ((minutes)) minutes."
    assert save(client, "sign_in_link", "Sign in to ((summit_name))", body).status_code == 302
    assert save(client, "sign_in_link", "Sign in", "Hi ((first_name))").status_code == 422  # the link is needed
    f.user(Role.LEADER, email="lena@staff.example.org", name="Lena Leader")
    db.session.commit()
    assert credentials.send_sign_in_link("lena@staff.example.org")
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sign_in_link")).one()
    write_down(message)
    db.session.commit()
    stored = db.session.get(OutboxMessage, message.id)
    assert stored.subject == "Sign in to The Lives we Lead: New Horizons"
    assert "{{sign-in-token:" in stored.body_text and "{{sign-in-token:" in stored.body_html
    sent = delivered(stored)
    url = re.search(r"https?://\S+/sign-in/link/[A-Za-z0-9_-]+", sent.body_text).group(0)
    assert "Hi Lena, here you are:" in sent.body_text and f'href="{url}"' in sent.body_html
    assert url.rsplit("/", 1)[1] not in stored.body_text + stored.body_html
    assert client.get(url.replace("http://localhost", "")).status_code == 200  # the link in the email works


@both_databases
def test_a_reworded_fringe_email_carries_the_events_link(app, client):
    busy = busy_summit()
    f.sign_in(client, busy.staff["organiser"])
    body = "((first_name)): ((event_title)) on ((event_date)) at ((event_place)).\n\n((event_link))"
    assert save(client, "fringe_signed_up", "Booked: ((event_title))", body).status_code == 302
    assert save(client, "fringe_signed_up", "Booked", "No link here").status_code == 422
    inv = f.invitation(name="Ada Lovelace")
    event = db.session.get(FringeEvent, busy.events["upcoming"].id)
    signups.sign_up(inv, event)
    db.session.commit()
    booked = select(OutboxMessage).where(
        OutboxMessage.kind == "fringe_signed_up", OutboxMessage.invitation_id == inv.id
    )
    sent = delivered(db.session.scalars(booked).one())
    assert sent.subject == "Booked: Digital by default"
    assert "Ada: Digital by default on " in sent.body_text
    assert "at Endeavour House, 8 Russell Road, Ipswich IP1 2BX." in sent.body_text
    assert event_url(inv, event) in sent.body_text and f'href="{event_url(inv, event)}"' in sent.body_html
