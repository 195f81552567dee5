"""Invitee lists (.xlsx or CSV) kept on the server between the preview and the confirm: for the organiser who checked them, for
an hour at most."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from app.core.db import db, utcnow
from invitations.models import ImportPreview

KEPT_FOR = timedelta(hours=1)


def forget_old_previews(now: datetime | None = None) -> int:
    """Remove every preview older than KEPT_FOR (nobody confirmed it). Returns how many."""
    now = now or utcnow()
    result = db.session.execute(delete(ImportPreview).where(ImportPreview.created_at <= now - KEPT_FOR))
    return int(getattr(result, "rowcount", 0) or 0)


def keep_preview(user_id: int, filename: str, content: bytes, now: datetime | None = None) -> str:
    """Keep a checked file for this organiser; returns the random id their confirm form carries."""
    now = now or utcnow()
    forget_old_previews(now)
    preview = ImportPreview(
        id=secrets.token_urlsafe(32), user_id=user_id, filename=filename[:255], content=content, created_at=now
    )
    db.session.add(preview)
    db.session.flush()
    return preview.id


def find_preview(preview_id: str, user_id: int, now: datetime | None = None) -> ImportPreview | None:
    """This organiser's preview with this id, if it is still kept (another organiser's is not theirs)."""
    now = now or utcnow()
    return db.session.scalars(
        select(ImportPreview)
        .where(
            ImportPreview.id == preview_id, ImportPreview.user_id == user_id, ImportPreview.created_at > now - KEPT_FOR
        )
        .with_for_update()
    ).first()


def choose_columns(preview: ImportPreview, choices: list[str]) -> None:
    """Which column is which in this file, as its organiser chose."""
    preview.columns = list(choices)
    db.session.flush()


def forget_preview(preview: ImportPreview) -> None:
    db.session.delete(preview)
