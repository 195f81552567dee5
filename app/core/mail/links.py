"""Personal links in stored mail: taken out of a message when it is written, put back only as it is sent.

A personal link's token is a bearer credential, and a database dump must not yield one (DESIGN.md,
Security model). So the outbox stores `{{link-token:SELECTOR}}` where the token was: the selector is
stored on the invitation anyway, and only SECRET_KEY turns it back into the token, in memory, at delivery.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass

from icalendar.parser import Contentline

from app.core.security import (
    TEXT_STOP_TOKEN_LEN,
    calendar_feed_token,
    calendar_selector_from_token,
    link_token,
    new_link_selector,
    password_reset_selector_from_token,
    password_reset_token,
    selector_from_token,
    sign_in_selector_from_token,
    sign_in_token,
    staff_invitation_selector_from_token,
    staff_invitation_token,
    text_stop_selector_from_token,
    text_stop_token,
)

PLACEHOLDER_RE = re.compile(r"\{\{link-token:([A-Za-z0-9_-]+)\}\}")
# A leader's one-time sign-in link is concealed the same way: an organiser reading the Mail page, or a
# database dump, must not be able to sign in as the leader.
SIGN_IN_PLACEHOLDER_RE = re.compile(r"\{\{sign-in-token:([A-Za-z0-9_-]+)\}\}")
# And a calendar feed's address: it opens only the feed, but the feed names where the person will be.
CALENDAR_PLACEHOLDER_RE = re.compile(r"\{\{calendar-token:([A-Za-z0-9_-]+)\}\}")
# And a staff invitation's link and a password-reset link: each would let its holder set the account's password.
STAFF_INVITATION_PLACEHOLDER_RE = re.compile(r"\{\{staff-invitation-token:([A-Za-z0-9_-]+)\}\}")
PASSWORD_RESET_PLACEHOLDER_RE = re.compile(r"\{\{password-reset-token:([A-Za-z0-9_-]+)\}\}")
# And a text's stop link: short, so it has a length of its own (app.core.security.text_stop_token).
TEXT_STOP_PLACEHOLDER_RE = re.compile(r"\{\{text-stop-token:([A-Za-z0-9_-]+)\}\}")
_PLACEHOLDERS = (
    TEXT_STOP_PLACEHOLDER_RE,
    PLACEHOLDER_RE,
    SIGN_IN_PLACEHOLDER_RE,
    CALENDAR_PLACEHOLDER_RE,
    STAFF_INVITATION_PLACEHOLDER_RE,
    PASSWORD_RESET_PLACEHOLDER_RE,
)
MASK = "••••••"  # what the organisers' Mail page shows where the link's token was

# Every run of URL-safe base64 long enough to hold a token. A token is found wherever it sits in the run
# (after /i/, or after %2F in an encoded URL), and is a token only if its MAC checks out.
_RUN_RE = re.compile(r"[A-Za-z0-9_-]+")
_CALENDAR_FOLD_RE = re.compile(r"\r\n[ \t]")


@dataclass(frozen=True)
class OutgoingMessage:
    """A message as it leaves for the recipient: working links and all, held in memory only."""

    id: int
    kind: str
    to_email: str
    to_name: str
    reply_to: str | None
    subject: str
    body_text: str
    body_html: str
    attachments: list[dict]
    from_email: str = ""  # empty: the backend's own (MAIL_FROM)
    from_name: str = ""
    channel: str = "email"  # or "sms": a text to `to_phone`, its words in body_text
    to_phone: str = ""


def conceal(text: str) -> str:
    """Every working token in `text` replaced by its placeholder."""
    # Text that merely looks like a placeholder came from someone's input: it must never become a link.
    text = masked(text)
    length = len(link_token(new_link_selector()))
    text = _RUN_RE.sub(lambda run: _conceal_run(run.group(), length), text)
    return _RUN_RE.sub(lambda run: _conceal_stop_run(run.group()), text)


def _conceal_stop_run(run: str) -> str:
    """A text's stop token wherever it sits in the run, as _conceal_run finds the longer tokens."""
    if len(run) < TEXT_STOP_TOKEN_LEN:
        return run
    kept, start, i = [], 0, 0
    while i + TEXT_STOP_TOKEN_LEN <= len(run):
        selector = text_stop_selector_from_token(run[i : i + TEXT_STOP_TOKEN_LEN])
        if selector is None:
            i += 1
            continue
        kept += [run[start:i], "{{text-stop-token:%s}}" % selector]
        i = start = i + TEXT_STOP_TOKEN_LEN
    kept.append(run[start:])
    return "".join(kept)


def _conceal_run(run: str, length: int) -> str:
    kept, start, i = [], 0, 0
    while i + length <= len(run):
        candidate = run[i : i + length]
        selector = selector_from_token(candidate)
        if selector is not None:
            placeholder = "{{link-token:%s}}" % selector
        elif (selector := sign_in_selector_from_token(candidate)) is not None:
            placeholder = "{{sign-in-token:%s}}" % selector
        elif (selector := calendar_selector_from_token(candidate)) is not None:
            placeholder = "{{calendar-token:%s}}" % selector
        elif (selector := staff_invitation_selector_from_token(candidate)) is not None:
            placeholder = "{{staff-invitation-token:%s}}" % selector
        elif (selector := password_reset_selector_from_token(candidate)) is not None:
            placeholder = "{{password-reset-token:%s}}" % selector
        else:
            i += 1
            continue
        kept += [run[start:i], placeholder]
        i = start = i + length
    kept.append(run[start:])
    return "".join(kept)


def reveal(text: str) -> str:
    """Every placeholder in `text` back to the working token."""
    text = PLACEHOLDER_RE.sub(lambda match: link_token(match.group(1)), text)
    text = CALENDAR_PLACEHOLDER_RE.sub(lambda match: calendar_feed_token(match.group(1)), text)
    text = STAFF_INVITATION_PLACEHOLDER_RE.sub(lambda match: staff_invitation_token(match.group(1)), text)
    text = PASSWORD_RESET_PLACEHOLDER_RE.sub(lambda match: password_reset_token(match.group(1)), text)
    text = TEXT_STOP_PLACEHOLDER_RE.sub(lambda match: text_stop_token(match.group(1)), text)
    return SIGN_IN_PLACEHOLDER_RE.sub(lambda match: sign_in_token(match.group(1)), text)


def masked(text: str) -> str:
    """The text as the recipient saw it, with each personal link's token hidden."""
    for placeholder in _PLACEHOLDERS:
        text = placeholder.sub(MASK, text)
    return text


def conceal_attachments(attachments: list[dict]) -> list[dict]:
    return [_change_attachment(item, conceal) for item in attachments]


def expanded(
    message, body_text: str, body_html: str, attachments: list[dict], sender: tuple[str, str] = ("", "")
) -> OutgoingMessage:
    """The message as it is sent: a copy with every placeholder back to its link, never written back."""
    return OutgoingMessage(
        id=message.id,
        kind=message.kind,
        to_email=message.to_email,
        to_name=message.to_name,
        reply_to=message.reply_to,
        subject=message.subject,
        body_text=reveal(body_text),
        body_html=reveal(body_html),
        attachments=[_change_attachment(item, reveal) for item in attachments],
        from_email=sender[0],
        from_name=sender[1],
        channel=getattr(message.channel, "value", None) or "email",
        to_phone=message.to_phone or "",
    )


def _change_attachment(item: dict, change: Callable[[str], str]) -> dict:
    """A copy of a text attachment with `change` applied to its words; other attachments are copied as they are."""
    if not item["content_type"].startswith("text/"):
        return dict(item)
    try:
        content = base64.b64decode(item["content_b64"]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return dict(item)
    if item["content_type"].startswith("text/calendar"):
        content = _change_calendar(content, change)
    else:
        content = change(content)
    return {**item, "content_b64": base64.b64encode(content.encode("utf-8")).decode("ascii")}


def _change_calendar(content: str, change: Callable[[str], str]) -> str:
    """A calendar file folds long lines (RFC 5545), which can split a token: unfold, change, fold again."""
    lines = _CALENDAR_FOLD_RE.sub("", content).split("\r\n")
    return "\r\n".join(_fold(change(line)) for line in lines)


def _fold(line: str) -> str:
    """The line folded as the calendar builder folds it, so a delivered file is the file that was built."""
    return Contentline(line).to_ical().decode("utf-8") if "\n" not in line else line
