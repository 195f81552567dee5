"""The demo's fringe programme: twelve warm-up events drawn from the report's enquiries and themes, with
sign-ups, and attendance at the ones already held (idempotent: events are keyed by slug)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update

from app.core.auth.models import Role, User
from app.core.db import db, utcnow
from app.core.summit import settings as summit_settings
from app.core.timefmt import LONDON
from fringe_events.models import Attendance, CheckinMethod, FringeEvent, FringeSignup, FringeStatus, SignupState
from invitations.models import LIVE_STATES, Invitation, InvitationState


@dataclass(frozen=True)
class DemoEvent:
    slug: str
    title: str
    theme: str
    host_organisation: str
    host_lead: str
    venue: str
    address: str
    starts: time
    ends: time
    description: str
    capacity: int | None = None


EVENTS: tuple[DemoEvent, ...] = (
    DemoEvent(
        "social-marketing",
        "Social marketing: changing what people do, not just what they hear",
        "Social marketing enquiry",
        "Suffolk PCT",
        "Julian Herbert, Director of Finance & Performance",
        "Endeavour House",
        "8 Russell Road, Ipswich IP1 2BX",
        time(9, 30),
        time(12, 0),
        "The health service's social marketing enquiry has tested campaigns built from what people actually do. "
        "Bring one service you'd like more people to use; leave with a plan for a small test you could run next month.",
    ),
    DemoEvent(
        "high-demand-families",
        "High demand families: one family, many agencies",
        "High demand families enquiry",
        "Suffolk Constabulary",
        "Simon Ash, Chief Constable",
        "Suffolk Constabulary Headquarters",
        "Portal Avenue, Martlesham Heath, Ipswich IP5 3QS",
        time(14, 0),
        time(16, 30),
        "We follow one (anonymised) family's year through every agency that touched it, add up what it cost, "
        "and ask what a single, joined-up response would have looked like. Places are limited to keep the room small.",
        capacity=30,
    ),
    DemoEvent(
        "slic-open-studio",
        "SLIC open studio: the Suffolk Laboratory for Innovation and Collaboration",
        "SLIC",
        "Mid Suffolk District Council",
        "Andrew Good and Pat Rockall",
        "Mid Suffolk District Council offices",
        "131 High Street, Needham Market IP6 8DL",
        time(10, 0),
        time(15, 0),
        "Drop into the shared space where partners work on cross-cutting problems. Bring a problem your "
        "organisation can't solve alone and try the lab's tools on it with people from other sectors.",
        capacity=20,
    ),
    DemoEvent(
        "intergenerational-support",
        "Intergenerational support: young and old learning together",
        "Intergenerational support enquiry",
        "St Edmundsbury District Council",
        "Mike Dawson and Richard Lister",
        "The Apex",
        "Charter Square, Bury St Edmunds IP33 3FD",
        time(18, 0),
        time(20, 0),
        "Stories from schools, care homes and youth clubs that brought the generations together, and a "
        "workshop on where one more connection could make the biggest difference in your area.",
    ),
    DemoEvent(
        "bme-groups-through-recession",
        "Helping BME groups through the recession",
        "Thriving through recession",
        "Ipswich Borough Council",
        "James Hehir, Chief Executive",
        "Ipswich Town Hall",
        "Cornhill, Ipswich IP1 1DH",
        time(12, 30),
        time(14, 30),
        "With ISCRE and community leaders: what the downturn is doing to black and minority ethnic businesses "
        "and families in Suffolk, and which practical steps partners can take together. Lunch provided.",
    ),
    DemoEvent(
        "suffolk-role-models",
        "Suffolk role models: raising aspiration",
        "Demonstrating Suffolk's aspiration",
        "Learning and Skills Council (Suffolk)",
        "Judith Mobbs, Area Director",
        "West Suffolk College",
        "Out Risbygate, Bury St Edmunds IP33 3RL",
        time(9, 30),
        time(12, 30),
        "Young people and the Suffolk people who inspired them, in conversation. We then map where role models "
        "are missing and how our organisations could lend theirs.",
    ),
    DemoEvent(
        "democracy-engagement",
        "Engaging communities in democracy",
        "Engaging communities in democracy enquiry",
        "Mid Suffolk District Council",
        "Andrew Good, Chief Executive",
        "Museum of East Anglian Life",
        "Iliffe Way, Stowmarket IP14 1DL",
        time(18, 30),
        time(20, 30),
        "Why do so few people take part in local decisions, and what happens when they do? Parish councillors, "
        "young voters and officers compare what has worked, from street meetings to participatory budgets.",
    ),
    DemoEvent(
        "gypsy-and-traveller-communities",
        "Gypsy and Traveller communities: listening first",
        "Gypsy and Traveller enquiry",
        "St Edmundsbury District Council",
        "Geoff Rivers, Chief Executive",
        "West Suffolk House",
        "Western Way, Bury St Edmunds IP33 3YU",
        time(10, 0),
        time(12, 30),
        "Members of Suffolk's Gypsy and Traveller communities lead this session on sites, schooling and health, "
        "and on how services can ask before they act.",
        capacity=25,
    ),
    DemoEvent(
        "suffolk-apprenticeships",
        "Suffolk Apprenticeships: opening doors for young people",
        "Help people to help themselves",
        "Suffolk New College",
        "Pat Rockall and Judith Mobbs",
        "Suffolk New College",
        "Rope Walk, Ipswich IP4 1LT",
        time(14, 0),
        time(16, 0),
        "Employers, apprentices and colleges on what it takes to create a hundred more apprenticeships in the "
        "public sector, with the Counting Suffolk figures on what young people not in work or training cost us all.",
    ),
    DemoEvent(
        "green-social-enterprises",
        "Ten green social enterprises",
        "Social enterprise enquiry",
        "BT Adastral Park",
        "Andrew Bacon",
        "OrbisEnergy",
        "Wilde Street, Lowestoft NR32 1XH",
        time(10, 0),
        time(13, 0),
        "Meet the founders of ten Suffolk social enterprises working on energy, food and waste, and help pick "
        "which could grow with public-sector contracts.",
    ),
    DemoEvent(
        "counting-suffolk-deep-dives",
        "Counting Suffolk: Total Place deep dives",
        "Counting Suffolk",
        "Suffolk County Council",
        "Andrea Hill, Chief Executive",
        "University Campus Suffolk, Waterfront Building",
        "Neptune Quay, Ipswich IP4 1QJ",
        time(9, 30),
        time(13, 0),
        "What every public pound in Suffolk is spent on, and three deep dives: drugs and alcohol misuse among "
        "young people, young people not in work or training, and the duplicated support around high demand families.",
        capacity=40,
    ),
    DemoEvent(
        "connecting-communities",
        "Connecting communities: working better with localities",
        "Connect communities",
        "Forest Heath District Council",
        "David Burnip, Chief Executive",
        "Forest Heath District Council offices",
        "College Heath Road, Mildenhall IP28 7EY",
        time(13, 30),
        time(16, 0),
        "Multi-agency locality teams from across the county compare notes on anti-social behaviour, shared "
        "front desks and neighbourhood budgets: what to copy, and what to avoid.",
    ),
)

# Four events already held (with attendance), two soon, and six in the last weeks before the summit.
_PAST_DAYS = (-44, -30, -17, -5)
_SOON_DAYS = (9, 23)
_FINAL_WEEKS = (9, 7, 5, 3, 2, 1)


def _weekday(day, step: int):
    while day.weekday() >= 5:
        day += timedelta(days=step)
    return day


def demo_dates(now: datetime, summit_starts: datetime) -> list:
    """A date (London) for each of the twelve events, all before the summit and none at a weekend."""
    today = now.astimezone(LONDON).date()
    summit_day = summit_starts.astimezone(LONDON).date()
    past = [_weekday(today + timedelta(days=d), -1) for d in _PAST_DAYS]
    window = (summit_day - today).days
    if window >= 10 * 7 + 30:
        future = [today + timedelta(days=d) for d in _SOON_DAYS]
        future += [summit_day - timedelta(weeks=w) for w in _FINAL_WEEKS]
    else:  # the summit is close: spread the rest evenly over what is left
        step = max(window - 2, 8) / 9
        future = [today + timedelta(days=round(step * (i + 1))) for i in range(8)]
    future = [_weekday(d, 1) if _weekday(d, 1) < summit_day else _weekday(d, -1) for d in future]
    return past + future


def _at(day, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=LONDON).astimezone(UTC)


def load_fringe_demo(seed: int = 2009, now: datetime | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    now = now or utcnow()
    summit = summit_settings.get_summit()
    known = set(db.session.scalars(select(FringeEvent.slug)))
    people = list(
        db.session.scalars(select(Invitation).where(Invitation.state.in_(LIVE_STATES)).order_by(Invitation.id))
    )
    registered = [p for p in people if p.state == InvitationState.REGISTERED]
    staff = list(
        db.session.scalars(select(User).where(User.role.in_([Role.STEWARD, Role.ORGANISER])).order_by(User.id))
    )
    created = signups = attended = 0
    for spec, day in zip(EVENTS, demo_dates(now, summit.starts_at)):
        if spec.slug in known:
            continue
        event = FringeEvent(
            slug=spec.slug,
            title=spec.title,
            description=spec.description,
            theme=spec.theme,
            host_organisation=spec.host_organisation,
            host_lead=spec.host_lead,
            venue=spec.venue,
            address=spec.address,
            starts_at=_at(day, spec.starts),
            ends_at=_at(day, spec.ends),
            capacity=spec.capacity,
            places_taken=0,
            status=FringeStatus.SCHEDULED,
            ics_sequence=0,
            created_at=now - timedelta(days=60),
        )
        db.session.add(event)
        db.session.flush()
        created += 1
        if not people:
            continue
        # Registered delegates are the keenest; one small event is full, to show what that looks like.
        capacity = spec.capacity or 60
        wanted = capacity if spec.slug == "high-demand-families" else min(capacity, rng.randint(12, 38))
        pool = rng.sample(registered, min(len(registered), wanted * 2 // 3)) if registered else []
        pool += rng.sample(people, min(len(people), wanted))
        chosen = list(dict.fromkeys(pool))[:wanted]
        past = event.starts_at <= now
        for person in chosen:
            signed_at = min(event.starts_at, now) - timedelta(days=rng.randint(2, 30), hours=rng.randint(0, 12))
            db.session.add(
                FringeSignup(
                    invitation_id=person.id, fringe_event_id=event.id, state=SignupState.CONFIRMED, created_at=signed_at
                )
            )
            signups += 1
            if past and rng.random() < 0.78:
                db.session.add(_attendance(event, person, rng, staff, walk_in=False))
                attended += 1
        if past:
            for person in rng.sample([p for p in people if p not in chosen], min(3, len(people) - len(chosen))):
                db.session.add(_attendance(event, person, rng, staff, walk_in=True))
                attended += 1
        db.session.flush()
    # The counters must match what the rows say: recount rather than trust increments.
    confirmed = (
        select(func.count())
        .select_from(FringeSignup)
        .where(FringeSignup.fringe_event_id == FringeEvent.id, FringeSignup.state == SignupState.CONFIRMED)
        .scalar_subquery()
    )
    db.session.execute(update(FringeEvent).values(places_taken=confirmed))
    db.session.expire_all()
    return {"fringe_events_created": created, "fringe_signups_added": signups, "fringe_attendance_added": attended}


def _attendance(
    event: FringeEvent, person: Invitation, rng: random.Random, staff: list[User], *, walk_in: bool
) -> Attendance:
    return Attendance(
        invitation_id=person.id,
        event_key=event.event_key,
        fringe_event_id=event.id,
        checked_in_at=event.starts_at + timedelta(minutes=rng.randint(-15, 25)),
        checked_in_by_id=rng.choice(staff).id if staff else None,
        method=CheckinMethod.MANUAL if walk_in else rng.choice([CheckinMethod.CAMERA, CheckinMethod.LIST]),
        walk_in=walk_in,
    )
