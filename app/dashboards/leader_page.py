"""The leader's page: their invitees in the order that helps, a page at a time, in two statements.

Rules about who may be nudged live in invitations/chasing.py; this only reads."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, case, func, null, select, union_all

from app.core.auth.models import Role, User
from app.core.db import db, utcnow
from app.core.summit import settings as summit_settings
from app.dashboards.measures import LIVE, S, share_of_target
from fringe_events.models import Attendance, FringeSignup, SignupState
from invitations.chasing import CHASEABLE, GONE, NUDGE_MIN_DAYS, NUDGEABLE
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


PAGE_SIZE = 25  # people on a page of the leader's list


@dataclass
class Group:
    key: str
    title: str
    short: str
    hint: str
    people: list[Person]  # those on this page
    count: int  # everyone in the group
    first_page: int  # the page the group starts on


@dataclass
class LeaderPage:
    leader: User
    you: Person | None
    groups: list[Group]  # the groups with someone on this page
    jumps: list[Group]  # every group with someone in it, for the jump list
    total: int
    registered: int
    target: int
    live_total: int
    share: int
    page: int = 1
    pages: int = 1

    @property
    def counts(self) -> dict[str, int]:
        return {g.key: g.count for g in self.jumps}


@dataclass(frozen=True)
class Totals:
    """How many of the leader's invitees are in each group, and everyone live (for the share)."""

    counts: dict[str, int]
    live_total: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def registered(self) -> int:
        return self.counts["registered"] + self.counts["warmed_up"]

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)

    def first_pages(self) -> dict[str, int]:
        """The page each group starts on: the groups follow each other in GROUPS' order."""
        out, before = {}, 0
        for key, *_ in GROUPS:
            out[key] = before // PAGE_SIZE + 1
            before += self.counts[key]
        return out


def _attended():
    return (
        select(Attendance.id)
        .where(Attendance.invitation_id == Invitation.id, Attendance.fringe_event_id.is_not(None))
        .correlate(Invitation)
        .exists()
    )


def _group_number():
    """Person.group in SQL: 0…5 in GROUPS' order."""
    return case(
        (and_(Invitation.state == S.INVITED, Invitation.opened_at.is_(None)), 0),
        (Invitation.state == S.INVITED, 1),
        (Invitation.state.in_([S.DECLINED, S.CANCELLED]), 2),
        (Invitation.state.in_([S.WAITLISTED, S.OFFERED]), 3),
        (_attended(), 5),
        else_=4,
    )


def _mine(leader: User):
    """The leader's invitees: those they champion, not their own invitation, still live."""
    return and_(Invitation.champion_id == leader.id, Invitation.email != leader.email.lower(), LIVE)


def leader_totals(leader: User) -> Totals:
    """One aggregate statement: the leader's invitees per group (through the champion's index, so it reads
    their list only), with everyone live counted once in uncorrelated subqueries.
    A leader with no invitees gets no rows, and needs no share."""
    group = _group_number().label("g")
    # Everyone, less the few gone: SQLite counts a whole table without reading its rows.
    live_total = (
        select(func.count()).select_from(Invitation).scalar_subquery()
        - select(func.count()).select_from(Invitation).where(Invitation.state.in_(GONE)).scalar_subquery()
    )
    counts = {key: 0 for key, *_ in GROUPS}
    everyone = 0
    for number, n, live in db.session.execute(
        select(group, func.count(), live_total).where(_mine(leader)).group_by(group)
    ):
        counts[GROUPS[number][0]], everyone = n, live
    return Totals(counts, everyone or 0)


def _flag(condition):
    return case((condition, 1), else_=0)


def _ranking(leader: User):
    """The leader's invitees' ids and Person.urgency's order as SQL sort keys (on their list only). The keys
    that need another table are looked up in the sort's CASE, so only for the groups that use them."""
    touch = func.coalesce(Invitation.last_contact_at, Invitation.sent_at, Invitation.created_at)
    keyed = (
        select(Invitation.id.label("id"), _group_number().label("g"), Invitation.name.label("name"))
        .add_columns(
            Invitation.dont_chase.label("dont_chase"),
            Invitation.bounced_at.label("bounced_at"),
            Invitation.sent_at.label("sent_at"),
            (Invitation.state == S.OFFERED).label("offered"),
            touch.label("touch"),
        )
        .where(_mine(leader))
        .cte("keyed")
        .prefix_with("MATERIALIZED")  # each key once a row, not the group's CASE again in every sort key
    )
    k = keyed.c
    signed_up = (
        select(FringeSignup.id)
        .where(FringeSignup.invitation_id == k.id, FringeSignup.state == SignupState.CONFIRMED)
        .correlate(keyed)
        .exists()
    )
    offer_expires = (
        select(WaitlistEntry.offer_expires_at)
        .where(WaitlistEntry.invitation_id == k.id)
        .correlate(keyed)
        .scalar_subquery()
    )
    registered_at = (
        select(Registration.registered_at)
        .where(Registration.invitation_id == k.id, Registration.state == RegistrationState.CONFIRMED)
        .correlate(keyed)
        .scalar_subquery()
    )
    return k.id, (
        k.g,
        case((k.g <= 3, _flag(k.dont_chase)), (k.g == 4, _flag(signed_up)), else_=0),
        case((k.g == 0, _flag(k.bounced_at.is_(None))), (k.g == 3, _flag(~k.offered)), else_=0),
        case((k.g == 0, _flag(k.sent_at.is_(None))), else_=0),
        case(
            (k.g == 3, func.coalesce(offer_expires, k.touch)),
            (k.g == 4, func.coalesce(registered_at, k.touch)),
            (k.g == 5, null()),
            else_=k.touch,
        ),
        case((k.g == 3, k.touch), else_=null()),
        case((k.g == 5, func.lower(k.name)), else_=k.name),
        k.id,
    )


def _page_ids(leader: User, page: int):
    """The ids of one page of the leader's invitees, in order, as a subquery: the rest of each row is read
    for the page alone."""
    id_, keys = _ranking(leader)
    return select(id_).order_by(*keys).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)


def _wanted_ids(leader: User, page: int):
    """The ids of this page of the leader's invitees and of the leader's own invitation, as one subquery: each
    looked up by its index. (`id IN (page) OR email = …` would have PostgreSQL read every invitation to test
    the OR row by row.)"""
    on_the_page = _page_ids(leader, page).subquery("on_the_page")
    own = select(Invitation.id).where(Invitation.email == leader.email.lower())
    return union_all(select(on_the_page.c.id), own)


def _leader_rows(leader: User, page: int, now: datetime) -> list[Person]:
    """This page of the leader's invitees, and their own invitation (if live), with all Person shows."""
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
        .where(Invitation.id.in_(_wanted_ids(leader, page)), LIVE)
    )
    # One row per person, its columns in Person's field order (mypy can't follow a row spread into a dataclass).
    return [Person(*cast(tuple[Any, ...], row), now=now) for row in db.session.execute(stmt)]  # type: ignore[misc]


def leader_page(
    leader: User, *, target: int, page: int = 1, totals: Totals | None = None, now: datetime | None = None
) -> LeaderPage:
    """What the leader's page shows: one page of their invitees, the most in need of a word first, grouped;
    the totals from one aggregate. Two statements, whatever the length of the list (`page` is clamped to
    the pages there are)."""
    now = now or utcnow()
    totals = totals or leader_totals(leader)
    page = min(max(page, 1), totals.pages)
    people = _leader_rows(leader, page, now)
    summit = summit_settings.find_summit()
    for person in people:
        person.may_nudge_unsent = bool(summit and summit.leaders_may_nudge_unsent)
    you = next((p for p in people if p.email == leader.email.lower()), None)
    by_group: dict[str, list[Person]] = defaultdict(list)
    for person in people:
        if person is not you:
            by_group[person.group].append(person)
    first_pages = totals.first_pages()
    every = [
        Group(key, title, short, hint, sorted(by_group[key], key=Person.urgency), totals.counts[key], first_pages[key])
        for key, title, short, hint in GROUPS
        if totals.counts[key]
    ]
    return LeaderPage(
        leader=leader,
        you=you,
        groups=[group for group in every if group.people],
        jumps=every,
        total=totals.total,
        registered=totals.registered,
        target=target,
        live_total=totals.live_total,
        share=share_of_target(target, totals.total, totals.live_total),
        page=page,
        pages=totals.pages,
    )


def page_of(leader: User, invitation_id: int) -> int:
    """The page of the leader's list that shows this invitee (1 if they aren't on it): where to come back to
    after acting on them."""
    id_, keys = _ranking(leader)
    ranked = select(id_.label("id"), func.row_number().over(order_by=keys).label("n")).subquery("ranked")
    position = db.session.scalar(select(ranked.c.n).where(ranked.c.id == invitation_id))
    return (position - 1) // PAGE_SIZE + 1 if position else 1


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
