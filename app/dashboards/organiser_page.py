"""The organisers' dashboard: figures, the funnel, registrations per day, breakdowns, champions, fringe
attendance and bounces, each as aggregate queries whose count never depends on how many invitees there are
(tests/integration/test_organiser_dashboard.py counts them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import aliased

from app.core.auth.models import Role, User
from app.core.db import db, utcnow
from app.core.timefmt import local
from app.dashboards.measures import LIVE, S, percent, share_of_target, warmed_up_query
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, FringeEvent, FringeSignup, SignupState
from invitations.models import Invitation, InvitationState, LeaderNote, NoteKind, Registration, RegistrationState

FUNNEL = (
    ("invited", "Invited"),
    ("sent", "Sent"),
    ("opened", "Opened"),
    ("registered", "Registered"),
    ("warmed_up", "Warmed up"),
    ("arrived", "Arrived"),
)


def state_and_funnel() -> tuple[dict[InvitationState, int], dict[str, int]]:
    """Counts per state and the funnel: one aggregate over the invitations, one over the attendance (joining
    the attendance to every invitation made SQLite build both sides again for each page: 19 ms of 47 at
    10,000 invitations)."""
    registered = Invitation.state == S.REGISTERED
    columns: list[Any] = [func.count().filter(Invitation.state == state) for state in InvitationState]
    columns += [
        func.count().filter(LIVE),
        func.count(Invitation.sent_at).filter(LIVE),
        func.count().filter(LIVE, or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))),
        func.count().filter(registered),
    ]
    row = db.session.execute(select(*columns).select_from(Invitation)).one()
    warmed, arrived = db.session.execute(
        select(
            func.count(distinct(Attendance.invitation_id)).filter(Attendance.fringe_event_id.is_not(None), registered),
            func.count().filter(Attendance.event_key == SUMMIT_EVENT_KEY),
        ).join(Invitation, Invitation.id == Attendance.invitation_id)
    ).one()
    states = dict(zip(InvitationState, row[: len(InvitationState)]))
    funnel = dict(zip([key for key, _ in FUNNEL], [*row[len(InvitationState) :], warmed, arrived]))
    return states, funnel


@dataclass(frozen=True)
class Day:
    day: date
    new: int
    total: int


def registrations_per_day(now: datetime | None = None) -> list[Day]:
    """Confirmed registrations by the day (in London) they were made, with a running total.

    Bucketed here rather than in SQL: the rows are bounded by the summit's capacity, and SQLite has no
    time zone rules to turn UTC into a London date."""
    now = now or utcnow()
    stamps = db.session.scalars(
        select(Registration.registered_at)
        .join(Invitation, Invitation.id == Registration.invitation_id)
        .where(Registration.state == RegistrationState.CONFIRMED, Invitation.state == S.REGISTERED)
    ).all()
    if not stamps:
        return []
    per_day: dict[date, int] = defaultdict(int)
    for stamp in stamps:
        per_day[local(stamp).date()] += 1
    first, last = min(per_day), max(max(per_day), local(now).date())
    days, total, current = [], 0, first
    while current <= last:
        total += per_day.get(current, 0)
        days.append(Day(current, per_day.get(current, 0), total))
        current += timedelta(days=1)
    return days


@dataclass(frozen=True)
class Breakdown:
    name: str
    invited: int
    opened: int
    registered: int
    declined: int

    @property
    def conversion(self) -> int:
        return percent(self.registered, self.invited)


def breakdown(column) -> list[Breakdown]:
    """Live invitations grouped by organisation or sector: invited, opened, registered, declined."""
    rows = db.session.execute(
        select(
            column,
            func.count(),
            func.count().filter(or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))),
            func.count().filter(Invitation.state == S.REGISTERED),
            func.count().filter(Invitation.state == S.DECLINED),
        )
        .where(LIVE)
        .group_by(column)
        .order_by(func.count().desc(), column)
    ).all()
    return [Breakdown(name or "", *numbers) for name, *numbers in rows]


@dataclass
class ChampionRow:
    leader_id: int | None
    name: str
    organisation: str
    invitees: int = 0
    opened: int = 0
    registered: int = 0
    warmed_up: int = 0
    dont_chase: int = 0
    nudges: int = 0
    notes: int = 0
    last_activity: datetime | None = None
    share: int = 0

    @property
    def conversion(self) -> int:
        return percent(self.registered, self.invitees)


def champions(target: int) -> list[ChampionRow]:
    """Conversion per leader (every leader, with or without invitees), then invitations with no champion.

    A leader's own invitation is not one of their invitees (as on their page), though it counts among
    everyone invited when shares of the target are worked out."""
    warmed = warmed_up_query()
    champion = aliased(User)
    mine = or_(champion.id.is_(None), Invitation.email != champion.email)
    registered = and_(mine, Invitation.state == S.REGISTERED)
    stats, live_total = {}, 0
    for champion_id, everyone, *numbers in db.session.execute(
        select(
            Invitation.champion_id,
            func.count(),
            func.count().filter(mine),
            func.count().filter(mine, or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))),
            func.count().filter(registered),
            func.count(warmed.c.invitation_id).filter(registered),
            func.count().filter(mine, Invitation.dont_chase.is_(True)),
        )
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .outerjoin(warmed, warmed.c.invitation_id == Invitation.id)
        .where(LIVE)
        .group_by(Invitation.champion_id)
    ):
        stats[champion_id] = numbers
        live_total += everyone
    notes = (
        select(
            LeaderNote.leader_id.label("leader_id"),
            func.count().filter(LeaderNote.kind == NoteKind.NUDGE).label("nudges"),
            func.count().filter(LeaderNote.kind == NoteKind.NOTE).label("notes"),
            func.max(LeaderNote.at).label("last"),
        )
        .group_by(LeaderNote.leader_id)
        .subquery("notes")
    )
    rows = []
    for user_id, name, organisation, nudges, n_notes, last in db.session.execute(
        select(User.id, User.name, User.organisation, notes.c.nudges, notes.c.notes, notes.c.last)
        .outerjoin(notes, notes.c.leader_id == User.id)
        .where(User.role == Role.LEADER)
        .order_by(User.name, User.id)
    ):
        invitees, opened, booked, warmed, chase_not = stats.get(user_id, [0, 0, 0, 0, 0])
        rows.append(
            ChampionRow(
                user_id,
                name,
                organisation,
                invitees,
                opened,
                booked,
                warmed,
                chase_not,
                nudges=nudges or 0,
                notes=n_notes or 0,
                last_activity=last,
                share=share_of_target(target, invitees, live_total),
            )
        )
    if None in stats:
        invitees, opened, booked, warmed, chase_not = stats[None]
        rows.append(ChampionRow(None, "No champion", "", invitees, opened, booked, warmed, chase_not))
    return rows


@dataclass(frozen=True)
class FringeRow:
    id: int
    title: str
    starts_at: datetime
    cancelled: bool
    capacity: int | None
    signups: int
    attended: int
    registered: int  # attendees who now hold a summit place
    registered_after: int  # ...and registered after they attended

    @property
    def registered_share(self) -> int:
        return percent(self.registered, self.attended)


def fringe_attendance() -> list[FringeRow]:
    """Per fringe event: sign-ups, attendance, and how many attendees then registered for the summit."""
    signups = (
        select(FringeSignup.fringe_event_id.label("event_id"), func.count().label("n"))
        .where(FringeSignup.state == SignupState.CONFIRMED)
        .group_by(FringeSignup.fringe_event_id)
        .subquery("signups")
    )
    registered = and_(Invitation.state == S.REGISTERED, Registration.state == RegistrationState.CONFIRMED)
    rows = db.session.execute(
        select(
            FringeEvent.id,
            FringeEvent.title,
            FringeEvent.starts_at,
            FringeEvent.status,
            FringeEvent.capacity,
            func.coalesce(func.max(signups.c.n), 0),
            func.count(Attendance.id),
            func.count(Attendance.id).filter(registered),
            func.count(Attendance.id).filter(registered, Registration.registered_at >= Attendance.checked_in_at),
        )
        .outerjoin(signups, signups.c.event_id == FringeEvent.id)
        .outerjoin(Attendance, Attendance.fringe_event_id == FringeEvent.id)
        .outerjoin(Invitation, Invitation.id == Attendance.invitation_id)
        .outerjoin(Registration, Registration.invitation_id == Attendance.invitation_id)
        .group_by(FringeEvent.id, FringeEvent.title, FringeEvent.starts_at, FringeEvent.status, FringeEvent.capacity)
        .order_by(FringeEvent.starts_at, FringeEvent.id)
    ).all()
    return [
        FringeRow(id_, title, starts, status.value == "cancelled", capacity, *numbers)
        for id_, title, starts, status, capacity, *numbers in rows
    ]


@dataclass(frozen=True)
class Bounce:
    id: int
    name: str
    email: str
    organisation: str
    bounced_at: datetime | None
    reason: str
    champion: str


def bounces(limit: int = 200) -> tuple[list[Bounce], int]:
    """Live invitations whose email bounced, newest first, and how many there are in all."""
    champion = aliased(User)
    rows = db.session.execute(
        select(
            Invitation.id,
            Invitation.name,
            Invitation.email,
            Invitation.organisation,
            Invitation.bounced_at,
            Invitation.bounce_reason,
            func.coalesce(champion.name, ""),
            func.count().over(),
        )
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .where(Invitation.bounced_at.is_not(None), LIVE)
        .order_by(Invitation.bounced_at.desc(), Invitation.id)
        .limit(limit)
    ).all()
    return [Bounce(*row[:7]) for row in rows], (rows[0][7] if rows else 0)


@dataclass
class Overview:
    summit: object
    states: dict
    funnel: dict
    days: list[Day]
    organisations: list[Breakdown]
    sectors: list[Breakdown]
    champions: list[ChampionRow]
    fringe: list[FringeRow]
    bounces: list[Bounce]
    bounce_total: int

    @property
    def registered(self) -> int:
        return self.states[S.REGISTERED]

    @property
    def offers_held(self) -> int:
        return self.states[S.OFFERED]

    @property
    def waitlisted(self) -> int:
        return self.states[S.WAITLISTED]


def organiser_overview(summit, now: datetime | None = None) -> Overview:
    states, funnel = state_and_funnel()
    bounce_rows, bounce_total = bounces()
    return Overview(
        summit=summit,
        states=states,
        funnel=funnel,
        days=registrations_per_day(now),
        organisations=breakdown(Invitation.organisation),
        sectors=breakdown(Invitation.sector),
        champions=champions(summit.target),
        fringe=fringe_attendance(),
        bounces=bounce_rows,
        bounce_total=bounce_total,
    )
