"""The audit trail: who did what to whom, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, db, utcnow


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


# --- the organisers' audit page ----------------------------------------------------------------

from flask import Blueprint, abort, render_template, request  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from app.auth.decorators import organiser_required  # noqa: E402

bp = Blueprint("audit", __name__, url_prefix="/organiser/audit")
PAGE_SIZE = 100


@bp.get("/")
@organiser_required
def audit_log():
    query = select(AuditEvent)
    action = (request.args.get("action") or "").strip()
    if action:
        query = query.where(AuditEvent.action.like(f"{action}%"))
    actor = (request.args.get("actor") or "").strip()
    if actor:
        query = query.where(func.lower(AuditEvent.actor_label).like(f"%{actor.lower()}%"))
    invitation = request.args.get("invitation") or ""
    if invitation:
        if not invitation.isdigit():
            abort(400)
        query = query.where(AuditEvent.invitation_id == int(invitation))
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    events = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    return render_template(
        "audit/log.html",
        events=events,
        actions=actions,
        args=request.args,
        page=page,
        has_more=len(events) == PAGE_SIZE,
    )
