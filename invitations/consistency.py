"""`summit check` for the people domain: recompute the summit's places from the rows and find every
person whose rows disagree with their state (invariant 1). Read-only; `repair_counter` mends drift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app.core import audit
from app.core.db import db, utcnow
from app.core.summit.models import Summit
from invitations.models import (
    Invitation,
    InvitationState,
    Registration,
    RegistrationState,
    WaitlistEntry,
    WaitlistState,
)
from invitations.question_models import Answer, Question, QuestionOption

S = InvitationState
EXAMPLES = 5  # people named in each finding, the rest counted


@dataclass(frozen=True)
class Finding:
    """One inconsistency: what is wrong, what the rows say, and what the stored figure says."""

    check: str
    expected: str
    found: str
    detail: str = ""
    repairable: bool = False


def who(rows) -> str:
    rows = list(rows)
    named = ", ".join(f"{email} (#{id_})" for id_, email in rows[:EXAMPLES])
    return named + (f" and {len(rows) - EXAMPLES} more" if len(rows) > EXAMPLES else "")


def places_held() -> int:
    """What the summit's counter should say: confirmed registrations plus offers still held."""
    confirmed = db.session.scalar(
        select(func.count()).select_from(Registration).where(Registration.state == RegistrationState.CONFIRMED)
    )
    offers = db.session.scalar(
        select(func.count()).select_from(WaitlistEntry).where(WaitlistEntry.state == WaitlistState.OFFERED)
    )
    return (confirmed or 0) + (offers or 0)


def _mismatch(name: str, query) -> list[Finding]:
    rows = db.session.execute(query.order_by(Invitation.id)).all()
    return [Finding(name, "none", str(len(rows)), who(rows))] if rows else []


def summit_findings(now: datetime | None = None) -> list[Finding]:
    now = now or utcnow()
    summit = db.session.scalars(select(Summit).order_by(Summit.id).limit(1)).first()
    if summit is None:
        return []
    findings: list[Finding] = []
    held = places_held()
    if summit.places_taken != held:
        findings.append(
            Finding(
                "summit places counter",
                f"{held} (registrations plus offers held)",
                str(summit.places_taken),
                "the counter has drifted from the rows; --repair sets it from them"
                if held <= summit.capacity
                else f"more places are held than the capacity of {summit.capacity}: raise the capacity first",
                repairable=held <= summit.capacity,
            )
        )
    person = select(Invitation.id, Invitation.email)
    confirmed = Registration.state == RegistrationState.CONFIRMED
    findings += _mismatch(  # a handed-on, revoked or cancelled person still holding a place
        "confirmed place held by someone not registered",
        person.join(Registration).where(confirmed, Invitation.state != S.REGISTERED),
    )
    findings += _mismatch(
        "registered with no confirmed place",
        person.outerjoin(Registration).where(
            Invitation.state == S.REGISTERED, (Registration.id.is_(None)) | ~confirmed
        ),
    )
    offered = WaitlistEntry.state == WaitlistState.OFFERED
    findings += _mismatch(
        "offer held by someone not marked as offered",
        person.join(WaitlistEntry).where(offered, Invitation.state != S.OFFERED),
    )
    findings += _mismatch(
        "marked as offered with no offer held",
        person.outerjoin(WaitlistEntry).where(Invitation.state == S.OFFERED, (WaitlistEntry.id.is_(None)) | ~offered),
    )
    findings += _mismatch(
        "holding a place and an offer at once",
        person.join(Registration)
        .join(WaitlistEntry, WaitlistEntry.invitation_id == Invitation.id)
        .where(confirmed, offered),
    )
    findings += _mismatch(
        "waiting with no place in the queue",
        person.outerjoin(WaitlistEntry).where(
            Invitation.state == S.WAITLISTED,
            (WaitlistEntry.id.is_(None)) | (WaitlistEntry.state != WaitlistState.WAITING),
        ),
    )
    findings += _mismatch(
        "offer past its time still counted",
        person.join(WaitlistEntry).where(offered, WaitlistEntry.offer_expires_at <= now),
    )
    waiting = db.session.scalar(
        select(func.count()).select_from(WaitlistEntry).where(WaitlistEntry.state == WaitlistState.WAITING)
    )
    if waiting and summit.places_taken < summit.capacity:
        findings.append(
            Finding(
                "free places not offered to the waiting list",
                "0",
                str(min(summit.capacity - summit.places_taken, waiting)),
                f"{waiting} waiting; `summit configure` or a cancellation offers free places",
            )
        )
    return findings


def option_findings() -> list[Finding]:
    """Each option's counter against its answers (a choice answer holds a place while its person is registered)."""
    counted = dict(
        db.session.execute(
            select(Answer.option_id, func.count()).where(Answer.option_id.is_not(None)).group_by(Answer.option_id)
        ).all()
    )
    findings: list[Finding] = []
    rows = db.session.execute(
        select(QuestionOption, Question.label).join(Question).order_by(Question.position, QuestionOption.position)
    ).all()
    for option, question in rows:
        held = counted.get(option.id, 0)
        if option.taken != held:
            within = option.places is None or held <= option.places
            findings.append(
                Finding(
                    f"places counter of “{option.label}” ({question})",
                    f"{held} (answers choosing it)",
                    str(option.taken),
                    "the counter has drifted from the answers; --repair sets it from them"
                    if within
                    else f"more chose it than its {option.places} places: raise its places first",
                    repairable=within,
                )
            )
    person = select(Invitation.id, Invitation.email).distinct()
    findings += _mismatch(
        "option chosen by someone not registered",
        person.join(Answer, Answer.invitation_id == Invitation.id).where(
            Answer.option_id.is_not(None), Invitation.state != S.REGISTERED
        ),
    )
    return findings


def repair_option_counters(*, actor_label: str = "summit check --repair") -> int:
    """Set each option's counter from its answers (within its places), in the caller's transaction."""
    counted = dict(
        db.session.execute(
            select(Answer.option_id, func.count()).where(Answer.option_id.is_not(None)).group_by(Answer.option_id)
        ).all()
    )
    repaired = 0
    for option in db.session.scalars(select(QuestionOption).order_by(QuestionOption.id).with_for_update()):
        held = counted.get(option.id, 0)
        if option.taken == held or (option.places is not None and held > option.places):
            continue
        audit.record(
            "question.counter_repaired", actor_label=actor_label, option=option.label, before=option.taken, after=held
        )
        option.taken = held
        repaired += 1
    db.session.flush()
    return repaired


def repair_counter(*, actor_label: str = "summit check --repair") -> int | None:
    """Set the summit's counter from the rows, in the caller's transaction. Returns the old value, or None."""
    summit = db.session.scalars(select(Summit).order_by(Summit.id).limit(1).with_for_update()).first()
    if summit is None:
        return None
    db.session.refresh(summit)
    held = places_held()
    if summit.places_taken == held or held > summit.capacity:
        return None
    before = summit.places_taken
    db.session.execute(
        update(Summit)
        .where(Summit.id == summit.id)
        .values(places_taken=held)
        .execution_options(synchronize_session="fetch")
    )
    audit.record("summit.counter_repaired", actor_label=actor_label, before=before, after=held)
    return before
