"""The groups organisers send to: who is in a group (state, organisation, champion, fringe event), how many
of them a reminder would reach, and who is left out because they heard from us in the last few days."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, exists, func, select

from app.core.auth.models import Role, User
from app.core.db import db, utcnow
from app.core.errors import ValidationFailed
from app.core.mail.models import OutboxMessage, OutboxStatus
from invitations.models import Invitation, InvitationState

S = InvitationState

# The states an organiser can choose, in the order a summit moves through them. Each label is read whole in the
# reminders' "Who" list on a 320 px phone, where a select can't wrap (tests/e2e/test_dashboards.py).
STATES: dict[str, str] = {
    "not_answered": "Invited, not answered yet",
    "not_opened": "Invited, not opened their invitation",
    "opened_not_registered": "Opened, not registered yet",
    "registered": "Registered",
    "waitlisted": "On the waiting list",
    "offered": "Offered a place",
    "declined": "Declined",
    "cancelled": "Cancelled their place",
}

# Who an invitation can go to: only those not yet sent theirs (the other filters narrow it further).
NOT_SENT = "not_sent"

# States whose people a reminder urges to register: with the summit full they would join the waiting list.
URGED_TO_REGISTER = frozenset({S.INVITED, S.DECLINED, S.CANCELLED})


@dataclass(frozen=True)
class FringeFilter:
    """The fringe programme's part of a group, given by that domain when the app is wired
    (invitations can't name it): its choices, and the condition on Invitation for a chosen one."""

    choices: Callable[[], list[tuple[str, str]]]
    condition: Callable[[str], ColumnElement[bool] | None]  # None: not a choice it knows


_fringe_filter: list[FringeFilter] = []


def provide_fringe_filter(fringe: FringeFilter) -> None:
    """Called once by the fringe programme's wiring (idempotent)."""
    _fringe_filter[:] = [fringe]


def fringe_choices() -> list[tuple[str, str]]:
    return _fringe_filter[0].choices() if _fringe_filter else []


@dataclass(frozen=True)
class Audience:
    """A group of invitees, as the organiser filtered it. Every part is optional ("" means anyone);
    `state` is a key of STATES (or NOT_SENT for invitations), `champion` a leader's id or "none",
    `fringe` what the fringe programme offers ("none" for not signed up for any)."""

    state: str = ""
    organisation: str = ""
    champion: str = ""
    fringe: str = ""

    @classmethod
    def from_mapping(cls, data, *, default_state: str = "") -> Audience:
        """From request arguments or a stored dict; anything unknown is refused with a sentence."""
        audience = cls(
            state=(data.get("state") or default_state).strip(),
            organisation=(data.get("organisation") or "").strip(),
            champion=(data.get("champion") or "").strip(),
            fringe=(data.get("fringe") or "").strip(),
        )
        audience.check()
        return audience

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def check(self) -> None:
        if self.state and self.state not in STATES and self.state != NOT_SENT:
            raise ValidationFailed(f"'{self.state}' is not a group we know: choose a state from the list.")
        if self.champion and self.champion != "none" and not self.champion.isdigit():
            raise ValidationFailed("Choose a champion from the list.")
        if self.fringe and self.fringe != "none" and _fringe_condition(self.fringe) is None:
            raise ValidationFailed("Choose a fringe event from the list.")


def _fringe_condition(choice: str) -> ColumnElement[bool] | None:
    return _fringe_filter[0].condition(choice) if _fringe_filter else None


def _state_conditions(state: str) -> list[ColumnElement[bool]]:
    sent = Invitation.sent_at.is_not(None)
    invited = Invitation.state == S.INVITED
    conditions: dict[str, list[ColumnElement[bool]]] = {
        "": [Invitation.state.not_in((S.REVOKED, S.HANDED_ON))],
        NOT_SENT: [invited, Invitation.sent_at.is_(None)],
        "not_answered": [invited, sent],
        "not_opened": [invited, sent, Invitation.opened_at.is_(None)],
        "opened_not_registered": [invited, sent, Invitation.opened_at.is_not(None)],
        "registered": [Invitation.state == S.REGISTERED],
        "waitlisted": [Invitation.state == S.WAITLISTED],
        "offered": [Invitation.state == S.OFFERED],
        "declined": [Invitation.state == S.DECLINED],
        "cancelled": [Invitation.state == S.CANCELLED],
    }
    return conditions[state]


def members(audience: Audience) -> Select:
    """The group's invitations (erased people are never in a group)."""
    conditions = [*_state_conditions(audience.state), Invitation.erased_at.is_(None)]
    if audience.organisation:
        conditions.append(Invitation.organisation == audience.organisation)
    if audience.champion == "none":
        conditions.append(Invitation.champion_id.is_(None))
    elif audience.champion:
        conditions.append(Invitation.champion_id == int(audience.champion))
    if audience.fringe:
        condition = _fringe_condition(audience.fringe)
        if condition is None:
            raise ValidationFailed("Choose a fringe event from the list.")
        conditions.append(condition)
    return select(Invitation).where(and_(*conditions))


def heard_recently(quiet_days: int, now: datetime) -> ColumnElement[bool]:
    """Sent any message (a reminder, an invitation sent again by hand, a confirmation, a leader's nudge …) in
    the last `quiet_days` days: such a person isn't reminded again yet. A message that failed never arrived."""
    since = now - timedelta(days=quiet_days)
    return exists().where(
        OutboxMessage.invitation_id == Invitation.id,
        OutboxMessage.created_at > since,
        OutboxMessage.status != OutboxStatus.FAILED,
    )


def due(audience: Audience, quiet_days: int, now: datetime | None = None) -> Select:
    """The group less those who heard from us in the last `quiet_days` days, in a steady order."""
    now = now or utcnow()
    return members(audience).where(~heard_recently(quiet_days, now)).order_by(Invitation.name, Invitation.id)


@dataclass(frozen=True)
class Count:
    in_group: int
    left_out: int  # heard from us recently
    urged_while_full: int  # would be urged to register though the summit is full

    @property
    def to_send(self) -> int:
        return self.in_group - self.left_out


def count(audience: Audience, quiet_days: int | None, now: datetime | None = None) -> Count:
    """How many are in the group, how many of them the quiet-days rule leaves out (None: no such rule), and
    how many of those reached would be urged to register."""
    now = now or utcnow()

    def how_many(query: Select) -> int:
        return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

    group = members(audience)
    reached = group if quiet_days is None else group.where(~heard_recently(quiet_days, now))
    total = how_many(group)
    return Count(
        in_group=total,
        left_out=total - how_many(reached),
        urged_while_full=how_many(reached.where(Invitation.state.in_(URGED_TO_REGISTER))),
    )


def describe(audience: Audience) -> str:
    """The group in words, for pages and the audit log: "Registered, at Suffolk County Council"."""
    parts = [STATES.get(audience.state, "Not sent their invitation yet" if audience.state == NOT_SENT else "")]
    if not parts[0]:
        parts = ["Everyone invited"]
    if audience.organisation:
        parts.append(f"at {audience.organisation}")
    if audience.champion == "none":
        parts.append("with no champion")
    elif audience.champion:
        leader = db.session.get(User, int(audience.champion))
        parts.append(f"championed by {leader.name if leader else 'a leader no longer here'}")
    if audience.fringe == "none":
        parts.append("not signed up for any fringe event")
    elif audience.fringe:
        label = dict(fringe_choices()).get(audience.fringe, "a fringe event no longer listed")
        parts.append(f"signed up for {label}")
    return ", ".join(parts)


def organisations() -> list[str]:
    """The organisations present, for the filter's select."""
    return list(
        db.session.scalars(
            select(Invitation.organisation)
            .where(Invitation.organisation != "", Invitation.erased_at.is_(None))
            .distinct()
            .order_by(Invitation.organisation)
        )
    )


def leaders() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.LEADER).order_by(User.name)))
