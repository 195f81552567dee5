"""Everything the database holds, as someone with a copy would read it, and the tokens in it that would open something."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.db import Base, db
from app.core.security import (
    calendar_selector_from_token,
    password_reset_selector_from_token,
    selector_from_token,
    sign_in_selector_from_token,
    staff_invitation_selector_from_token,
)

TOKEN_LENGTH = 44  # selector (22) + verifier (22): see app.core.security


TOKEN_CHARS = re.compile(rb"[A-Za-z0-9_-]+")


def dump(app) -> bytes:
    """Everything the database holds, as someone with a copy would read it: on SQLite the file's own bytes
    (free pages and the write-ahead log included), and on both databases every column of every row as text
    (a long value spans SQLite's overflow pages, which the raw bytes interrupt)."""
    raw = b""
    if db.engine.dialect.name == "sqlite":
        path = Path(make_url(app.config["DATABASE_URL"]).database)
        files = [path, *(path.with_name(path.name + suffix) for suffix in ("-wal", "-journal"))]
        raw = b"".join(p.read_bytes() for p in files if p.exists())
    rows = [
        " ".join(map(str, row))
        for table in Base.metadata.sorted_tables
        for row in db.session.execute(text(f'SELECT * FROM "{table.name}"'))
    ]
    db.session.rollback()
    return raw + "\n".join(rows).encode()


def readable(data: bytes) -> bytes:
    """The dump plus what its base64 (attachments) says, with calendar lines unfolded."""
    decoded = []
    for blob in BASE64_BLOB.findall(data):
        for start in range(4):  # a stretch cut out of a raw page may begin mid-quartet
            piece = blob[start:]
            try:
                decoded.append(base64.b64decode(piece + b"=" * (-len(piece) % 4)))
            except (binascii.Error, ValueError):
                pass
    return re.sub(rb"\r\n[ \t]", b"", b"\n".join([data, *decoded]))


def candidates(data: bytes) -> tuple[set[str], set[str]]:
    """(what follows a token's path, and every stretch of URL-safe base64 standing alone at a token's length);
    and, separately, every token-sized window of every stretch, wherever it sits."""
    runs = [run.decode() for run in TOKEN_CHARS.findall(data)]
    alone = {run for run in runs if len(run) == TOKEN_LENGTH}
    after_path = {m.decode("latin-1").removesuffix(".ics") for m in AFTER_A_TOKEN_PATH.findall(data)}
    return after_path | alone, {run[i : i + TOKEN_LENGTH] for run in runs for i in range(len(run) - TOKEN_LENGTH + 1)}


def opening(client, tokens: set[str]) -> set[str]:
    """The tokens that open something, each tried on every path a token opens."""
    return {t for t in tokens for path in OPENERS if client.get(path.format(t)).status_code != 404}


def working_mac(window: str) -> bool:
    """What each of those paths checks first, for every window (too many to request one by one)."""
    return any(
        check(window)
        for check in (
            selector_from_token,
            sign_in_selector_from_token,
            calendar_selector_from_token,
            staff_invitation_selector_from_token,
            password_reset_selector_from_token,
        )
    )


BASE64_BLOB = re.compile(rb"[A-Za-z0-9+/]{40,}={0,2}")


# Every path a token opens: the person's pages, their calendar feed, a leader's sign-in link.
# A staff invitation and a password-reset link too.
OPENERS = (
    "/i/{}",
    "/i/{}/calendar.ics",
    "/calendar/feed/{}.ics",
    "/sign-in/link/{}",
    "/sign-in/join/{}",
    "/sign-in/reset/{}",
)

AFTER_A_TOKEN_PATH = re.compile(rb"(?:/|%2F)(?:i|feed|link|join|reset)(?:/|%2F)([^\s/?#\"'<>&\\%]+)", re.IGNORECASE)
