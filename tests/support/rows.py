"""What the database holds, read afresh."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.db import db
from app.core.summit.models import Summit


def count(model, *where) -> int:
    """Rows of `model` (matching `where`), read afresh rather than from the session's cache."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def places_taken() -> int:
    """The summit's places taken, read afresh."""
    db.session.expire_all()
    return db.session.scalar(select(Summit.places_taken))
