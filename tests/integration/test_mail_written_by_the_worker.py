"""Mail is written by the worker: a request stores only the message's kind and what it refers to (in its own
transaction, invariant 4); delivery renders the text, HTML and calendar file, and keeps what it sent."""

from __future__ import annotations

import json
from datetime import timedelta

import flask
from icalendar import Calendar
from sqlalchemy import delete, select

from app.core.db import db, utcnow
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage, OutboxStatus
from fringe_events.models import FringeEvent
from invitations.models import Invitation
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.factories import link
from tests.support.mail_helpers import delivered, delivered_attachment
from tests.support.pages import REGISTRATION_FORM
from tests.support.statements import statements


def templates_rendered(app, seen: list[str]):
    def record(sender, template, context, **extra):
        seen.append(template.name)

    flask.template_rendered.connect(record, app)
    return record


@both_databases
def test_registering_writes_the_email_as_references_and_renders_none_of_it(app, client):
    f.summit(capacity=10)
    ada = f.invitation(name="A Lovelace")
    register = link(ada, "register")
    client.get(register)
    seen: list[str] = []
    listener = templates_rendered(app, seen)
    try:
        with statements() as sql:
            response = client.post(register, data=REGISTRATION_FORM)
    finally:
        flask.template_rendered.disconnect(listener, app)
    assert response.status_code == 302
    assert not [name for name in seen if name.startswith("emails/")]  # no email template in the request
    message = db.session.scalars(select(OutboxMessage)).one()
    assert message.kind == "registration_confirmed" and message.body_text is None and message.body_html is None
    assert message.params["invitation"] == {"$row": "Invitation", "id": ada.id}
    assert message.attachments == [
        {
            "filename": "new-horizons.ics",
            "content_type": "text/calendar; method=REQUEST",
            "build": "summit_ics",
            "arguments": {"summit": {"$row": "Summit", "id": message.params["summit"]["id"]}, "attendee": None},
        }
    ]
    # What the POST costs the database, asserted so it can't creep back: the link, the person locked and
    # read again, the gate, the registration, the outbox row and the audit (BEGIN and COMMIT left out).
    work = [s for s in sql if not s.startswith(("BEGIN", "COMMIT"))]
    print(f"\n[{db.engine.dialect.name}] registration POST: {len(work)} statements")
    assert len(work) <= 14, "\n".join(s[:100] for s in work)


@both_databases
def test_the_worker_writes_the_message_once_and_sends_what_it_wrote(app):
    summit = f.summit()
    ada = f.registered(name="Ada Lovelace")
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "registration_confirmed")).one()
    assert message.body_text is None
    as_queued = delivered(message)  # what it will say, written in memory only
    db.session.refresh(message)
    assert message.body_text is None

    assert delivery.send_pending().sent == 1
    db.session.refresh(message)
    assert message.status == OutboxStatus.SENT
    assert "Dear Ada," in message.body_text and "{{link-token:" in message.body_text  # no working link
    sent = delivered(message)
    assert sent.body_text == as_queued.body_text and sent.body_html == as_queued.body_html
    calendar, content_type = delivered_attachment(message, ".ics")
    event = Calendar.from_ical(calendar).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == summit.name and str(event["URL"]) == "http://localhost/"  # never the link
    # Changed later, the stored message stays as it was sent (a retry, or the organisers' Mail page).
    db.session.get(Invitation, ada.id).name = "Grace Hopper"
    db.session.commit()
    assert "Dear Ada," in delivered(message).body_text


@both_databases
def test_a_message_about_something_deleted_since_fails_and_says_why(app):
    f.summit()
    ada = f.registered()
    event = ff.event("Data for neighbourhoods")
    ff.signed_up(ada, event)
    db.session.commit()
    assert delivery.send_pending().sent >= 1  # the registration's confirmation
    db.session.execute(delete(OutboxMessage))
    from fringe_events import signups

    signups.cancel_signup(ada, event)
    db.session.commit()
    queued = db.session.scalars(select(OutboxMessage)).one()
    assert queued.params["event"]["$row"] == "FringeEvent"
    db.session.execute(delete(FringeEvent).where(FringeEvent.id == event.id))
    db.session.commit()

    outcome = delivery.send_pending()
    db.session.refresh(queued)
    assert outcome.failed == 1 and queued.status == OutboxStatus.FAILED
    assert queued.last_error == "Not sent: the fringe event it was about no longer exists."


def test_stored_references_hold_no_personal_link(app):
    f.summit()
    ada = f.invitation()
    from invitations import links, mailing

    mailing.send_invitation(ada)
    db.session.commit()
    message = db.session.scalars(select(OutboxMessage)).one()
    stored = json.dumps(message.params)
    assert links.token_for(ada) not in stored and "{{link-token:" in stored
    assert links.personal_url(ada) in delivered(message).body_text
    assert message.next_attempt_at <= utcnow() + timedelta(seconds=1)
