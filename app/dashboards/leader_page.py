"""The leader's page: their invitees in the order that helps, as one or two aggregate queries.

Rules about who may be nudged live in invitations/chasing.py; this only reads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, func, or_, select

from app.core.auth.models import Role, User
from app.core.db import db, utcnow
from app.core.summit import settings as summit_settings
from app.dashboards.measures import LIVE, S, share_of_target
from fringe_events.models import Attendance, FringeSignup, SignupState
from invitations.chasing import CHASEABLE, NUDGE_MIN_DAYS, NUDGEABLE
from invitations.models import (
    Invitation,
    InvitationState,
    LeaderNote,
    NoteKind,
    Registration,
    RegistrationState,
    WaitlistEntry,
)

# (key, heading, short label for the jump list, what would help)
GROUPS = (
    (
        "not_opened",
        "Not opened yet",
        "Not opened",
        "They haven't opened their invitation. A quick word from you may be all it takes.",
    ),
    ("opened", "Opened, not registered", "Opened", "They've seen the invitation but haven't replied yet."),
    (
        "declined",
        "Declined",
        "Declined",
        "They've said they can't come. If you know them well, a word may change their mind.",
    ),
    (
        "waiting",
        "On the waiting list",
        "Waiting",
        "The summit is full for now; they'll be offered the next free place. Anyone offered a place should take it up soon.",
    ),
    (
        "registered",
        "Registered, no fringe event yet",
        "No fringe event yet",
        "They're coming. A fringe event beforehand is a good warm-up.",
    ),
    ("warmed_up", "Registered and warmed up", "Warmed up", "Coming, and already at a fringe event: nothing to do."),
)


@dataclass
class Person:
    id: int
    name: str
    organisation: str
    email: str
    state: InvitationState
    champion_id: int | None
    sent_at: datetime | None
    opened_at: datetime | None
    responded_at: datetime | None
    created_at: datetime
    decline_reason: str
    last_contact_at: datetime | None
    last_nudged_at: datetime | None
    dont_chase: bool
    bounced_at: datetime | None
    bounce_reason: str
    registered_at: datetime | None
    offer_expires_at: datetime | None
    fringe_signups: int
    fringe_attended: int
    note_text: str | None
    note_at: datetime | None
    now: datetime = field(repr=False, default_factory=utcnow)
    # The summit's "Leaders may nudge before the invitation is sent" (off: no nudge until it is sent).
    may_nudge_unsent: bool = field(repr=False, default=False)

    @property
    def group(self) -> str:
        if self.state == S.INVITED:
            return "not_opened" if self.opened_at is None else "opened"
        if self.state in (S.DECLINED, S.CANCELLED):
            return "declined"
        if self.state in (S.WAITLISTED, S.OFFERED):
            return "waiting"
        return "warmed_up" if self.fringe_attended else "registered"

    @property
    def pill(self) -> tuple[str, str]:
        """(words, tone) for the status pill: what the leader needs to know, in words first."""
        group = self.group
        if group == "not_opened":
            return ("Not opened", "neutral")
        if group == "opened":
            return ("Opened", "info")
        if group == "warmed_up":
            return ("Warmed up", "ok")
        return (self.state.label, self.state.tone)

    @property
    def last_touch(self) -> datetime:
        """The last time anyone reached them: what "most urgent first" sorts on (oldest first)."""
        return self.last_contact_at or self.sent_at or self.created_at

    def urgency(self) -> tuple:
        group = self.group
        if group == "not_opened":
            # A wrong address first; then those who've ignored an invitation longest; unsent ones are the organisers' to send.
            return (self.dont_chase, self.bounced_at is None, self.sent_at is None, self.last_touch, self.name)
        if group == "waiting":
            offered = self.state == S.OFFERED
            return (self.dont_chase, not offered, self.offer_expires_at or self.last_touch, self.last_touch, self.name)
        if group == "registered":
            return (self.fringe_signups > 0, self.registered_at or self.last_touch, self.name)
        if group == "warmed_up":
            return (self.name.lower(),)
        return (self.dont_chase, self.last_touch, self.name)

    @property
    def next_nudge_at(self) -> datetime | None:
        if self.last_nudged_at is None:
            return None
        allowed = self.last_nudged_at + timedelta(days=NUDGE_MIN_DAYS)
        return allowed if allowed > self.now else None

    @property
    def not_invited_yet(self) -> bool:
        """Their invitation hasn't been sent and leaders may not nudge before it is."""
        return self.sent_at is None and not self.may_nudge_unsent

    @property
    def can_nudge(self) -> bool:
        return (
            self.state in NUDGEABLE
            and not self.dont_chase
            and self.bounced_at is None
            and self.next_nudge_at is None
            and not self.not_invited_yet
        )

    @property
    def can_mark_dont_chase(self) -> bool:
        return self.state in CHASEABLE


@dataclass
class Group:
    key: str
    title: str
    short: str
    hint: str
    people: list[Person]


@dataclass
class LeaderPage:
    leader: User
    you: Person | None
    groups: list[Group]
    total: int
    registered: int
    target: int
    live_total: int
    share: int

    @property
    def counts(self) -> dict[str, int]:
        return {g.key: len(g.people) for g in self.groups}


def _leader_rows(leader: User, now: datetime) -> list[Person]:
    signups = (
        select(func.count())
        .select_from(FringeSignup)
        .where(FringeSignup.invitation_id == Invitation.id, FringeSignup.state == SignupState.CONFIRMED)
        .correlate(Invitation)
        .scalar_subquery()
    )
    attended = (
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.invitation_id == Invitation.id, Attendance.fringe_event_id.is_not(None))
        .correlate(Invitation)
        .scalar_subquery()
    )
    last_note = (
        select(LeaderNote.id)
        .where(LeaderNote.invitation_id == Invitation.id, LeaderNote.kind == NoteKind.NOTE)
        .order_by(LeaderNote.at.desc(), LeaderNote.id.desc())
        .limit(1)
        .correlate(Invitation)
        .scalar_subquery()
    )
    stmt = (
        select(
            Invitation.id,
            Invitation.name,
            Invitation.organisation,
            Invitation.email,
            Invitation.state,
            Invitation.champion_id,
            Invitation.sent_at,
            Invitation.opened_at,
            Invitation.responded_at,
            Invitation.created_at,
            Invitation.decline_reason,
            Invitation.last_contact_at,
            Invitation.last_nudged_at,
            Invitation.dont_chase,
            Invitation.bounced_at,
            Invitation.bounce_reason,
            Registration.registered_at,
            WaitlistEntry.offer_expires_at,
            signups.label("signups"),
            attended.label("attended"),
            LeaderNote.text,
            LeaderNote.at,
        )
        .outerjoin(
            Registration,
            and_(Registration.invitation_id == Invitation.id, Registration.state == RegistrationState.CONFIRMED),
        )
        .outerjoin(WaitlistEntry, WaitlistEntry.invitation_id == Invitation.id)
        .outerjoin(LeaderNote, LeaderNote.id == last_note)
        .where(or_(Invitation.champion_id == leader.id, Invitation.email == leader.email.lower()), LIVE)
    )
    # One row per person, its columns in Person's field order (mypy can't follow a row spread into a dataclass).
    return [Person(*cast(tuple[Any, ...], row), now=now) for row in db.session.execute(stmt)]  # type: ignore[misc]


def leader_page(leader: User, *, target: int, now: datetime | None = None) -> LeaderPage:
    """Everything the leader's page shows, in two queries."""
    now = now or utcnow()
    people = _leader_rows(leader, now)
    summit = summit_settings.find_summit()
    for person in people:
        person.may_nudge_unsent = bool(summit and summit.leaders_may_nudge_unsent)
    you = next((p for p in people if p.email == leader.email.lower()), None)
    mine = [p for p in people if p is not you and p.champion_id == leader.id]
    by_group: dict[str, list[Person]] = defaultdict(list)
    for person in mine:
        by_group[person.group].append(person)
    groups = [
        Group(key, title, short, hint, sorted(by_group[key], key=Person.urgency))
        for key, title, short, hint in GROUPS
        if by_group.get(key)
    ]
    live_total = db.session.scalar(select(func.count()).select_from(Invitation).where(LIVE)) or 0
    registered = sum(1 for p in mine if p.state == S.REGISTERED)
    return LeaderPage(
        leader=leader,
        you=you,
        groups=groups,
        total=len(mine),
        registered=registered,
        target=target,
        live_total=live_total,
        share=share_of_target(target, len(mine), live_total),
    )


def leaders() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.LEADER).order_by(User.name, User.id)))


@dataclass(frozen=True)
class HistoryEntry:
    kind: NoteKind
    text: str
    at: datetime
    leader_name: str

    @property
    def label(self) -> str:
        return {
            NoteKind.NOTE: "Note",
            NoteKind.NUDGE: "Nudge sent",
            NoteKind.DONT_CHASE: "Marked don't chase",
            NoteKind.CHASE_AGAIN: "Chase again",
        }[self.kind]


def leader_history(invitation_id: int, limit: int = 100) -> list[HistoryEntry]:
    """A leader's notes, nudges and decisions about one invitee, newest first (the organiser's invitation page)."""
    rows = db.session.execute(
        select(LeaderNote.kind, LeaderNote.text, LeaderNote.at, func.coalesce(User.name, ""))
        .outerjoin(User, User.id == LeaderNote.leader_id)
        .where(LeaderNote.invitation_id == invitation_id)
        .order_by(LeaderNote.at.desc(), LeaderNote.id.desc())
        .limit(limit)
    ).all()
    return [HistoryEntry(kind=k, text=t or "", at=a, leader_name=n) for k, t, a, n in rows]
