"""`summit check` for the fringe programme: each event's places recomputed from its sign-ups, and no
place held by someone who has left (invariant 1). Read-only; `repair_counters` mends drift."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from app.core import audit
from app.core.db import db, utcnow
from fringe_events.models import FringeEvent, FringeSignup, SignupState
from invitations.consistency import Finding, who
from invitations.models import Invitation, InvitationState

S = InvitationState


def _held_per_event():
    confirmed = (
        select(FringeSignup.fringe_event_id, func.count().label("held"))
        .where(FringeSignup.state == SignupState.CONFIRMED)
        .group_by(FringeSignup.fringe_event_id)
        .subquery()
    )
    return db.session.execute(
        select(
            FringeEvent.id,
            FringeEvent.slug,
            FringeEvent.capacity,
            FringeEvent.places_taken,
            func.coalesce(confirmed.c.held, 0),
        )
        .outerjoin(confirmed, confirmed.c.fringe_event_id == FringeEvent.id)
        .order_by(FringeEvent.starts_at)
    ).all()


def fringe_findings(now: datetime | None = None) -> list[Finding]:
    now = now or utcnow()
    findings: list[Finding] = []
    for _id, slug, capacity, taken, held in _held_per_event():
        if taken != held:
            fits = capacity is None or held <= capacity
            findings.append(
                Finding(
                    f"fringe places counter: {slug}",
                    f"{held} (confirmed sign-ups)",
                    str(taken),
                    "the counter has drifted from the rows; --repair sets it from them"
                    if fits
                    else f"more sign-ups than the capacity of {capacity}",
                    repairable=fits,
                )
            )
    gone = db.session.execute(
        select(Invitation.id, Invitation.email)
        .join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
        .join(FringeEvent, FringeEvent.id == FringeSignup.fringe_event_id)
        .where(
            FringeSignup.state == SignupState.CONFIRMED,
            FringeEvent.starts_at > now,
            Invitation.state.in_([S.REVOKED, S.HANDED_ON]),
        )
        .order_by(Invitation.id)
    ).all()
    if gone:
        findings.append(
            Finding("fringe place held by a handed-on or revoked invitation", "none", str(len(gone)), who(gone))
        )
    return findings


def repair_counters(*, actor_label: str = "summit check --repair") -> int:
    """Set each fringe event's counter from its sign-ups, in the caller's transaction. Returns how many changed."""
    repaired = 0
    for event_id, slug, capacity, taken, held in _held_per_event():
        if taken == held or (capacity is not None and held > capacity):
            continue
        db.session.execute(
            update(FringeEvent)
            .where(FringeEvent.id == event_id)
            .values(places_taken=held)
            .execution_options(synchronize_session="fetch")
        )
        audit.record(
            "fringe.counter_repaired", actor_label=actor_label, event_id=event_id, slug=slug, before=taken, after=held
        )
        repaired += 1
    return repaired
