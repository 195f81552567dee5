"""Badge rules: whose badge shows what, reissuing a code, which badges are due for printing, single reprints, and
badges for staff, speakers and guests who hold no delegate place."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.badges import wallet_updates
from app.badges.builders import NO_PLACE_BANDS, ROLES, Badge
from app.core import audit
from app.core.audit import AuditEvent
from app.core.auth.models import User
from app.core.collation import by_surname
from app.core.db import db
from app.core.errors import InvalidState
from app.core.security import new_badge_code
from app.core.summit.settings import find_summit
from app.core.timefmt import day
from invitations.models import LIVE_STATES, Invitation, InvitationState

PRINT_ACTION = "badges.printed"
REISSUE_ACTION = "badge.code_reissued"
REPRINT_ACTION = "badge.reprinted"
NO_PLACE_PRINT_ACTION = "badges.no_place_printed"
# Where a single reprint was asked for, in the words the invitation page shows.
REPRINT_PLACES = {"invitation": "from the invitation page", "scanner": "at the door"}
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
    wallet_updates.queue_inactive(invitation)  # the wallet pass carries the old code: known by it, so first
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
        select(AuditEvent.details)
        .where(AuditEvent.action.in_((PRINT_ACTION, REPRINT_ACTION)))
        .order_by(AuditEvent.at, AuditEvent.id)
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


# --- one badge again -------------------------------------------------------------------------


def record_reprint(invitation: Invitation, *, via: str, actor=None) -> AuditEvent:
    """A single badge printed again (lost, left at home, misprinted): kept in the audit log, shown on the
    invitation's page ("reprinted at 9:12am by Lucy"), and counted as printed. The code stays the same: a badge
    that may have been copied needs Reissue badge code instead."""
    if not has_badge(invitation):
        raise InvalidState("This invitation is no longer live, so it has no badge to print.")
    if via not in REPRINT_PLACES:
        raise ValueError(via)
    event = audit.record(
        REPRINT_ACTION,
        actor=actor,
        invitation_id=invitation.id,
        via=via,
        printed={str(invitation.id): fingerprint(invitation)},
    )
    db.session.flush()
    return event


def reprints(invitation: Invitation) -> list[AuditEvent]:
    """The invitation's reprints, latest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == REPRINT_ACTION, AuditEvent.invitation_id == invitation.id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        )
    )


# --- staff, speakers and guests --------------------------------------------------------------


def staff_accounts() -> list[User]:
    """Everyone with an active staff account (organisers, leaders, stewards), by surname."""
    users = db.session.scalars(select(User).where(User.active.is_(True)))
    return by_surname(users, lambda user: user.name, lambda user: user.id)


def no_place_badge(name: str, organisation: str, band: str) -> Badge:
    """A badge for someone who holds no delegate place: the role band, no code and so no QR."""
    if band not in NO_PLACE_BANDS:
        raise ValueError(band)
    summit = find_summit()
    return Badge(
        name=name,
        organisation=organisation,
        code="",
        role=band,
        event=summit.name if summit else Badge.event,
        footer=f"{day(summit.starts_at)} · {summit.venue}" if summit else "",
    )


def no_place_badges(staff: list[User], others: list[tuple[str, str]], others_band: str) -> list[Badge]:
    """Staff accounts with the Staff band, then the named speakers or guests with theirs, each part by surname."""
    named = by_surname(others, lambda person: person[0])
    return [no_place_badge(user.name, user.organisation, "staff") for user in staff] + [
        no_place_badge(name, organisation, others_band) for name, organisation in named
    ]


def record_no_place_print(badges: list[Badge], *, layout: str, actor=None) -> AuditEvent:
    """How many and which bands, not the names: speakers and guests are not invitees, so nothing here can
    be erased with them, and nothing of theirs is kept."""
    bands: dict[str, int] = {}
    for badge in badges:
        bands[badge.role] = bands.get(badge.role, 0) + 1
    return audit.record(NO_PLACE_PRINT_ACTION, actor=actor, count=len(badges), bands=bands, layout=layout)
