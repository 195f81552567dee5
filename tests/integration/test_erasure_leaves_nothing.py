"""Erasure erases: after a person erases their data from their own page, or the anonymiser removes it after the
event, no text column of any table holds their name, email address or needs.

Each person goes through everything that writes about them: an invitation, registering, a fringe sign-up,
check-in at the summit and at the fringe event (the scan log), changing their details (and an organiser
correcting their name and address: the audit log), a bounce and a click reported by SendGrid's signed webhook
(provider events), and handing their invitation on to a colleague (emails that name the other person)."""

from __future__ import annotations

import base64
import html
import json
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from markupsafe import escape
from sqlalchemy import JSON, Enum, String, Text, cast, select, update

import app.models  # noqa: F401  (every table in Base.metadata)
from app.checkin.models import ScanLog
from app.core import mobile_numbers
from app.core.audit import AuditEvent
from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import Base, db, utcnow
from app.core.mail import delivery, outbox
from app.core.mail.models import Channel, OutboxMessage, OutboxStatus, ProviderEvent, TextSend
from app.core.summit.models import Summit
from app.texts import services as text_services
from invitations import answers, erasure, journey, links, mailing, people
from invitations.models import Invitation
from invitations.question_models import QuestionKind
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support import question_factories as qf


@dataclass
class Person:
    """What a person gave us over time, every version of it: none of it may survive their erasure."""

    invitation_id: int = 0
    names: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return self.names + self.emails + self.needs


def text_columns():
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            # Enum columns hold states, words we chose.
            if isinstance(column.type, String | Text | JSON) and not isinstance(column.type, Enum):
                yield table, column


def forms_of(word: str) -> set[str]:
    """The word as a column may hold it: as given, HTML-escaped (an email's HTML, either way of writing an
    apostrophe), JSON-escaped (a JSON column)."""
    return {form.lower() for form in (word, html.escape(word), str(escape(word)), json.dumps(word)[1:-1])}


def where_found(person: Person) -> list[str]:
    """Every table.column (and row id) that still holds any version of the person's name, email or needs."""
    db.session.expire_all()
    found = []
    for table, column in text_columns():
        value = cast(column, Text) if isinstance(column.type, JSON) else column
        key = next(iter(table.primary_key.columns))
        for row_id, text in db.session.execute(select(key, value).where(column.is_not(None))):
            lowered = (text or "").lower()
            for word in person.words:
                if any(form in lowered for form in forms_of(word)):
                    found.append(f"{table.name}.{column.name} (row {row_id}) holds {word!r}")
    db.session.rollback()
    return found


# --- the story --------------------------------------------------------------------------------------------


@pytest.fixture
def webhook_key(app):
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = base64.b64encode(public).decode()
    return private


def provider_reports(client, private, events: list[dict]) -> None:
    timestamp = str(int(time.time()))
    body = json.dumps(events)
    signature = base64.b64encode(private.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))).decode()
    response = client.post(
        "/webhooks/sendgrid",
        data=body,
        content_type="application/json",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )
    assert response.status_code == 200 and response.get_json()["recorded"] == len(events), response.data


def bounce_and_click(client, private, person: Person, tag: str) -> None:
    """SendGrid reports a click on the person's latest email and then a bounce, both naming their address."""
    db.session.expire_all()
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.invitation_id == person.invitation_id, OutboxMessage.channel == Channel.EMAIL)
        .order_by(OutboxMessage.id.desc())
    ).first()
    assert message is not None and message.provider_id
    email = person.emails[-1]
    db.session.rollback()
    common = {"email": email, "sg_message_id": f"{message.provider_id}.filter1", "outbox_id": str(message.id)}
    provider_reports(
        client,
        private,
        [
            {
                **common,
                "event": "click",
                "sg_event_id": f"{tag}-click",
                "timestamp": int(time.time()),
                "url": f"http://localhost/i/{links.token_for(db.session.get(Invitation, person.invitation_id))}",
            },
            {
                **common,
                "event": "bounce",
                "sg_event_id": f"{tag}-bounce",
                "timestamp": int(time.time()),
                "reason": f"550 5.1.1 <{email}>: Recipient address rejected: mailbox full",
            },
        ],
    )
    db.session.expire_all()
    assert db.session.get(Invitation, person.invitation_id).bounced_at is not None  # flagged "wrong address?"
    db.session.rollback()


def check_in(client, door: str, person: Person, event: str) -> None:
    code = db.session.get(Invitation, person.invitation_id).code
    # The steward confirms the event: near midnight the fringe event (an hour from now) may be tomorrow's.
    answer = client.post(
        "/api/v1/checkin",
        json={"code": code, "event": event, "confirmed": True},
        headers={"Authorization": f"Bearer {door}"},
    ).get_json()
    assert answer["status"] == "ok" and answer["person"]["name"] == person.names[-1], answer


def change_own_details(
    client, person: Person, name: str, dietary: str, access: str, hope: str, mobile: str = ""
) -> None:
    invitation = db.session.get(Invitation, person.invitation_id)
    response = client.post(
        f.link(invitation, "details"),
        data={
            "name": name,
            "organisation": invitation.organisation,
            "job_title": "Policy lead",
            "dietary": dietary,
            "access_needs": access,
            "mobile": mobile,
            **{q.field_name: hope for q in answers.shown_questions()},  # their answer to the registration question
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    person.names.append(name)
    person.needs += [dietary, access, hope]
    if mobile:
        person.needs += mobile_forms(mobile)


def mobile_forms(typed: str) -> list[str]:
    """A mobile number as typed, as stored (E.164) and as shown (07400 123456)."""
    stored = mobile_numbers.uk_mobile(typed)
    return [typed, stored, mobile_numbers.shown(stored)]


def text_them(person: Person) -> None:
    """An organiser's text reaches them (the worker can't send it without GOV.UK Notify: the row stays, failed)."""
    invitation = db.session.get(Invitation, person.invitation_id)
    record = TextSend(idempotency_key=text_services.new_key(), audience="summit", body="Doors open at 8:30.")
    db.session.add(record)
    db.session.flush()
    outbox.enqueue_text(
        to_phone=invitation.mobile or "",
        to_name=invitation.name,
        subject="Text to everyone registered for the summit",
        text=text_services.personal_text("Doors open at 8:30, ((first_name)): ((badge_link))", invitation),
        invitation_id=invitation.id,
        text_send_id=record.id,
    )
    db.session.commit()


def organiser_corrects(client, organiser, person: Person, name: str, email: str) -> None:
    invitation = db.session.get(Invitation, person.invitation_id)
    f.sign_in(client, organiser)
    response = client.post(
        f"/organiser/invitations/{invitation.id}/edit",
        data={
            "email": email,
            "name": name,
            "organisation": invitation.organisation,
            "job_title": "Policy lead",
            "sector": "",
            "champion_id": "0",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    client.post("/sign-out")
    person.names.append(name)
    person.emails.append(email)


def deliver_everything() -> None:
    delivery.send_pending()
    db.session.rollback()


def the_whole_story(client, webhook_key) -> tuple[Person, Person]:
    """Oliver is invited, registers, signs up for a fringe event, is checked in at both, changes his details,
    has his name and address corrected by an organiser, bounces, and hands his place on to Róisín, who is checked
    in at both, changes her details and bounces too. Returns (Oliver, Róisín)."""
    now = utcnow()
    f.summit(starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=6))
    fringe = ff.event("Digital by default", starts_at=now + timedelta(hours=1))
    organiser = f.user(Role.ORGANISER, name="Olive Organiser")
    steward = f.user(Role.STEWARD, name="Sam Steward")
    door = credentials.issue_api_token(steward)
    hopes = qf.question("What do you hope to take away?", QuestionKind.LONG_TEXT)
    db.session.commit()

    oliver = Person(names=["Oliver Walker"], emails=["oliver.walker@example.org"])
    invitation = f.invitation(email=oliver.emails[0], name=oliver.names[0])
    oliver.invitation_id = invitation.id
    mailing.send_invitation(invitation)
    db.session.commit()
    deliver_everything()

    oliver.needs += [
        "Coeliac: no gluten at all, please",
        "A hearing loop in the main hall",
        "A way to share Felixstowe's port data",
    ]
    registered = client.post(
        f.link(invitation, "register"),
        data={
            "name": oliver.names[0],
            "organisation": "Suffolk County Council",
            "job_title": "Officer",
            "dietary": oliver.needs[0],
            "access_needs": oliver.needs[1],
            hopes.field_name: oliver.needs[2],
            "mobile": "07400 123456",
            "consent": "y",
        },
    )
    assert registered.status_code == 302, registered.get_data(as_text=True)[:800]
    oliver.needs += mobile_forms("07400 123456")
    text_them(oliver)
    assert client.post(ff.link(invitation, f"fringe/{fringe.slug}/sign-up")).status_code == 302
    deliver_everything()
    check_in(client, door, oliver, "summit")
    check_in(client, door, oliver, fringe.slug)
    change_own_details(
        client,
        oliver,
        "Oliver J Walker",
        "Gluten free and vegetarian",
        "Step-free access to seats",
        "Partners for the Ipswich waterfront bid",
        mobile="+44 7400 654321",
    )
    text_them(oliver)
    deliver_everything()
    bounce_and_click(client, webhook_key, oliver, "oliver-1")
    organiser_corrects(client, organiser, oliver, "Oliver James Walker", "o.walker@example.org")
    mailing.send_invitation(db.session.get(Invitation, oliver.invitation_id))  # a re-send to the right address
    db.session.commit()
    deliver_everything()
    bounce_and_click(client, webhook_key, oliver, "oliver-2")

    roisin = Person(names=["Róisín O'Neill"], emails=["roisin.oneill@example.org"])
    handed = client.post(
        f.link(db.session.get(Invitation, oliver.invitation_id), "colleague"),
        data={
            "name": roisin.names[0],
            "email": roisin.emails[0],
            "organisation": "Ipswich Borough Council",
            "job_title": "Officer",
        },
    )
    assert handed.status_code == 302, handed.get_data(as_text=True)[:800]
    db.session.expire_all()
    roisin.invitation_id = db.session.scalars(select(Invitation.id).where(Invitation.email == roisin.emails[0])).one()
    deliver_everything()
    check_in(client, door, roisin, "summit")
    check_in(client, door, roisin, fringe.slug)
    change_own_details(
        client,
        roisin,
        "Róisín O'Neill-Byrne",
        "Halal, and no nuts",
        "A seat near the door",
        "Lowestoft's offshore wind skills",
        mobile="07400 777888",
    )
    text_them(roisin)
    deliver_everything()
    bounce_and_click(client, webhook_key, roisin, "roisin-1")
    deliver_everything()
    return oliver, roisin


def the_story_is_all_there(oliver: Person, roisin: Person) -> None:
    """Before erasure every kind of place holds them: so the search below can see what it looks for. And no
    subject names anyone but its recipient (the hand-on's emails name the other person only in their text)."""
    found = "\n".join(where_found(oliver) + where_found(roisin))
    for place in (
        "invitation.",
        "registration.",
        "answer.text",
        "outbox_message.body_html",
        "outbox_message.to_phone",
        "provider_event.",
    ):
        assert place in found, place
    messages = db.session.execute(select(OutboxMessage.invitation_id, OutboxMessage.kind, OutboxMessage.subject)).all()
    assert {"colleague_invited", "handed_on"} <= {kind for _, kind, _ in messages}
    for recipient, kind, subject in messages:
        for other in (oliver, roisin):
            if other.invitation_id != recipient:
                assert not [name for name in other.names if name.lower() in subject.lower()], (kind, subject)
    db.session.rollback()


def erase_from_their_own_page(client, person: Person) -> None:
    token = links.token_for(db.session.get(Invitation, person.invitation_id))
    assert client.get(f"/i/{token}/erase").status_code == 200
    response = client.post(f"/i/{token}/erase")
    assert response.status_code == 200 and "erased" in response.get_data(as_text=True).lower()
    deliver_everything()


@both_databases
@pytest.mark.parametrize("who", ["the one who handed on", "the colleague who received"])
def test_a_person_erased_from_their_own_page_is_nowhere_in_the_database(app, client, webhook_key, who):
    oliver, roisin = the_whole_story(client, webhook_key)
    the_story_is_all_there(oliver, roisin)
    erased, kept = (oliver, roisin) if who == "the one who handed on" else (roisin, oliver)

    erase_from_their_own_page(client, erased)

    assert where_found(erased) == [], "\n".join(where_found(erased))
    assert where_found(kept), "the other person's data is theirs to keep"
    assert db.session.get(Invitation, erased.invitation_id).erased_at is not None


@both_databases
def test_the_anonymiser_leaves_nobody_in_the_database(app, client, runner, webhook_key):
    oliver, roisin = the_whole_story(client, webhook_key)
    the_story_is_all_there(oliver, roisin)
    now = utcnow()
    db.session.execute(
        update(Summit).values(starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=2, hours=-7))
    )
    db.session.commit()

    result = runner.invoke(args=["privacy", "anonymise", "--older-than", "0"])

    assert result.exit_code == 0, result.output
    left = where_found(oliver) + where_found(roisin)
    assert left == [], "\n".join(left)
    db.session.expire_all()
    assert db.session.scalars(select(Invitation.name).where(Invitation.erased_at.is_(None))).all() == []
    assert db.session.scalar(select(ProviderEvent.id).limit(1)) is not None  # the events are kept, without them


# --- rows written before the product stopped keeping people in them -------------------------------------------


@both_databases
def test_erasure_also_clears_what_was_written_before_rows_stopped_naming_people(app, client):
    """A scan-log answer with the person and their needs, audit rows quoting their name and address, provider
    events carrying it, and an email still waiting to go: as a database upgraded from an earlier release holds."""
    f.summit()
    ada = Person(names=["Ada Lovelace", "Ada King"], emails=["ada@example.org", "ada.king@example.org"])
    ada.needs = ["Vegan, and no nuts", "A quiet room to rest"]
    invitation = f.invitation(email=ada.emails[0], name=ada.names[0])
    ada.invitation_id = invitation.id
    journey.register(invitation, f.details(name=ada.names[0], dietary=ada.needs[0], access_needs=ada.needs[1]))
    db.session.commit()
    steward = f.user(Role.STEWARD, name="Sam Steward")
    person = {"name": ada.names[0], "organisation": "Suffolk County Council", "needs": [{"text": ada.needs[0]}]}
    db.session.add_all(
        [
            ScanLog(
                user_id=steward.id,
                event_key="summit",
                code=invitation.code,
                status="ok",
                invitation_id=invitation.id,
                response=json.dumps({"status": "ok", "person": person}, separators=(",", ":")),
            ),
            AuditEvent(action="invitation.created", invitation_id=invitation.id, details={"email": ada.emails[0]}),
            AuditEvent(
                action="invitation.updated",
                invitation_id=invitation.id,
                actor_label="Olive Organiser",
                details={
                    "before": {"name": ada.names[1], "email": ada.emails[1], "organisation": "Suffolk"},
                    "after": {"name": ada.names[0], "email": ada.emails[0], "organisation": "Suffolk County Council"},
                },
            ),
            AuditEvent(action="invitation.handed_on", invitation_id=invitation.id, actor_label=ada.names[1]),
            ProviderEvent(
                sg_event_id="old-1",
                invitation_id=invitation.id,
                event="bounce",
                reason=f"550 <{ada.emails[1]}> unknown",
                payload={"email": ada.emails[1], "event": "bounce"},
            ),
            ProviderEvent(sg_event_id="old-2", event="dropped", reason=f"Bounced Address {ada.emails[0].upper()}"),
        ]
    )
    db.session.commit()
    waiting = db.session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id == ada.invitation_id)).one()
    assert waiting.status == OutboxStatus.PENDING  # the confirmation, not delivered yet
    assert len(where_found(ada)) >= 9

    assert client.post(f.link(invitation, "erase")).status_code == 200

    assert where_found(ada) == [], "\n".join(where_found(ada))
    db.session.expire_all()
    waiting = db.session.get(OutboxMessage, waiting.id)
    assert waiting.status == OutboxStatus.FAILED and waiting.last_error == erasure.NOT_SENT  # never sent now
    assert delivery.send_pending().sent == 0
    updated = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invitation.updated")).one()
    assert updated.details == {
        "before": {"organisation": "Suffolk"},
        "after": {"organisation": "Suffolk County Council"},
        "changed": ["name", "email"],
    }
    assert db.session.scalars(select(ProviderEvent.payload).where(ProviderEvent.sg_event_id == "old-1")).one() == {
        "event": "bounce"
    }


# --- the audit log names people when it is read ----------------------------------------------------------------


def test_the_audit_log_says_what_changed_without_keeping_it_and_shows_an_erased_person_as_such(app, client):
    f.summit()
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    jane = f.invitation(name="Jane Doe", email="jane@example.org")
    people.update_invitation(
        jane,
        people.InviteeData(email="jane.doe@example.org", name="Jane A Doe", organisation="Ipswich Borough Council"),
        actor=olive,
    )
    db.session.commit()
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "invitation.updated")).one()
    assert row.details == {
        "before": {"organisation": "Suffolk County Council", "champion_id": None},
        "after": {"organisation": "Ipswich Borough Council", "champion_id": None},
        "changed": ["name", "email", "job_title"],
    }
    f.sign_in(client, olive)

    def log() -> str:
        return html.unescape(client.get("/organiser/audit/").get_data(as_text=True))

    assert (
        f'Olive Organiser changed <a href="/organiser/invitations/{jane.id}">Jane A Doe</a>\'s details: the email; '
        "the name; the organisation from “Suffolk County Council” to “Ipswich Borough Council”; the job title." in log()
    )
    token = links.token_for(jane)
    client.post("/sign-out")
    assert client.post(f"/i/{token}/erase").status_code == 200
    f.sign_in(client, olive)
    page = log()
    assert "Jane" not in page
    assert (
        f'Olive Organiser changed <a href="/organiser/invitations/{jane.id}">an erased delegate</a>\'s details' in page
    )
    assert (
        f'<a href="/organiser/invitations/{jane.id}">A delegate</a> had their personal data erased, as they asked.'
        in page
    )
