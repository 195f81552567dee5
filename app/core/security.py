"""Secrets handed to people: personal-link tokens, badge codes and API tokens; and the headers that keep
the pages behind a personal link private."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from flask import Response, current_app, request

from app.core.badge_codes import CODE_ALPHABET, CODE_LENGTH, CODE_PREFIX, code_check_character

SELECTOR_BYTES = 16  # 128 bits from `secrets`
_SELECTOR_LEN = 22  # base64url of 16 bytes, unpadded
_VERIFIER_LEN = 22


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def new_link_selector() -> str:
    return _b64(secrets.token_bytes(SELECTOR_BYTES))


# What each kind of token's MAC is for, so that one kind's token never passes as another's.
_INVITATION_LINK = b"invitation-link:"
_SIGN_IN_LINK = b"sign-in-link:"
_CALENDAR_FEED = b"calendar-feed:"
_STAFF_INVITATION = b"staff-invitation:"
_PASSWORD_RESET = b"password-reset:"


def _verifier(selector: str, key: str, purpose: bytes = _INVITATION_LINK) -> str:
    mac = hmac.new(key.encode(), purpose + selector.encode(), hashlib.sha256).digest()
    return _b64(mac[:16])


def link_token(selector: str) -> str:
    """The token in a personal link: the stored selector plus a MAC a database dump cannot forge."""
    return selector + _verifier(selector, current_app.config["SECRET_KEY"])


_TOKEN_RE = re.compile(rf"[A-Za-z0-9_-]{{{_SELECTOR_LEN + _VERIFIER_LEN}}}")


def selector_from_token(token: str, purpose: bytes = _INVITATION_LINK) -> str | None:
    """The selector if the token's MAC checks out under SECRET_KEY or one of SECRET_KEY_FALLBACKS, else None.
    Constant-time on the MAC; every key is tried, so the time says nothing about which one matched."""
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        return None
    selector, given = token[:_SELECTOR_LEN], token[_SELECTOR_LEN:]
    # Links emailed before a key rotation keep working while the old key is listed as a fallback.
    keys = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", ())]
    matches = [hmac.compare_digest(_verifier(selector, key, purpose), given) for key in keys]
    return selector if any(matches) else None


def sign_in_token(selector: str) -> str:
    """The token in a leader's one-time sign-in link: shaped like a personal link's, but MACed for signing in,
    so neither kind opens the other. Only its hash is stored (hash_sign_in_token); an email waiting in the
    outbox holds the selector alone (app.core.mail.links), which only SECRET_KEY turns back into the token."""
    return selector + _verifier(selector, current_app.config["SECRET_KEY"], _SIGN_IN_LINK)


def sign_in_selector_from_token(token: str) -> str | None:
    return selector_from_token(token, _SIGN_IN_LINK)


def calendar_feed_token(selector: str) -> str:
    """The token in a person's calendar feed (/calendar/feed/<token>.ics): the personal link's selector with a
    MAC of its own, so the feed's address, which calendar apps hand to their servers and to anyone a calendar is
    shared with, opens the feed and nothing else; and a new personal link means a new feed address."""
    return selector + _verifier(selector, current_app.config["SECRET_KEY"], _CALENDAR_FEED)


def calendar_selector_from_token(token: str) -> str | None:
    return selector_from_token(token, _CALENDAR_FEED)


def staff_invitation_token(selector: str) -> str:
    """The token in a staff invitation's link (/join/<token>): MACed for joining the team, so it opens nothing
    else, and stored only as its hash (hash_staff_link_token)."""
    return selector + _verifier(selector, current_app.config["SECRET_KEY"], _STAFF_INVITATION)


def staff_invitation_selector_from_token(token: str) -> str | None:
    return selector_from_token(token, _STAFF_INVITATION)


def password_reset_token(selector: str) -> str:
    """The token in a staff password-reset link (/sign-in/reset/<token>): the same shape, its own MAC."""
    return selector + _verifier(selector, current_app.config["SECRET_KEY"], _PASSWORD_RESET)


def password_reset_selector_from_token(token: str) -> str | None:
    return selector_from_token(token, _PASSWORD_RESET)


# A text's stop link is short (a text's characters are few): 48 bits of selector, stored, and a 64-bit MAC, not.
_TEXT_STOP = b"text-stop:"
_TEXT_STOP_SELECTOR_BYTES = 6
_TEXT_STOP_SELECTOR_LEN = 8
_TEXT_STOP_VERIFIER_LEN = 11
TEXT_STOP_TOKEN_LEN = _TEXT_STOP_SELECTOR_LEN + _TEXT_STOP_VERIFIER_LEN
_TEXT_STOP_RE = re.compile(rf"[A-Za-z0-9_-]{{{TEXT_STOP_TOKEN_LEN}}}")


def new_text_stop_selector() -> str:
    return _b64(secrets.token_bytes(_TEXT_STOP_SELECTOR_BYTES))


def _text_stop_verifier(selector: str, key: str) -> str:
    mac = hmac.new(key.encode(), _TEXT_STOP + selector.encode(), hashlib.sha256).digest()
    return _b64(mac[:8])


def text_stop_token(selector: str) -> str:
    """The token in a text's stop link (/texts/stop/<token>): it stops that person's texts and opens nothing else."""
    return selector + _text_stop_verifier(selector, current_app.config["SECRET_KEY"])


def text_stop_selector_from_token(token: str) -> str | None:
    if not isinstance(token, str) or not _TEXT_STOP_RE.fullmatch(token):
        return None
    selector, given = token[:_TEXT_STOP_SELECTOR_LEN], token[_TEXT_STOP_SELECTOR_LEN:]
    keys = [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", ())]
    matches = [hmac.compare_digest(_text_stop_verifier(selector, key), given) for key in keys]
    return selector if any(matches) else None


def hash_staff_link_token(token: str) -> str:
    return hashlib.sha256(b"staff-link:" + token.encode()).hexdigest()


def hash_sign_in_token(token: str) -> str:
    return hashlib.sha256(b"sign-in-link:" + token.encode()).hexdigest()


def new_badge_code() -> str:
    body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{CODE_PREFIX}-{body}{code_check_character(body)}"


def new_api_token() -> str:
    return "nhs_" + secrets.token_urlsafe(32)


def hash_api_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def private_page(response: Response) -> Response:
    """After-request hook for the blueprints that serve pages under a personal link (/i/<token>): such a page
    is a credential's view, so it is never kept by a shared cache, never leaked as a referrer, never indexed.
    A view marked `keeps_cache_control = True` keeps the Cache-Control it set (the badge's service worker)."""
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "keeps_cache_control", False):
        response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
