"""Who a text goes to, what each person's says, and sending it once: one text per person per press of Send.

A text is written for each person when it is sent (their badge link and their stop link in it), and stored with
every working link concealed, as an email is (app.core.mail.links): the worker puts the links back as it sends.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import audit, sms
from app.core.db import db
from app.core.errors import Conflict, ValidationFailed
from app.core.mail import outbox
from app.core.mail.models import TextSend
from app.core.security import link_token
from app.core.urls import external_url
from config import texts_problems
from fringe_events.models import FringeEvent, FringeSignup, FringeStatus, SignupState
from invitations import texting
from invitations.models import Invitation, InvitationState

SUMMIT = "summit"
# Notify refuses a text longer than this many characters (6 fragments of 153).
MOST_CHARACTERS = 918
PLACEHOLDERS = {"badge_link", "first_name"}
_PLACEHOLDER = re.compile(r"\(\(([^()]*)\)\)")
STOP_LINE = "Stop texts: {url}"


def problems() -> list[str]:
    """Why texts can't be sent now (the page says so and offers no Send); empty when they can."""
    return texts_problems(current_app.config)


def new_key() -> str:
    """The idempotency key the confirmation form carries: one send, however many times it is pressed."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Audience:
    key: str  # "summit" or "fringe:<id>"
    label: str  # "everyone registered for the summit"
    event: FringeEvent | None = None


def audiences() -> list[Audience]:
    """The summit's delegates, then each fringe event still on, by when it starts."""
    events = db.session.scalars(
        select(FringeEvent).where(FringeEvent.status == FringeStatus.SCHEDULED).order_by(FringeEvent.starts_at)
    ).all()
    return [
        Audience(SUMMIT, "everyone registered for the summit"),
        *(Audience(f"fringe:{e.id}", f"everyone signed up for {e.title}", e) for e in events),
    ]


def audience_for(key: str) -> Audience:
    for audience in audiences():
        if audience.key == key:
            return audience
    raise ValidationFailed("Choose who the text goes to.", field="audience")


@dataclass(frozen=True)
class Group:
    """Who a text to an audience reaches, and who it leaves out and why."""

    recipients: list[Invitation]
    without_number: int
    stopped: int


def group(audience: Audience) -> Group:
    """The audience's registered people (a fringe event's confirmed sign-ups), in order of name: those with a
    number who haven't stopped texts get one."""
    if audience.event is None:
        query = select(Invitation).where(Invitation.state == InvitationState.REGISTERED)
    else:
        query = (
            select(Invitation)
            .join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
            .where(
                FringeSignup.fringe_event_id == audience.event.id,
                FringeSignup.state == SignupState.CONFIRMED,
                Invitation.state.notin_([InvitationState.REVOKED, InvitationState.HANDED_ON]),
            )
        )
    people = db.session.scalars(query.where(Invitation.erased_at.is_(None)).order_by(Invitation.name, Invitation.id))
    recipients, without_number, stopped = [], 0, 0
    for person in people:
        if not person.mobile:
            without_number += 1
        elif person.texts_stopped_at is not None:
            stopped += 1
        else:
            recipients.append(person)
    return Group(recipients, without_number, stopped)


def check_body(body: str) -> str:
    body = (body or "").strip().replace("\r\n", "\n")
    if not body:
        raise ValidationFailed("Write the text to send.", field="body")
    unknown = sorted({name for name in _PLACEHOLDER.findall(body) if name.strip() not in PLACEHOLDERS})
    if unknown:
        raise ValidationFailed(
            f"(({unknown[0]})) is not something we can fill in: use ((badge_link)) or ((first_name)), or take it out.",
            field="body",
        )
    return body


def personal_text(body: str, person: Invitation) -> str:
    """The text as this person gets it: their first name and badge link filled in, and their stop link below."""
    values = {
        "first_name": person.first_name,
        "badge_link": external_url("badges.page", token=link_token(person.link_selector)),
    }
    words = _PLACEHOLDER.sub(lambda match: values[match.group(1).strip()], body)
    return f"{words}\n\n{STOP_LINE.format(url=texting.stop_url(person))}"


@dataclass(frozen=True)
class Preview:
    audience: Audience
    body: str
    group: Group
    example: str | None  # one recipient's text, links and all (shown to the organiser with the links masked)
    example_name: str | None
    length: sms.Length | None

    @property
    def total_fragments(self) -> int:
        return len(self.group.recipients) * (self.length.fragments if self.length else 0)


def preview(audience_key: str, body: str) -> Preview:
    """What a send would do, changing nothing: who gets it, one person's text, its length and fragments."""
    audience = audience_for(audience_key)
    body = check_body(body)
    found = group(audience)
    first = found.recipients[0] if found.recipients else None
    example = personal_text(body, first) if first is not None else None
    if example is None:  # nobody to text: measure it with a stand-in's links, which are as long as anyone's
        example_length = sms.measure(_stand_in_text(body))
    else:
        example_length = sms.measure(example)
    if example_length.characters > MOST_CHARACTERS:
        raise ValidationFailed(
            f"With the links filled in, the text is {example_length.characters} characters: GOV.UK Notify sends "
            f"no more than {MOST_CHARACTERS}. Shorten it.",
            field="body",
        )
    return Preview(audience, body, found, example, first.name if first else None, example_length)


def _stand_in_text(body: str) -> str:
    person = Invitation(name="Sam Example", link_selector="A" * 22, text_stop_selector="A" * 8)
    return personal_text(body, person)


def send(key: str, audience_key: str, body: str, actor) -> TextSend:
    """Queue one text to each person the audience reaches now, once for this key: a second press, or the same
    form sent twice, sends nothing more (Conflict). Raises ValidationFailed for a text that can't go."""
    if problems():
        raise Conflict(problems()[0])
    if not key or len(key) > 64:
        raise ValidationFailed("This form has expired: preview the text again, then send it.")
    db.will_write()
    if db.session.scalars(select(TextSend.id).where(TextSend.idempotency_key == key)).first() is not None:
        raise Conflict(_ALREADY)
    seen = preview(audience_key, body)
    if not seen.group.recipients:
        raise ValidationFailed("Nobody in this group has given a mobile number (or all have stopped texts).")
    record = TextSend(
        idempotency_key=key,
        audience=seen.audience.key,
        audience_label=seen.audience.label,
        body=seen.body,
        recipients=len(seen.group.recipients),
        fragments=seen.length.fragments if seen.length else 0,
        sent_by_id=getattr(actor, "id", None),
    )
    try:
        with db.session.begin_nested():  # the same key sent at the same moment: one wins, the other sends nothing
            db.session.add(record)
    except IntegrityError:
        raise Conflict(_ALREADY) from None
    subject = f"Text to {seen.audience.label}"
    for person in seen.group.recipients:
        outbox.enqueue_text(
            to_phone=person.mobile or "",
            to_name=person.name,
            subject=subject,
            text=personal_text(seen.body, person),
            invitation_id=person.id,
            text_send_id=record.id,
        )
    audit.record(
        "texts.sent",
        actor=actor,
        text_send_id=record.id,
        audience=record.audience,
        audience_label=record.audience_label,
        recipients=record.recipients,
        fragments=record.fragments,
    )
    db.session.flush()
    return record


_ALREADY = "These texts have been sent already: each person gets one. To send another text, write it again."
