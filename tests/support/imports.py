"""The organisers' invitee import from a test: upload a file, read the preview, confirm it, and look people up."""

from __future__ import annotations

import html as html_lib
import io
import re

from sqlalchemy import func, select

from app.core.db import db
from invitations.models import Invitation


def count_invitations() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Invitation))


def by_email(email: str) -> Invitation | None:
    db.session.expire_all()
    return db.session.scalars(select(Invitation).where(Invitation.email == email)).first()


def upload(client, content: bytes, filename: str = "invitees.csv"):
    return client.post(
        "/organiser/invitations/import",
        data={"file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def confirm(client, page: str):
    return client.post("/organiser/invitations/import/confirm", data={"preview": preview_from(page)})


def preview_from(page: str) -> str:
    """The id of the checked file the server keeps, from the preview page's confirm form."""
    match = re.search(r'<input[^>]*name="preview"[^>]*>', page)
    assert match, "no preview field on the preview page"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html_lib.unescape(value.group(1))
