"""Mail written by the worker: a request stores a message's kind and what it refers to; delivery renders it.

A request that changes something writes its email to the outbox in the same transaction (invariant 4),
but rendering two templates and a calendar file is most of what a registration costs. So the outbox row
holds the template's context as references (`{"$row": "Invitation", "id": 7}` for a database row, tagged
datetimes, plain JSON for the rest) and named attachment builders; the worker renders text, HTML and
attachments just before the first attempt to send, and keeps the result (links concealed, see
app.core.mail.links), so a retry sends exactly what the first attempt did and the organisers see it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from flask import render_template
from markupsafe import Markup
from sqlalchemy import inspect

from app.core.db import Base, db
from app.core.mail import backends, wording
from app.core.mail.links import OutgoingMessage, conceal, conceal_attachments, expanded, reveal
from app.core.mail.wording_defaults import KINDS
from app.core.summit import settings as summit_settings

# name -> function(**arguments) -> the attachment's bytes; each domain registers its own
ATTACHMENT_BUILDERS: dict[str, Callable[..., bytes]] = {}


class CannotCompose(Exception):
    """A message can't be written any more: something it refers to is gone (it fails with this reason)."""


def attachment_builder(name: str):
    """Register `function(**arguments) -> bytes` as the attachment builder called `name`."""

    def register(function: Callable[..., bytes]):
        ATTACHMENT_BUILDERS[name] = function
        return function

    return register


def built_attachment(filename: str, content_type: str, builder: str, **arguments) -> dict:
    """An attachment the worker builds at delivery with the registered `builder`, from these arguments."""
    if builder not in ATTACHMENT_BUILDERS:
        raise KeyError(f"no attachment builder called {builder!r}")
    return {"filename": filename, "content_type": content_type, "build": builder, "arguments": encode(arguments)}


# --- the context, as references -------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """A template context made storable: rows by class and id, datetimes tagged, personal links concealed."""
    if isinstance(value, Base):
        state = inspect(value)
        if state.identity is None:  # added in this transaction and not yet flushed: give it its id
            db.session.flush()
        assert state.identity is not None and len(state.identity) == 1
        return {"$row": type(value).__name__, "id": state.identity[0]}
    if isinstance(value, datetime):
        return {"$at": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if isinstance(value, str):
        return conceal(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    raise TypeError(f"a mail context can't hold a {type(value).__name__}: pass a row, a datetime or plain data")


def _row_classes() -> dict[str, type]:
    return {mapper.class_.__name__: mapper.class_ for mapper in Base.registry.mappers}


def decode(value: Any, classes: dict[str, type] | None = None) -> Any:
    classes = classes if classes is not None else _row_classes()
    if isinstance(value, dict):
        if "$row" in value:
            row = db.session.get(classes[value["$row"]], value["id"])
            if row is None:
                what = re.sub(r"(?<!^)(?=[A-Z])", " ", value["$row"]).lower()  # FringeEvent: "fringe event"
                raise CannotCompose(f"the {what} it was about no longer exists")
            return row
        if "$at" in value:
            return datetime.fromisoformat(value["$at"])
        if "$date" in value:
            return date.fromisoformat(value["$date"])
        return {k: decode(v, classes) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, classes) for v in value]
    if isinstance(value, str):
        return reveal(value)  # in memory only: what is stored again is concealed afresh
    return value


# --- writing the message ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Composed:
    body_text: str
    body_html: str
    attachments: list[dict]  # each {"filename", "content_type", "content_b64"}, links concealed
    subject: str | None = None  # the organisers' own subject, when they have worded this kind themselves


def compose(message) -> Composed:
    """The message's text, HTML and attachments: as stored if it has been written, else written now."""
    if message.body_text is not None:
        return Composed(message.body_text, message.body_html or "", list(message.attachments or []))
    classes = _row_classes()
    context = decode(message.params or {}, classes)
    summit = summit_settings.find_summit()
    as_links = not backends.takes_attachments()
    # Every message is signed, and its banner named, as the summit now says (an organiser may rename it).
    context = {
        # A backend that carries no files (GOV.UK Notify): the message gives its calendar files as links instead.
        "attachments_as_links": as_links,
        "to_name": message.to_name,
        "signature_lines": summit_settings.signature_lines(summit),
        "summit_name": summit.name if summit else summit_settings.DEFAULT_NAME,
        **context,
    }
    subject, text, html = _written(message, context)
    attachments = [] if as_links else [_build(item, classes) for item in message.attachments or []]
    return Composed(conceal(text), conceal(html), conceal_attachments(attachments), subject)


def _written(message, context: dict) -> tuple[str | None, str, str]:
    """(subject if the organisers worded it, text, HTML): from their wording when they have written one for this
    kind (read now, so a message says what the wording is when it is written), else from its templates."""
    row = wording.custom(message.kind) if message.kind in KINDS else None
    note = context.get("covering_note") or ""
    found = wording.values(context) if row is not None or note else {}
    note_html = Markup(wording.note_html(note, found)) if note else ""  # sanitised, values escaped
    note_text = wording.note_text(note, found) if note else ""
    if row is None:
        extra = {"covering_note_html": note_html, "covering_note_text": note_text}
        text = render_template(f"emails/{message.kind}.txt", subject=message.subject, **context, **extra)
        html = render_template(f"emails/{message.kind}.html", subject=message.subject, **context, **extra)
        return None, text, html
    subject = ("Test: " if context.get("is_test") else "") + wording.subject_line(row.subject, found)
    content_html = Markup(str(note_html) + wording.html_fragment(row.body, found))  # sanitised, values escaped
    content_text = (note_text + "\n" if note_text else "") + wording.text_body(row.body, found)
    text = render_template("emails/_custom.txt", subject=subject, content=content_text, **context)
    html = render_template("emails/_custom.html", subject=subject, content=content_html, **context)
    return subject, text, html


def _build(item: dict, classes: dict[str, type]) -> dict:
    if "build" not in item:
        return item  # made when the message was queued
    content = ATTACHMENT_BUILDERS[item["build"]](**decode(item["arguments"], classes))
    return {
        "filename": item["filename"],
        "content_type": item["content_type"],
        "content_b64": base64.b64encode(content).decode(),
    }


def write_down(message) -> None:
    """Render a queued message and keep the result on its row (the caller commits)."""
    if message.body_text is None:
        composed = compose(message)
        message.body_text, message.body_html = composed.body_text, composed.body_html
        if composed.subject is not None:
            message.subject = composed.subject
        message.attachments = composed.attachments


def as_sent(message) -> OutgoingMessage:
    """The message as the recipient gets it (written now if the worker hasn't yet), with working links, in
    memory only: the row is not changed."""
    composed = compose(message)
    sender = summit_settings.mail_sender()
    outgoing = expanded(message, composed.body_text, composed.body_html, composed.attachments, sender)
    return replace(outgoing, subject=composed.subject) if composed.subject is not None else outgoing
