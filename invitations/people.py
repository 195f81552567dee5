"""Invitees: creating, editing, importing and revoking them.

Services flush but never commit; the caller commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select

from app.core import audit
from app.core.db import db, utcnow
from app.core.errors import NotFound, ValidationFailed
from app.core.security import new_badge_code, new_link_selector
from invitations import signals, transitions
from invitations.models import LIVE_STATES, Invitation, InvitationState
from invitations.waitlist import give_up_place

S = InvitationState


@dataclass(frozen=True)
class InviteeData:
    email: str
    name: str
    organisation: str
    job_title: str = ""
    champion_id: int | None = None
    sector: str = ""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Invitation | None:
    return db.session.scalars(select(Invitation).where(Invitation.email == normalise_email(email))).first()


def create_invitation(data: InviteeData, *, actor=None, substitute_for: Invitation | None = None) -> Invitation:
    email = normalise_email(data.email)
    if find_by_email(email) is not None:
        raise ValidationFailed(f"{email} has already been invited; each person has one invitation.", field="email")
    invitation = Invitation(
        email=email,
        name=data.name.strip(),
        organisation=data.organisation.strip(),
        job_title=data.job_title.strip(),
        sector=data.sector.strip(),
        champion_id=data.champion_id,
        state=S.INVITED,
        link_selector=new_link_selector(),
        code=new_badge_code(),
        substitute_for=substitute_for,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.created", actor=actor, invitation_id=invitation.id)
    return invitation


def update_invitation(invitation: Invitation, data: InviteeData, *, actor=None) -> Invitation:
    transitions.lock(invitation)
    email = normalise_email(data.email)
    if email != invitation.email:
        other = find_by_email(email)
        if other is not None and other.id != invitation.id:
            raise ValidationFailed(f"{email} already has an invitation of its own.", field="email")
    before = {
        "email": invitation.email,
        "name": invitation.name,
        "organisation": invitation.organisation,
        "job_title": invitation.job_title,
        "champion_id": invitation.champion_id,
    }
    if email != invitation.email:
        invitation.bounced_at = None  # a corrected address deserves a fresh start
        invitation.bounce_reason = ""
    invitation.email = email
    invitation.name = data.name.strip()
    invitation.organisation = data.organisation.strip()
    invitation.job_title = data.job_title.strip()
    invitation.champion_id = data.champion_id
    if data.sector:
        invitation.sector = data.sector.strip()
    db.session.flush()
    after = {
        "email": invitation.email,
        "name": invitation.name,
        "organisation": invitation.organisation,
        "job_title": invitation.job_title,
        "champion_id": invitation.champion_id,
    }
    if before != after:
        audit.record("invitation.updated", actor=actor, invitation_id=invitation.id, **audit.changes(before, after))
    return invitation


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int
    unchanged: int = 0


@dataclass
class ImportPlan:
    """What importing these rows does, person by person: the preview shows it and the import does exactly it."""

    new: list = field(default_factory=list)  # rows for people not yet invited
    updates: list = field(default_factory=list)  # (invitation, row, {field: new value}) for people whose details change
    unchanged: list = field(default_factory=list)  # rows for people already invited exactly so
    action: dict[str, str] = field(default_factory=dict)  # email -> "new", "update" or "unchanged"


def _changes(known: Invitation, row, champion_id: int | None) -> dict:
    """What the import changes for someone already invited. A blank champion, or a file without a job-title or
    champion column, leaves theirs as it is."""
    wanted: dict = {"name": row.name, "organisation": row.organisation}
    if row.job_title is not None:
        wanted["job_title"] = row.job_title
    if row.champion_email:
        wanted["champion_id"] = champion_id
    return {name: value for name, value in wanted.items() if getattr(known, name) != value}


def plan_import(rows, champions_by_email: dict[str, int], *, lock: bool = False) -> ImportPlan:
    """Sort the rows into new people, updates and people unchanged, reading everyone the file names once."""
    emails = [row.email for row in rows]
    chunks = [emails[start : start + 500] for start in range(0, len(emails), 500)]
    if lock:  # hold the people being updated, then read them as they now are
        transitions.lock_many(
            id_
            for chunk in chunks
            for id_ in db.session.scalars(select(Invitation.id).where(Invitation.email.in_(chunk)))
        )
    existing: dict[str, Invitation] = {}
    for chunk in chunks:
        for inv in db.session.scalars(select(Invitation).where(Invitation.email.in_(chunk))):
            existing[inv.email] = inv
    plan = ImportPlan()
    for row in rows:
        if row.email in plan.action:
            continue  # listed twice (the check keeps the later line only; never insert a second row for it)
        champion_id = champions_by_email.get(row.champion_email) if row.champion_email else None
        known = existing.get(row.email)
        if known is None:
            plan.new.append(row)
            plan.action[row.email] = "new"
            continue
        changes = _changes(known, row, champion_id)
        if changes:
            plan.updates.append((known, row, changes))
            plan.action[row.email] = "update"
        else:
            plan.unchanged.append(row)
            plan.action[row.email] = "unchanged"
    return plan


def import_invitees(rows, champions_by_email: dict[str, int], *, actor=None) -> ImportOutcome:
    """Upsert checked rows (valid as a whole). A known email is updated, never duplicated; the counts are the
    plan's, so they are what the preview showed when nothing changed in between."""
    plan = plan_import(rows, champions_by_email, lock=True)
    for known, _row, changes in plan.updates:
        for name, value in changes.items():
            setattr(known, name, value)
    db.session.flush()
    new_people = [
        {
            "email": row.email,
            "name": row.name,
            "organisation": row.organisation,
            "job_title": row.job_title or "",
            "champion_id": champions_by_email.get(row.champion_email) if row.champion_email else None,
            "state": S.INVITED,
            "link_selector": new_link_selector(),
            "code": new_badge_code(),
        }
        for row in plan.new
    ]
    # New people in batches of one statement each, without reading each new row back: 20,000 rows in a few
    # seconds rather than the minute one ORM object each took, well inside a worker's timeout.
    for start in range(0, len(new_people), 1000):
        db.session.execute(insert(cast(Table, Invitation.__table__)), new_people[start : start + 1000])
    outcome = ImportOutcome(created=len(plan.new), updated=len(plan.updates), unchanged=len(plan.unchanged))
    audit.record(
        "invitations.imported",
        actor=actor,
        created=outcome.created,
        updated=outcome.updated,
        unchanged=outcome.unchanged,
    )
    return outcome


def revoke_invitation(invitation: Invitation, *, actor=None, now: datetime | None = None) -> Invitation:
    """Withdraw an invitation: its link and badge stop working, and any place it held goes back."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live, so there is nothing to revoke."
    before = transitions.begin(
        invitation, allowed=LIVE_STATES, refusals={S.REVOKED: no_longer, S.HANDED_ON: no_longer}
    ).value
    give_up_place(invitation, now)
    invitation.state = S.REVOKED
    signals.person_left.send(invitation, now=now)
    audit.record("invitation.revoked", actor=actor, invitation_id=invitation.id, before=before, after="revoked")
    db.session.flush()
    return invitation


def get_invitation(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("There is no such invitation.")
    return invitation
