"""The audit trail: who did what to whom, and when.

A row names people by id (`invitation_id`, `actor_id`, ids in its details) and keeps no words that identify a
delegate: the log's sentences are made when it is read (app/dashboards/audit_log.py), so a person who is
erased shows as "an erased delegate" and nothing of theirs stays behind in the log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, db, utcnow

# A person's own details, which an audit row says changed but never quotes (the rest, such as the
# organisation or the champion, it keeps from and to).
PERSONAL_DETAILS = ("name", "email", "job_title")


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


def record(
    action: str, *, actor=None, actor_label: str = "", invitation_id: int | None = None, **details
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits)."""
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_label=actor_label or getattr(actor, "name", "") or "",
        invitation_id=invitation_id,
        details=details,
    )
    db.session.add(event)
    return event


def changes(before: dict, after: dict) -> dict:
    """Details for "these fields changed": other fields from and to, a person's own details only by name
    (`changed`: ["name", "email"]), so the row never holds what they were or became."""
    changed = [key for key in PERSONAL_DETAILS if key in before or key in after if before.get(key) != after.get(key)]
    return {
        "before": {key: value for key, value in before.items() if key not in PERSONAL_DETAILS},
        "after": {key: value for key, value in after.items() if key not in PERSONAL_DETAILS},
        "changed": changed,
    }


def without_personal_details(details: dict) -> dict:
    """An audit row's details as `changes` would have written them: for rows written before it, when the
    person they are about is erased."""
    kept = {key: value for key, value in (details or {}).items() if key not in PERSONAL_DETAILS}
    before, after = kept.get("before"), kept.get("after")
    if isinstance(before, dict) or isinstance(after, dict):
        described = changes(before if isinstance(before, dict) else {}, after if isinstance(after, dict) else {})
        earlier = [key for key in kept.get("changed") or [] if key not in described["changed"]]
        kept.update(described, changed=earlier + described["changed"])
    return kept
