"""The organisers' dashboard: figures, the funnel, registrations per day, breakdowns, champions, fringe
attendance and bounces. The invitations are read once, grouped (`tally`); everything else reads tables
bounded by the summit's capacity, the staff or an index, so neither the number of statements nor the
size of the page grows with the number of invitees (tests/integration/test_organiser_dashboard.py counts
the statements)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    and_,
    cast,
    distinct,
    false,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from app.core.auth.models import Role, User
from app.core.db import UTCDateTime, db, utcnow
from app.core.timefmt import local
from app.dashboards.measures import LIVE, S, percent, share_of_target
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, FringeEvent, FringeSignup, SignupState
from invitations import waitlist
from invitations.chasing import GONE
from invitations.models import Invitation, InvitationState, LeaderNote, NoteKind, Registration, RegistrationState

FUNNEL = (
    ("invited", "Invited"),
    ("sent", "Sent"),
    ("opened", "Opened"),
    ("registered", "Registered"),
    ("warmed_up", "Warmed up"),
    ("arrived", "Arrived"),
)
TOP = 10  # champions, organisations and sectors on the dashboard; the full lists have pages of their own
BOUNCES_SHOWN = 50


@dataclass
class Counts:
    """What one group of invitations adds up to: live ones only, except `states`, which counts every one."""

    live: int = 0
    sent: int = 0
    opened: int = 0
    registered: int = 0
    declined: int = 0
    warmed_up: int = 0
    dont_chase: int = 0
    bounced: int = 0

    def add(self, other: Counts) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))


FIELDS = ("live", "sent", "opened", "registered", "declined", "warmed_up", "dont_chase", "bounced")


@dataclass
class Tally:
    """Every figure the dashboard derives from the invitations, from one grouped scan of them."""

    states: dict[InvitationState, int]
    everyone: Counts
    by_champion: dict[int | None, Counts]
    by_organisation: dict[str, Counts]
    by_sector: dict[str, Counts]


OPENED = or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))


def warmed_up_ids():
    """Invitations at a fringe event at least once (attendance is bounded by the events' capacity)."""
    return select(Attendance.invitation_id).where(Attendance.fringe_event_id.is_not(None))


def tally() -> Tally:
    """Two statements. The first reads the invitations once, from one covering index already in the order it
    groups by (ix_invitation_tally: no table rows, no sort), into cheap counts per champion, organisation,
    sector and state, and adds those up again in the database per champion, per organisation, per sector
    and per state: a few hundred rows come back, however many invitations there are. The second counts
    those who warmed up, from the attendance (bounded by the fringe events' capacity)."""
    columns = (Invitation.champion_id, Invitation.organisation, Invitation.sector)
    groups = (
        select(
            *columns,
            type_coerce(Invitation.state, String).label("state"),
            func.count().label("n"),
            func.count(Invitation.sent_at).label("sent"),
            func.count(func.coalesce(Invitation.opened_at, Invitation.responded_at)).label("opened"),
            func.count(func.nullif(Invitation.dont_chase, false())).label("dont_chase"),
            func.count(Invitation.bounced_at).label("bounced"),
        )
        .group_by(*columns, Invitation.state)
        .cte("groups")
        .prefix_with("MATERIALIZED")  # grouped once, then added up four ways
    )
    g = groups.c
    live = g.state.not_in([state.value for state in GONE])

    def live_sum(column, *where):
        return func.coalesce(func.sum(column).filter(live, *where), 0)

    def per(dimension: int, key_id, key_name, by):
        return select(
            literal(dimension),
            key_id,
            key_name,
            live_sum(g.n),
            live_sum(g.sent),
            live_sum(g.opened),
            live_sum(g.n, g.state == S.REGISTERED.value),
            live_sum(g.n, g.state == S.DECLINED.value),
            live_sum(g.dont_chase),
            live_sum(g.bounced),
        ).group_by(by)

    no_id, no_name = cast(null(), Integer), cast(null(), String)
    per_state = select(literal(3), no_id, g.state, func.sum(g.n), *[literal(0)] * 6).group_by(g.state)
    rows = db.session.execute(
        union_all(
            per(0, g.champion_id, no_name, g.champion_id),
            per(1, no_id, g.organisation, g.organisation),
            per(2, no_id, g.sector, g.sector),
            per_state,
        )
    ).all()
    result = Tally(
        {state: 0 for state in InvitationState}, Counts(), defaultdict(Counts), defaultdict(Counts), defaultdict(Counts)
    )
    warmed = _warmed_up(columns)
    targets: tuple[dict[Any, Counts], ...] = (result.by_champion, result.by_organisation, result.by_sector)
    for dimension, key_id, key_name, *sums in rows:
        n, sent, opened, registered, declined, dont_chase, bounced = map(int, sums)  # PostgreSQL's sums: numeric
        if dimension == 3:
            result.states[InvitationState(key_name)] = n
            continue
        key = key_id if dimension == 0 else (key_name or "")
        if not n:
            continue
        counts = Counts(n, sent, opened, registered, declined, warmed[dimension].get(key, 0), dont_chase, bounced)
        targets[dimension][key] = counts
        if dimension == 0:
            result.everyone.add(counts)
    return result


def _warmed_up(columns) -> tuple[dict, dict, dict]:
    """Registered invitees who attended a fringe event, per champion, organisation and sector."""
    out: tuple[dict, dict, dict] = (defaultdict(int), defaultdict(int), defaultdict(int))
    for champion_id, organisation, sector, n in db.session.execute(
        select(columns[0], columns[1], columns[2], func.count(distinct(Invitation.id)))
        .join(Attendance, Attendance.invitation_id == Invitation.id)
        .where(Attendance.fringe_event_id.is_not(None), Invitation.state == S.REGISTERED)
        .group_by(*columns)
    ):
        for totals, key in zip(out, (champion_id, organisation or "", sector or "")):
            totals[key] += n
    return out


def funnel(counts: Counts, arrived: int) -> dict[str, int]:
    return {
        "invited": counts.live,
        "sent": counts.sent,
        "opened": counts.opened,
        "registered": counts.registered,
        "warmed_up": counts.warmed_up,
        "arrived": arrived,
    }


def arrivals() -> int:
    """People checked in at the summit: one attendance row each (a unique constraint), bounded by capacity."""
    return db.session.scalar(select(func.count()).where(Attendance.event_key == SUMMIT_EVENT_KEY)) or 0


@dataclass(frozen=True)
class Day:
    day: date
    new: int
    total: int


def _utc_hour(column):
    """The UTC hour a stamp falls in, worked out in the database."""
    if db.engine.dialect.name == "postgresql":
        hour = func.date_trunc("hour", column)
    else:  # SQLite keeps a stamp as text, "2026-07-01 23:30:00.000000"
        hour = func.strftime("%Y-%m-%d %H:00:00", column)
    return type_coerce(hour, UTCDateTime)


def registrations_per_day(now: datetime | None = None) -> list[Day]:
    """Confirmed registrations by the day (in London) they were made, with a running total.

    From the registrations alone (a confirmed registration is a registered invitation: the transitions
    change both together), counted in the database per UTC hour: at most 24 rows a day of registering,
    however many registrations there are. London's offset from UTC is always whole hours, so each UTC hour
    lies within one London day, and the hours are added up into days here (SQLite has no time zone rules)."""
    now = now or utcnow()
    hour = _utc_hour(Registration.registered_at).label("hour")
    per_hour = db.session.execute(
        select(hour, func.count()).where(Registration.state == RegistrationState.CONFIRMED).group_by(hour)
    ).all()
    if not per_hour:
        return []
    per_day: dict[date, int] = defaultdict(int)
    for stamp, n in per_hour:
        per_day[local(stamp).date()] += n
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


def breakdown(groups: dict[str, Counts]) -> list[Breakdown]:
    """Live invitations by organisation or sector, the largest first: invited, opened, registered, declined."""
    rows = [Breakdown(name, c.live, c.opened, c.registered, c.declined) for name, c in groups.items()]
    return sorted(rows, key=lambda row: (-row.invited, row.name))


def organisation_breakdown() -> list[Breakdown]:
    return breakdown(tally().by_organisation)


def sector_breakdown() -> list[Breakdown]:
    return breakdown(tally().by_sector)


def champion_rows(target: int, by_champion: dict[int | None, Counts]) -> list[ChampionRow]:
    """A row per leader (with or without invitees, by name), then invitations with no champion; nudges and
    notes are left to `with_notes`, for the rows a page shows.

    A leader's own invitation is not one of their invitees (as on their page), though it counts among
    everyone invited when shares of the target are worked out: one statement finds each leader's own
    invitation where they champion it (by the unique email), and it is taken off their counts."""
    live_total = sum(c.live for c in by_champion.values())
    own = and_(Invitation.email == User.email, Invitation.champion_id == User.id)
    rows = []
    for user_id, name, organisation, state, opened, dont_chase, warmed in db.session.execute(
        select(
            User.id,
            User.name,
            User.organisation,
            Invitation.state,
            OPENED,
            Invitation.dont_chase,
            Invitation.id.in_(warmed_up_ids()),
        )
        .outerjoin(Invitation, own)
        .where(User.role == Role.LEADER)
        .order_by(User.name, User.id)
    ):
        c = by_champion.get(user_id, Counts())
        invitees, opened_n, booked, warmed_n, chase_not = c.live, c.opened, c.registered, c.warmed_up, c.dont_chase
        if state is not None and state not in GONE:
            mine_registered = state == S.REGISTERED
            invitees -= 1
            opened_n -= 1 if opened else 0
            booked -= 1 if mine_registered else 0
            warmed_n -= 1 if mine_registered and warmed else 0
            chase_not -= 1 if dont_chase else 0
        rows.append(
            ChampionRow(
                user_id,
                name,
                organisation,
                invitees,
                opened_n,
                booked,
                warmed_n,
                chase_not,
                share=share_of_target(target, invitees, live_total),
            )
        )
    if None in by_champion:
        c = by_champion[None]
        rows.append(ChampionRow(None, "No champion", "", c.live, c.opened, c.registered, c.warmed_up, c.dont_chase))
    return rows


def with_notes(rows: list[ChampionRow]) -> list[ChampionRow]:
    """Fill in the leaders' nudges, notes and last activity for these rows only (one statement)."""
    ids = [row.leader_id for row in rows if row.leader_id is not None]
    if not ids:
        return rows
    found = {
        leader_id: (nudges, notes, last)
        for leader_id, nudges, notes, last in db.session.execute(
            select(
                LeaderNote.leader_id,
                func.count().filter(LeaderNote.kind == NoteKind.NUDGE),
                func.count().filter(LeaderNote.kind == NoteKind.NOTE),
                func.max(LeaderNote.at),
            )
            .where(LeaderNote.leader_id.in_(ids))
            .group_by(LeaderNote.leader_id)
        )
    }
    for row in rows:
        if row.leader_id in found:
            row.nudges, row.notes, row.last_activity = found[row.leader_id]
    return rows


def champions(target: int) -> list[ChampionRow]:
    """Conversion per leader, every leader by name, then invitations with no champion (the leaders' list)."""
    return with_notes(champion_rows(target, tally().by_champion))


def top_champions(rows: list[ChampionRow], n: int = TOP) -> list[ChampionRow]:
    """The leaders with the most invitees (then by name), and invitations with no champion after them."""
    leaders = sorted((r for r in rows if r.leader_id is not None), key=lambda r: (-r.invitees, r.name, r.leader_id))
    return leaders[:n] + [r for r in rows if r.leader_id is None]


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


def bounces(limit: int = BOUNCES_SHOWN) -> list[Bounce]:
    """Live invitations whose email bounced, newest first: read through the index of bounces, so the
    statement stops after `limit` rows however many invitations there are (the total is in the tally)."""
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
        )
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .where(Invitation.bounced_at.is_not(None), LIVE)
        .order_by(Invitation.bounced_at.desc(), Invitation.id.desc())
        .limit(limit)
    ).all()
    return [Bounce(*row) for row in rows]


@dataclass
class Overview:
    summit: object
    states: dict
    funnel: dict
    days: list[Day]
    organisations: list[Breakdown]  # the largest TOP
    organisation_total: int
    sectors: list[Breakdown]  # the largest TOP
    sector_total: int
    champions: list[ChampionRow]  # the TOP leaders with most invitees, then "No champion"
    leader_total: int
    fringe: list[FringeRow]
    bounces: list[Bounce]
    bounce_total: int
    offers_lapsed: int = 0  # run out, not yet passed on (the mail worker's next round, or the next write, does it)

    @property
    def registered(self) -> int:
        return self.states[S.REGISTERED]

    @property
    def offers_held(self) -> int:
        """Offers still open: a lapsed one is no longer held, though its place is counted until it passes on."""
        return max(self.states[S.OFFERED] - self.offers_lapsed, 0)

    @property
    def waitlisted(self) -> int:
        return self.states[S.WAITLISTED]


def organiser_overview(summit, now: datetime | None = None) -> Overview:
    """Everything on the dashboard in a fixed number of statements, whatever the number of invitations:
    the tally (one grouped scan), the leaders, their notes (the rows shown), arrivals, registrations per
    day, the fringe events, the latest bounces and the offers that have run out. It reads only: a lapsed offer
    is counted as lapsed here, and expired by the mail worker or the next write that needs its place."""
    now = now or utcnow()
    counts = tally()
    organisations, sectors = breakdown(counts.by_organisation), breakdown(counts.by_sector)
    rows = champion_rows(summit.target, counts.by_champion)
    return Overview(
        summit=summit,
        states=counts.states,
        funnel=funnel(counts.everyone, arrivals()),
        days=registrations_per_day(now),
        organisations=organisations[:TOP],
        organisation_total=len(organisations),
        sectors=sectors[:TOP],
        sector_total=len(sectors),
        champions=with_notes(top_champions(rows)),
        leader_total=sum(1 for r in rows if r.leader_id is not None),
        fringe=fringe_attendance(),
        bounces=bounces(),
        bounce_total=counts.everyone.bounced,
        offers_lapsed=waitlist.lapsed_offers(now),
    )
