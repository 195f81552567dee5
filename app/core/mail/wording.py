"""The organisers' own wording of a message: checked when saved, and written into the email when it goes.

The markup is Markdown (paragraphs, a line break for each new line, **bold**, *italics*, [links](…), lists),
rendered by the `markdown` package and its HTML cleaned by `nh3` down to a small allow-list. Placeholders
such as `((first_name))` are put in after that, each value escaped and in one pass: a person whose name is
`((personal_link))`, `<script>` or `**x**` gets exactly those characters in their email, nothing more.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

import markdown
import nh3
from sqlalchemy import select

from app.core import audit
from app.core.db import db, utcnow
from app.core.errors import ValidationFailed
from app.core.mail.models import MessageWording
from app.core.mail.wording_defaults import KINDS, PLACEHOLDERS, MessageKind
from app.core.text_input import single_line
from app.core.timefmt import span, when

ALLOWED_TAGS = {"p", "a", "strong", "em", "ul", "ol", "li", "br"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Anything written between double brackets is meant as a placeholder: it is named on save if unknown.
WRITTEN_PLACEHOLDER_RE = re.compile(r"\(\(([^()\n]*)\)\)")
_NAME = r"([a-z_]+)"
_TEXT_PLACEHOLDER_RE = re.compile(r"\(\(" + _NAME + r"\)\)")
# In sanitised HTML: a paragraph that is nothing but a link to a link placeholder (the email's button), a
# placeholder as a link's address, or a placeholder in the text.
_VALUE_RE = re.compile(
    r'<p><a href="\(\(' + _NAME + r'\)\)">([^<]*)</a></p>|href="\(\(' + _NAME + r'\)\)"|\(\(' + _NAME + r"\)\)"
)
_MD_LINK_RE = re.compile(r"\[([^\]\n]+)\]\((\(\([a-z_]+\)\)|[^()\s]+)\)")
SUBJECT_MAX = 300
BODY_MAX = 20_000

P_STYLE = "margin:0 0 16px;"
LINK_STYLE = "color:#0b5563;"
BUTTON = (
    '<p style="margin:24px 0;"><a style="display:inline-block;box-sizing:border-box;min-height:44px;'
    "padding:12px 24px;background-color:#0b5563;border:2px solid #0b5563;border-radius:6px;color:#ffffff;"
    'font-size:18px;font-weight:bold;line-height:20px;text-decoration:none;" href="%s">%s</a></p>'
    '<p style="margin:0 0 16px;font-size:14px;color:#4a5056;">If the button doesn\'t work, copy this address into '
    'your web browser:<br><a style="color:#0b5563;word-break:break-all;" href="%s">%s</a></p>'
)


def kind_or_none(name: str) -> MessageKind | None:
    return KINDS.get(name)


# --- checking what an organiser wrote ------------------------------------------------------------------


def problems(kind: MessageKind, subject: str, body: str) -> dict[str, list[str]]:
    """What is wrong with this wording, field by field (empty when it can be saved)."""
    found: dict[str, list[str]] = {"subject": [], "body": []}
    if not subject.strip():
        found["subject"].append("Write a subject.")
    if len(subject) > SUBJECT_MAX:
        found["subject"].append(f"Keep the subject under {SUBJECT_MAX} characters.")
    if not body.strip():
        found["body"].append("Write the message.")
    if len(body) > BODY_MAX:
        found["body"].append(f"Keep the message under {BODY_MAX:,} characters.")
    for field, text in (("subject", subject), ("body", body)):
        unknown = [name for name in written_placeholders(text) if name not in kind.placeholders]
        if unknown:
            found[field].append(
                f"{_listed(unknown)} {'is not a placeholder' if len(unknown) == 1 else 'are not placeholders'} "
                f"this message offers; it offers {_listed(kind.placeholders)}."
            )
    links_in_subject = [n for n in written_placeholders(subject) if n in PLACEHOLDERS and PLACEHOLDERS[n].link]
    if links_in_subject:
        found["subject"].append(f"A link can't go in a subject: take out {_listed(links_in_subject)}.")
    missing = [name for name in kind.required if name not in written_placeholders(body)]
    if missing:
        found["body"].append(
            f"This message must carry {_listed(missing)}, or the person can't act on it: put it back in the message."
        )
    return {field: messages for field, messages in found.items() if messages}


def written_placeholders(text: str) -> list[str]:
    """Every ((…)) in the text, in order, each once."""
    return list(dict.fromkeys(match.group(1).strip() for match in WRITTEN_PLACEHOLDER_RE.finditer(text)))


def _listed(names) -> str:
    names = [f"(({name}))" for name in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# --- what each placeholder stands for -------------------------------------------------------------------


def values(context: Mapping[str, Any]) -> dict[str, str]:
    """Each placeholder's value for a message's context (the template context: invitation, summit, link …)."""
    invitation = context.get("invitation")
    user = context.get("user")
    summit = context.get("summit")
    person_name = getattr(invitation, "name", None) or getattr(user, "name", None) or context.get("to_name") or ""
    found: dict[str, str] = {
        "name": person_name,
        "first_name": person_name.split()[0] if person_name.strip() else person_name,
        "summit_name": getattr(summit, "name", None) or context.get("summit_name") or "",
        "summit_tagline": getattr(summit, "tagline", "") or "",
        "organisation": getattr(invitation, "organisation", None) or "not given",
        "job_title": getattr(invitation, "job_title", None) or "not given",
    }
    if summit is not None:
        found["summit_date"] = span(summit.starts_at, summit.ends_at)
        venue_first = summit.venue and summit.venue not in summit.address
        found["venue"] = f"{summit.venue}, {summit.address}" if venue_first else summit.address
        found["venue_name"] = summit.venue or summit.address
    link = context.get("link") or ""
    found["personal_link"] = link if user is None else ""
    found["sign_in_link"] = link if user is not None else ""
    found["decline_link"] = context.get("decline_link") or ""
    found["minutes"] = str(context.get("minutes") or "")
    expires = context.get("expires_at") or context.get("offer_expires_at")
    found["offer_expires"] = when(expires) if expires else ""
    found["position"] = str(context.get("position") or "")
    found["original_name"] = getattr(context.get("original"), "name", "") or ""
    found["colleague_name"] = getattr(context.get("colleague"), "name", "") or ""
    found["changes"] = "\n".join(
        f"- {label}: now {after} (was {before})" for label, before, after in context.get("changes") or []
    )
    found["leader_name"] = context.get("leader_name") or ""
    found["leader_organisation"] = context.get("leader_organisation") or ""
    found["leader_message"] = context.get("message") or ""
    found["reason"] = context.get("reason") or ""
    event = context.get("event")
    if event is not None:
        found["event_title"] = event.title
        found["event_date"] = span(event.starts_at, event.ends_at)
        found["event_place"] = context.get("place") or ""
        found["event_link"] = context.get("event_link") or ""
    return found


# --- writing the message --------------------------------------------------------------------------------


def subject_line(subject: str, found: Mapping[str, str]) -> str:
    return single_line(_substitute_text(subject, found)) or ""


def html_fragment(body: str, found: Mapping[str, str]) -> str:
    """The body as sanitised HTML with each placeholder's value put in, escaped."""
    cleaned = nh3.clean(
        markdown.markdown(body, extensions=["nl2br"]),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=None,
    )
    # One pass over the sanitised HTML puts every value in, escaped: a value is never looked at again, so a
    # name like "((personal_link))" stays those characters.
    cleaned = _VALUE_RE.sub(lambda match: _value_html(match, found), cleaned)
    cleaned = cleaned.replace("<p>", f'<p style="{P_STYLE}">').replace("<a href=", f'<a style="{LINK_STYLE}" href=')
    cleaned = cleaned.replace("<ul>", f'<ul style="{P_STYLE}">').replace("<ol>", f'<ol style="{P_STYLE}">')
    return re.sub(rf'<p style="{re.escape(P_STYLE)}">\s*</p>\n?', "", cleaned)  # a paragraph of an empty value


def _value_html(match: re.Match, found: Mapping[str, str]) -> str:
    button, label, href, name = match.groups()
    if button is not None:
        url = html.escape(found.get(button, ""), quote=True)
        # The organiser's own words on the button may hold placeholders too (the label, never a value, is read).
        label = _TEXT_PLACEHOLDER_RE.sub(lambda m: html.escape(found.get(m.group(1), ""), quote=True), label)
        if button in PLACEHOLDERS and PLACEHOLDERS[button].link and url:
            return BUTTON % (url, label, url, url)
        return f'<p><a href="{url}">{label}</a></p>'
    if href is not None:
        return 'href="%s"' % html.escape(found.get(href, ""), quote=True)
    value = html.escape(found.get(name, ""), quote=True)
    if name in PLACEHOLDERS and PLACEHOLDERS[name].link and value:
        return f'<a style="{LINK_STYLE}word-break:break-all;" href="{value}">{value}</a>'
    return value.replace("\n", "<br>\n")


def text_body(body: str, found: Mapping[str, str]) -> str:
    """The plain-text version: the markup made readable (a link's words then its address), values as they are."""
    # Tags an organiser typed are taken out here as the HTML's sanitiser takes them out there.
    body = html.unescape(nh3.clean(body.replace("\r\n", "\n"), tags=set()))
    lines = []
    for line in body.split("\n"):
        alone = _MD_LINK_RE.fullmatch(line.strip())
        if alone:
            lines += [f"{alone.group(1)}:", alone.group(2)]
        else:
            lines.append(_MD_LINK_RE.sub(lambda m: f"{m.group(1)} ({m.group(2)})", line))
    text = "\n".join(lines)
    text = re.sub(r"\*\*(\S(?:.*?\S)?)\*\*", r"\1", text)
    text = re.sub(r"(?<![\w*])\*(\S(?:.*?\S)?)\*(?![\w*])", r"\1", text)
    text = _substitute_text(text, found)
    text = re.sub(r"\n{3,}", "\n\n", text)  # a paragraph whose value was empty
    return text.strip() + "\n"


def _substitute_text(text: str, found: Mapping[str, str]) -> str:
    return _TEXT_PLACEHOLDER_RE.sub(lambda m: found.get(m.group(1), ""), text)


def note_html(note: str, found: Mapping[str, str]) -> str:
    return html_fragment(note, found)


def note_text(note: str, found: Mapping[str, str]) -> str:
    return text_body(note, found)


# --- the organisers' texts, stored ----------------------------------------------------------------------


def custom(kind: str) -> MessageWording | None:
    return db.session.scalars(select(MessageWording).where(MessageWording.kind == kind)).first()


def current(kind: MessageKind) -> tuple[str, str, bool]:
    """(subject, body, edited): the organisers' wording, or the default."""
    row = custom(kind.name)
    if row is None:
        return kind.subject, kind.body, False
    return row.subject, row.body, True


def save(kind: MessageKind, subject: str, body: str, *, actor) -> bool:
    """Keep the organisers' wording (ValidationFailed naming what is wrong); False if nothing changed."""
    body = body.replace("\r\n", "\n")
    subject = single_line(subject) or ""
    found = problems(kind, subject, body)
    if found:
        raise ValidationFailed(" ".join(message for messages in found.values() for message in messages))
    before_subject, before_body, edited = current(kind)
    if (subject, body.strip()) == (before_subject, before_body.strip()):
        return False
    row = custom(kind.name)
    if row is None:
        row = MessageWording(kind=kind.name)
        db.session.add(row)
    row.subject, row.body = subject, body
    row.updated_by_id, row.updated_at = getattr(actor, "id", None), utcnow()
    audit.record(
        "mail.wording_changed",
        actor=actor,
        kind=kind.name,
        before={"subject": before_subject, "body": before_body, "default": not edited},
        after={"subject": subject, "body": body},
    )
    db.session.flush()
    return True


def reset(kind: MessageKind, *, actor) -> bool:
    """Back to the default wording; False if it already was."""
    row = custom(kind.name)
    if row is None:
        return False
    audit.record(
        "mail.wording_reset",
        actor=actor,
        kind=kind.name,
        before={"subject": row.subject, "body": row.body},
        after={"subject": kind.subject, "body": kind.body, "default": True},
    )
    db.session.delete(row)
    db.session.flush()
    return True


def note_problems(note: str, kind: MessageKind) -> list[str]:
    """What is wrong with a one-off covering note for messages of this kind (it may use their placeholders)."""
    found = []
    if len(note) > BODY_MAX:
        found.append(f"Keep the note under {BODY_MAX:,} characters.")
    unknown = [name for name in written_placeholders(note) if name not in kind.placeholders]
    if unknown:
        found.append(
            f"{_listed(unknown)} {'is not a placeholder' if len(unknown) == 1 else 'are not placeholders'} "
            f"the invitation offers; it offers {_listed(kind.placeholders)}."
        )
    return found
