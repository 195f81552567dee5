"""Badge rules: whose badge shows what, reissuing a code, and which badges are due for printing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.badges.builders import ROLES, Badge
from app.core import audit
from app.core.audit import AuditEvent
from app.core.collation import by_surname
from app.core.db import db
from app.core.errors import InvalidState
from app.core.security import new_badge_code
from app.core.summit.services import find_summit
from app.core.timefmt import day
from invitations.models import LIVE_STATES, Invitation, InvitationState

PRINT_ACTION = "badges.printed"
REISSUE_ACTION = "badge.code_reissued"
PRINT_FILTERS = {"all": "Everyone registered", "new": "New or changed since the last print"}


def has_badge(invitation: Invitation | None) -> bool:
    """A badge is only for a live invitation: handed-on and revoked ones have none (their code admits nobody)."""
    return invitation is not None and invitation.state in LIVE_STATES


def has_summit_place(invitation: Invitation) -> bool:
    return invitation.state == InvitationState.REGISTERED


def badge_for(invitation: Invitation) -> Badge:
    summit = find_summit()
    footer = f"{day(summit.starts_at)} · {summit.venue}" if summit else ""
    role = invitation.badge_role if invitation.badge_role in ROLES else "delegate"
    return Badge(
        name=invitation.name,
        organisation=invitation.organisation,
        code=invitation.code,
        role=role,
        event=summit.name if summit else Badge.event,
        footer=footer,
    )


def reissue_code(invitation: Invitation, *, actor=None) -> Invitation:
    """A new code for a lost or copied badge; the old one stops working at once."""
    if not has_badge(invitation):
        raise InvalidState("This invitation is no longer live, so it has no badge to reissue.")
    invitation.code = new_badge_code()
    audit.record(REISSUE_ACTION, actor=actor, invitation_id=invitation.id)  # never the code itself
    db.session.flush()
    return invitation


def set_badge_role(invitation: Invitation, role: str, *, actor=None) -> Invitation:
    """The colour band: delegate, leader, speaker or organiser."""
    if role not in ROLES:
        raise ValueError(role)
    if invitation.badge_role != role:
        audit.record(
            "badge.role_changed", actor=actor, invitation_id=invitation.id, before=invitation.badge_role, after=role
        )
        invitation.badge_role = role
        db.session.flush()
    return invitation


# --- printing --------------------------------------------------------------------------------


def fingerprint(invitation: Invitation) -> str:
    """What a printed badge shows, hashed: a new code, name, organisation or role means a reprint."""
    text = "|".join((invitation.code, invitation.name, invitation.organisation, invitation.badge_role))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LastPrint:
    at: datetime
    by: str
    count: int
    filter: str
    layout: str


def printed_fingerprints() -> dict[int, str]:
    """The latest printed fingerprint of each badge, over every print batch in the audit log."""
    latest: dict[int, str] = {}
    for details in db.session.scalars(
        select(AuditEvent.details).where(AuditEvent.action == PRINT_ACTION).order_by(AuditEvent.at, AuditEvent.id)
    ):
        for key, value in (details or {}).get("printed", {}).items():
            latest[int(key)] = value
    return latest


def last_print() -> LastPrint | None:
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == PRINT_ACTION)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(1)
    ).first()
    if event is None:
        return None
    details = event.details or {}
    return LastPrint(
        at=event.at,
        by=event.actor_label,
        count=int(details.get("count", 0)),
        filter=details.get("filter", ""),
        layout=details.get("layout", ""),
    )


def registered_invitations() -> list[Invitation]:
    """Everyone registered, by surname, as the door list has them: sheets come off the printer in that order."""
    people = db.session.scalars(select(Invitation).where(Invitation.state == InvitationState.REGISTERED))
    return by_surname(people, lambda person: person.name, lambda person: person.id)


def badges_to_print(which: str) -> list[Invitation]:
    if which not in PRINT_FILTERS:
        raise ValueError(which)
    people = registered_invitations()
    if which == "all":
        return people
    printed = printed_fingerprints()
    return [inv for inv in people if printed.get(inv.id) != fingerprint(inv)]


def record_print(invitations: list[Invitation], *, which: str, layout: str, actor=None) -> AuditEvent:
    """A print batch, kept in the audit log: what "new since the last print" is measured against."""
    return audit.record(
        PRINT_ACTION,
        actor=actor,
        filter=which,
        layout=layout,
        count=len(invitations),
        printed={str(inv.id): fingerprint(inv) for inv in invitations},
    )
