"""Read models for the leader's page, the organisers' dashboard and the exports.

Each function is one or two aggregate queries whose count never depends on how many invitees there are
(tests/integration/test_organiser_dashboard.py counts them). Rules about who may be nudged live in
invitations/chasing.py; these functions only read.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.auth.models import Role, User
from app.db import db, utcnow
from app.timefmt import local
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, FringeEvent, FringeSignup, SignupState
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

S = InvitationState
LIVE = Invitation.state.not_in(GONE)


def share_of_target(target: int, invitees: int, live_total: int) -> int:
    """A leader's share of the target: the target split in proportion to who they champion, rounded."""
    if not live_total or not invitees:
        return 0
    return int(round(target * invitees / live_total))


def percent(part: int, whole: int) -> int:
    return int(round(100 * part / whole)) if whole else 0


def _warmed_up():
    """Invitation ids that attended at least one fringe event."""
    return (select(Attendance.invitation_id.label("invitation_id"))
            .where(Attendance.fringe_event_id.is_not(None))
            .group_by(Attendance.invitation_id).subquery("warmed"))


def _arrived():
    """Invitation ids checked in at the summit (one row per person: a unique constraint)."""
    return (select(Attendance.invitation_id.label("invitation_id"), Attendance.checked_in_at.label("at"))
            .where(Attendance.event_key == SUMMIT_EVENT_KEY).subquery("arrived"))


# --- the leader's page -----------------------------------------------------------------------

# (key, heading, short label for the jump list, what would help)
GROUPS = (
    ("not_opened", "Not opened yet", "Not opened",
     "They haven't opened their invitation. A quick word from you may be all it takes."),
    ("opened", "Opened, not registered", "Opened", "They've seen the invitation but haven't replied yet."),
    ("declined", "Declined", "Declined",
     "They've said they can't come. If you know them well, a word may change their mind."),
    ("waiting", "On the waiting list", "Waiting",
     "The summit is full for now; they'll be offered the next free place. Anyone offered a place should take it up soon."),
    ("registered", "Registered, no fringe event yet", "No fringe event yet",
     "They're coming. A fringe event beforehand is a good warm-up."),
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
    def can_nudge(self) -> bool:
        return (self.state in NUDGEABLE and not self.dont_chase and self.bounced_at is None
                and self.next_nudge_at is None)

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
    signups = (select(func.count()).select_from(FringeSignup)
               .where(FringeSignup.invitation_id == Invitation.id, FringeSignup.state == SignupState.CONFIRMED)
               .correlate(Invitation).scalar_subquery())
    attended = (select(func.count()).select_from(Attendance)
                .where(Attendance.invitation_id == Invitation.id, Attendance.fringe_event_id.is_not(None))
                .correlate(Invitation).scalar_subquery())
    last_note = (select(LeaderNote.id)
                 .where(LeaderNote.invitation_id == Invitation.id, LeaderNote.kind == NoteKind.NOTE)
                 .order_by(LeaderNote.at.desc(), LeaderNote.id.desc()).limit(1)
                 .correlate(Invitation).scalar_subquery())
    stmt = (
        select(Invitation.id, Invitation.name, Invitation.organisation, Invitation.email, Invitation.state,
               Invitation.champion_id, Invitation.sent_at, Invitation.opened_at, Invitation.responded_at,
               Invitation.created_at, Invitation.decline_reason, Invitation.last_contact_at, Invitation.last_nudged_at,
               Invitation.dont_chase, Invitation.bounced_at, Invitation.bounce_reason, Registration.registered_at,
               WaitlistEntry.offer_expires_at, signups.label("signups"), attended.label("attended"),
               LeaderNote.text, LeaderNote.at)
        .outerjoin(Registration, and_(Registration.invitation_id == Invitation.id,
                                      Registration.state == RegistrationState.CONFIRMED))
        .outerjoin(WaitlistEntry, WaitlistEntry.invitation_id == Invitation.id)
        .outerjoin(LeaderNote, LeaderNote.id == last_note)
        .where(or_(Invitation.champion_id == leader.id, Invitation.email == leader.email.lower()), LIVE)
    )
    return [Person(*row, now=now) for row in db.session.execute(stmt)]


def leader_page(leader: User, *, target: int, now: datetime | None = None) -> LeaderPage:
    """Everything the leader's page shows, in two queries."""
    now = now or utcnow()
    people = _leader_rows(leader, now)
    you = next((p for p in people if p.email == leader.email.lower()), None)
    mine = [p for p in people if p is not you and p.champion_id == leader.id]
    by_group: dict[str, list[Person]] = defaultdict(list)
    for person in mine:
        by_group[person.group].append(person)
    groups = [Group(key, title, short, hint, sorted(by_group[key], key=Person.urgency))
              for key, title, short, hint in GROUPS if by_group.get(key)]
    live_total = db.session.scalar(select(func.count()).select_from(Invitation).where(LIVE)) or 0
    registered = sum(1 for p in mine if p.state == S.REGISTERED)
    return LeaderPage(leader=leader, you=you, groups=groups, total=len(mine), registered=registered, target=target,
                      live_total=live_total, share=share_of_target(target, len(mine), live_total))


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
        return {NoteKind.NOTE: "Note", NoteKind.NUDGE: "Nudge sent", NoteKind.DONT_CHASE: "Marked don't chase",
                NoteKind.CHASE_AGAIN: "Chase again"}[self.kind]


def leader_history(invitation_id: int, limit: int = 100) -> list[HistoryEntry]:
    """A leader's notes, nudges and decisions about one invitee, newest first (the organiser's invitation page)."""
    rows = db.session.execute(
        select(LeaderNote.kind, LeaderNote.text, LeaderNote.at, func.coalesce(User.name, ""))
        .outerjoin(User, User.id == LeaderNote.leader_id)
        .where(LeaderNote.invitation_id == invitation_id)
        .order_by(LeaderNote.at.desc(), LeaderNote.id.desc()).limit(limit)
    ).all()
    return [HistoryEntry(kind=k, text=t or "", at=a, leader_name=n) for k, t, a, n in rows]


# --- the organisers' dashboard ---------------------------------------------------------------

FUNNEL = (
    ("invited", "Invited"), ("sent", "Sent"), ("opened", "Opened"), ("registered", "Registered"),
    ("warmed_up", "Warmed up"), ("arrived", "Arrived"),
)


def state_and_funnel() -> tuple[dict[InvitationState, int], dict[str, int]]:
    """Counts per state and the funnel, in one aggregate query."""
    warmed, arrived = _warmed_up(), _arrived()
    registered = Invitation.state == S.REGISTERED
    columns = [func.count().filter(Invitation.state == state) for state in InvitationState]
    columns += [
        func.count().filter(LIVE),
        func.count(Invitation.sent_at).filter(LIVE),
        func.count().filter(LIVE, or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))),
        func.count().filter(registered),
        func.count(warmed.c.invitation_id).filter(registered),
        func.count(arrived.c.invitation_id),
    ]
    row = db.session.execute(
        select(*columns).select_from(Invitation)
        .outerjoin(warmed, warmed.c.invitation_id == Invitation.id)
        .outerjoin(arrived, arrived.c.invitation_id == Invitation.id)
    ).one()
    states = dict(zip(InvitationState, row[:len(InvitationState)]))
    funnel = dict(zip([key for key, _ in FUNNEL], row[len(InvitationState):]))
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
        select(Registration.registered_at).join(Invitation, Invitation.id == Registration.invitation_id)
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
        select(column, func.count(),
               func.count().filter(or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))),
               func.count().filter(Invitation.state == S.REGISTERED),
               func.count().filter(Invitation.state == S.DECLINED))
        .where(LIVE).group_by(column).order_by(func.count().desc(), column)
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
    warmed = _warmed_up()
    champion = aliased(User)
    mine = or_(champion.id.is_(None), Invitation.email != champion.email)
    registered = and_(mine, Invitation.state == S.REGISTERED)
    stats, live_total = {}, 0
    for champion_id, everyone, *numbers in db.session.execute(
        select(Invitation.champion_id, func.count(), func.count().filter(mine),
               func.count().filter(mine, or_(Invitation.opened_at.is_not(None), Invitation.responded_at.is_not(None))),
               func.count().filter(registered),
               func.count(warmed.c.invitation_id).filter(registered),
               func.count().filter(mine, Invitation.dont_chase.is_(True)))
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .outerjoin(warmed, warmed.c.invitation_id == Invitation.id)
        .where(LIVE).group_by(Invitation.champion_id)
    ):
        stats[champion_id] = numbers
        live_total += everyone
    notes = (select(LeaderNote.leader_id.label("leader_id"),
                    func.count().filter(LeaderNote.kind == NoteKind.NUDGE).label("nudges"),
                    func.count().filter(LeaderNote.kind == NoteKind.NOTE).label("notes"),
                    func.max(LeaderNote.at).label("last"))
             .group_by(LeaderNote.leader_id).subquery("notes"))
    rows = []
    for user_id, name, organisation, nudges, n_notes, last in db.session.execute(
        select(User.id, User.name, User.organisation, notes.c.nudges, notes.c.notes, notes.c.last)
        .outerjoin(notes, notes.c.leader_id == User.id)
        .where(User.role == Role.LEADER).order_by(User.name, User.id)
    ):
        numbers = stats.get(user_id, [0, 0, 0, 0, 0])
        rows.append(ChampionRow(user_id, name, organisation, *numbers, nudges=nudges or 0, notes=n_notes or 0,
                                last_activity=last, share=share_of_target(target, numbers[0], live_total)))
    if None in stats:
        rows.append(ChampionRow(None, "No champion", "", *stats[None]))
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
    registered: int          # attendees who now hold a summit place
    registered_after: int    # ...and registered after they attended

    @property
    def registered_share(self) -> int:
        return percent(self.registered, self.attended)


def fringe_attendance() -> list[FringeRow]:
    """Per fringe event: sign-ups, attendance, and how many attendees then registered for the summit."""
    signups = (select(FringeSignup.fringe_event_id.label("event_id"), func.count().label("n"))
               .where(FringeSignup.state == SignupState.CONFIRMED)
               .group_by(FringeSignup.fringe_event_id).subquery("signups"))
    registered = and_(Invitation.state == S.REGISTERED, Registration.state == RegistrationState.CONFIRMED)
    rows = db.session.execute(
        select(FringeEvent.id, FringeEvent.title, FringeEvent.starts_at, FringeEvent.status, FringeEvent.capacity,
               func.coalesce(func.max(signups.c.n), 0),
               func.count(Attendance.id),
               func.count(Attendance.id).filter(registered),
               func.count(Attendance.id).filter(registered, Registration.registered_at >= Attendance.checked_in_at))
        .outerjoin(signups, signups.c.event_id == FringeEvent.id)
        .outerjoin(Attendance, Attendance.fringe_event_id == FringeEvent.id)
        .outerjoin(Invitation, Invitation.id == Attendance.invitation_id)
        .outerjoin(Registration, Registration.invitation_id == Attendance.invitation_id)
        .group_by(FringeEvent.id, FringeEvent.title, FringeEvent.starts_at, FringeEvent.status, FringeEvent.capacity)
        .order_by(FringeEvent.starts_at, FringeEvent.id)
    ).all()
    return [FringeRow(id_, title, starts, status.value == "cancelled", capacity, *numbers)
            for id_, title, starts, status, capacity, *numbers in rows]


@dataclass(frozen=True)
class Bounce:
    id: int
    name: str
    email: str
    organisation: str
    bounced_at: datetime
    reason: str
    champion: str


def bounces(limit: int = 200) -> tuple[list[Bounce], int]:
    """Live invitations whose email bounced, newest first, and how many there are in all."""
    champion = aliased(User)
    rows = db.session.execute(
        select(Invitation.id, Invitation.name, Invitation.email, Invitation.organisation, Invitation.bounced_at,
               Invitation.bounce_reason, func.coalesce(champion.name, ""), func.count().over())
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .where(Invitation.bounced_at.is_not(None), LIVE)
        .order_by(Invitation.bounced_at.desc(), Invitation.id).limit(limit)
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
        summit=summit, states=states, funnel=funnel, days=registrations_per_day(now),
        organisations=breakdown(Invitation.organisation), sectors=breakdown(Invitation.sector),
        champions=champions(summit.target), fringe=fringe_attendance(), bounces=bounce_rows, bounce_total=bounce_total,
    )


# --- exports ---------------------------------------------------------------------------------

def _stamp(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def delegates_rows():
    champion = aliased(User)
    warmed = _warmed_up()
    rows = db.session.execute(
        select(Invitation.name, Invitation.email, Invitation.organisation, Invitation.job_title, Invitation.sector,
               func.coalesce(champion.name, ""), Registration.registered_at,
               case((warmed.c.invitation_id.is_not(None), literal("yes")), else_=literal("no")))
        .join(Registration, and_(Registration.invitation_id == Invitation.id,
                                 Registration.state == RegistrationState.CONFIRMED))
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .outerjoin(warmed, warmed.c.invitation_id == Invitation.id)
        .where(Invitation.state == S.REGISTERED)
        .order_by(Invitation.name, Invitation.id)
    )
    header = ["name", "email", "organisation", "job_title", "sector", "champion", "registered_at", "attended_a_fringe_event"]
    return header, ([n, e, o, j, s, c, _stamp(r), w] for n, e, o, j, s, c, r, w in rows)


def needs_rows():
    """For the caterer and the venue: names, organisations and needs; no contact details."""
    rows = db.session.execute(
        select(Invitation.name, Invitation.organisation, Registration.dietary, Registration.access_needs)
        .join(Registration, and_(Registration.invitation_id == Invitation.id,
                                 Registration.state == RegistrationState.CONFIRMED))
        .where(Invitation.state == S.REGISTERED, or_(Registration.dietary != "", Registration.access_needs != ""))
        .order_by(Invitation.name, Invitation.id)
    )
    return ["name", "organisation", "dietary", "access"], (list(row) for row in rows)


def attendance_rows():
    steward = aliased(User)
    rows = db.session.execute(
        select(Attendance.event_key, func.coalesce(FringeEvent.title, ""), Invitation.name, Invitation.organisation,
               Attendance.checked_in_at, Attendance.method, Attendance.walk_in, func.coalesce(steward.name, ""))
        .join(Invitation, Invitation.id == Attendance.invitation_id)
        .outerjoin(FringeEvent, FringeEvent.id == Attendance.fringe_event_id)
        .outerjoin(steward, steward.id == Attendance.checked_in_by_id)
        .order_by(FringeEvent.starts_at.is_(None), FringeEvent.starts_at, Attendance.event_key,
                  Invitation.name, Invitation.id)
    )
    header = ["event", "event_title", "name", "organisation", "checked_in_at", "method", "walk_in", "checked_in_by"]
    return header, ([key, title or ("The summit" if key == SUMMIT_EVENT_KEY else ""), name, org, _stamp(at),
                     method.value, "yes" if walk_in else "no", by]
                    for key, title, name, org, at, method, walk_in, by in rows)


NOTE_WORDS = {NoteKind.NOTE: "note", NoteKind.NUDGE: "nudged", NoteKind.DONT_CHASE: "don't chase",
              NoteKind.CHASE_AGAIN: "chase again"}


def follow_up_rows():
    """Per leader, each invitee: state, last contact, and the leader's notes (two queries)."""
    leader = aliased(User)
    invitees = db.session.execute(
        select(Invitation.id, leader.name, leader.email, Invitation.name, Invitation.email, Invitation.organisation,
               Invitation.state, Invitation.sent_at, Invitation.last_contact_at, Invitation.last_nudged_at,
               Invitation.dont_chase)
        .join(leader, leader.id == Invitation.champion_id)
        .where(LIVE)
        .order_by(leader.name, leader.id, Invitation.name, Invitation.id)
    ).all()
    notes: dict[int, list[str]] = defaultdict(list)
    for invitation_id, kind, text, at in db.session.execute(
        select(LeaderNote.invitation_id, LeaderNote.kind, LeaderNote.text, LeaderNote.at)
        .join(Invitation, Invitation.id == LeaderNote.invitation_id)
        .where(Invitation.champion_id.is_not(None), LIVE)
        .order_by(LeaderNote.at, LeaderNote.id)
    ):
        # A nudge's full message is in the outbox; the follow-up list only says it was sent.
        words = NOTE_WORDS[kind] if kind == NoteKind.NUDGE or not text else f"{NOTE_WORDS[kind]}: {text}"
        notes[invitation_id].append(f"{local(at):%Y-%m-%d} {words}")
    header = ["leader", "leader_email", "invitee", "invitee_email", "organisation", "state", "invited_at",
              "last_contact_at", "last_nudged_at", "dont_chase", "notes"]
    return header, ([ln, le, name, email, org, state.value, _stamp(sent), _stamp(contact), _stamp(nudged),
                     "yes" if dont else "no", " | ".join(notes.get(id_, []))]
                    for id_, ln, le, name, email, org, state, sent, contact, nudged, dont in invitees)
