"""A mail worker that runs for days writes each email from the data as it is when the email is written.

A real `flask --app wsgi mail worker` process (the file backend, as `make run` starts it) runs throughout while
an organiser changes the summit's venue and its "why it matters" text between sends of invitations."""

from __future__ import annotations

from sqlalchemy import select, update

from app.core.db import db
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import mailing
from tests.support import both_databases
from tests.support import factories as f
from tests.support.mail_worker import MailWorker
from tests.support.organiser import summit_form

ROUNDS = [
    ("Adastral Park", "Martlesham Heath, Ipswich IP5 3RE", "Together we will shape Suffolk's innovation strategy."),
    ("Trinity Park", "Felixstowe Road, Ipswich IP3 8UH", "The people most likely to generate innovation, in one room."),
    ("Endeavour House", "8 Russell Road, Ipswich IP1 2BX", "What we learn here decides next year's programme."),
]


@both_databases
def test_a_running_worker_writes_each_invitation_from_the_summit_as_it_then_is(app, client, tmp_path):
    f.summit()
    f.sign_in(client, f.user(name="Olive Organiser"))
    people_per_round = 2
    expected: dict[str, tuple[str, str, str]] = {}  # recipient -> the venue, address and text they should read
    with MailWorker(app, tmp_path / "worker-outbox", tmp_path) as worker:
        for number, (venue, address, why) in enumerate(ROUNDS, start=1):
            changed = client.post("/organiser/summit", data=summit_form(venue=venue, address=address, tagline=why))
            assert changed.status_code == 302
            for _ in range(people_per_round):
                expected[f.invitation().email] = (venue, address, why)
            assert client.post("/organiser/invitations/send", data={"confirm": "yes"}).status_code == 302
            db.session.rollback()  # hold no transaction (on SQLite, no lock) while the worker writes
            emails = worker.emails(number * people_per_round)  # this round's written before the next change

    assert len(emails) == len(expected) == len(ROUNDS) * people_per_round
    wrong = []
    for email in emails:
        venue, address, why = expected[email["to"]]
        says = [earlier[0] for earlier in ROUNDS if f"summit at {earlier[0]}." in email["text"]]
        others = [part for earlier in ROUNDS if earlier[0] != venue for part in earlier]
        if (
            says != [venue]
            or f"Where: {venue}, {address}" not in email["text"]
            or why not in email["text"]
            or any(part in email["text"] for part in others)
        ):
            wrong.append(f"{email['to']}, written after the change to {venue}: says {says or 'no venue'}")
    assert wrong == [], "emails written from an earlier reading of the summit:\n" + "\n".join(wrong)


@both_databases
def test_each_message_reads_the_rows_afresh_even_in_a_session_that_has_read_them_before(app):
    """`mail send-pending`, or a worker's next message, in a session that already holds the summit: a change
    made elsewhere (another server's request) is what the next message says."""
    summit = f.summit(venue="Adastral Park")
    mailing.send_invitation(f.invitation(email="first@example.org"))
    db.session.commit()
    assert delivery.send_pending().sent == 1  # this session has now read the summit, and keeps it
    with db.engine.begin() as elsewhere:
        elsewhere.execute(update(Summit).where(Summit.id == summit.id).values(venue="Trinity Park"))
    mailing.send_invitation(f.invitation(email="second@example.org"))
    db.session.commit()

    assert delivery.send_pending().sent == 1

    second = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_email == "second@example.org")).one()
    assert "summit at Trinity Park." in second.body_text, second.body_text
