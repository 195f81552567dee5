"""A busy summit: the one builder for every test that needs a summit in full swing.

A full summit (4 places) with someone in every state (registered, offered a freed place, waitlisted, invited,
opened, declined, bounced (chased or not), handed on, cancelled, revoked), a leader who champions most of them (a nudge, a note,
a "don't chase", and the leader invited too), registration questions of every kind (one option full, one question
hidden), fringe events in every state (upcoming and online, full, past with an attendance, cancelled), scans at the
summit's door, emails in the outbox (one old enough for a reminder, a reminder scheduled), a mobile number for
texts, a leader's emailed sign-in link, a team invitation not yet accepted, a password reset, a deactivated steward
and an API token for each member of staff. Each person's link, and each id a page's address names, is kept.

The accessibility walk serves it (every page state), the route x role test tries every route against it, the
browser tests of the dashboards drive it, and the email wording tests write their emails for its people. A process
makes it through the services once for each kind of database (and secret key); later calls on an empty database
put its rows back (tests/support/saved_rows.py), which is the same summit for a small part of the time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from app.badges import rules as badge_rules
from app.checkin import scans
from app.core.auth import accounts, credentials, invites, staff_links
from app.core.auth.models import Role, SignInLink, StaffLinkPurpose, User
from app.core.db import db, utcnow
from app.core.mail.models import OutboxMessage
from app.core.security import calendar_feed_token, hash_sign_in_token, new_link_selector, sign_in_token, text_stop_token
from fringe_events import programme, signups
from fringe_events.attendance import record_attendance, resolve_event
from fringe_events.models import FringeEvent
from invitations import audiences, chasing, handing_on, journey, links, mailing, questions, scheduled_sends, texting
from invitations import people as invitation_people
from invitations.models import Invitation, ScheduledKind
from invitations.question_models import Question, QuestionKind
from tests.support import factories as f
from tests.support import question_factories as qf
from tests.support.fringe_factories import TEAMS
from tests.support.saved_rows import Rows, every_table_empty, put_back, rows_of_every_table

# The staff every seeded summit has: key -> (email, name, role).
STAFF = {
    "organiser": ("olive.organiser@staff.example.org", "Olive Organiser", Role.ORGANISER),
    "steward": ("sam.steward@staff.example.org", "Sam Steward", Role.STEWARD),
    "leader": ("lena.leader@staff.example.org", "Lena Leader", Role.LEADER),
}
CAPACITY = 4
# The first registration question's options: (label, places); the first fills with one person.
WORKSHOPS = [("Health and care", 1), ("Growth and skills", 90), ("Net zero", 90), ("Communities", 90)]


@dataclass
class BusySummit:
    """What the builder made. Models are as they were when it finished (the session may since have closed): read
    their ids and the values below rather than lazy relationships."""

    staff: dict[
        str, User
    ]  # organiser, steward, leader, the deactivated steward ("departed") and a leader invited ("invited")
    people: dict[str, Invitation]  # by first name's key: ada, bob, cara, dan, waiting, will, ivy, dora, kit, nell…
    events: dict[str, FringeEvent]  # upcoming, full, past, cancelled
    questions: dict[str, Question]  # workshops, team, hidden
    tokens: dict[str, str]  # each person's link token by their key; text_stop, feed, sign_in_link, join, reset
    api_tokens: dict[str, str]  # an API token for each member of staff by role
    message_id: int  # an email in the outbox (Ada's invitation)
    scheduled_id: int  # a reminder scheduled for next week

    @property
    def ids(self) -> dict[str, int]:
        """The ids the pages' addresses name, by what they are."""
        return {
            "invitation": self.people["ada"].id,
            "leader": self.staff["leader"].id,
            "invitee": self.people["ivy"].id,
            "nudgeable": self.people["nell"].id,
            "message": self.message_id,
            "event": self.events["upcoming"].id,
            "past_event": self.events["past"].id,
            "cancelled_event": self.events["cancelled"].id,
            "steward": self.staff["steward"].id,
            "departed": self.staff["departed"].id,
            "invited": self.staff["invited"].id,
            "question": self.questions["workshops"].id,
            "scheduled": self.scheduled_id,
        }

    @property
    def slugs(self) -> dict[str, str]:
        return {key: event.slug for key, event in self.events.items()}


def make_staff() -> dict[str, User]:
    """The organiser, the steward and the leader (every seeded database has them)."""
    return {key: f.user(role, email=email, name=name) for key, (email, name, role) in STAFF.items()}


def make_event(title: str, *, days: float, capacity: int | None = None, actor=None, joining_link: str = ""):
    """A fringe event `days` from now (before, when negative), two hours long, as an organiser creates it."""
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(days=days)
    event = programme.create_event(
        programme.EventData(
            title=title,
            venue="Endeavour House",
            address="8 Russell Road, Ipswich IP1 2BX",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=capacity,
            description="What we'll do, and why it matters.",
            theme="Digital inclusion",
            host_organisation="Suffolk County Council",
            host_lead="Julian Herbert",
            joining_link=joining_link,
        ),
        actor=actor,
    )
    db.session.commit()
    return event


@dataclass
class _Saved:
    """A busy summit as rows, with what names its models and the links made for it."""

    rows: Rows
    staff: dict[str, int]
    people: dict[str, int]
    events: dict[str, int]
    questions: dict[str, int]
    tokens: dict[str, str]
    api_tokens: dict[str, str]
    message_id: int
    scheduled_id: int


_saved: dict[tuple[str, str], _Saved] = {}  # (database kind, secret key) -> the summit this process made


def busy_summit() -> BusySummit:
    """A full summit with someone in every state, fringe events in every state, scans, emails and notes."""
    key = (db.engine.dialect.name, current_app.config["SECRET_KEY"])
    if key in _saved and every_table_empty():
        saved = _saved[key]
        put_back(saved.rows)
        return BusySummit(
            staff=_loaded(User, saved.staff),
            people=_loaded(Invitation, saved.people),
            events=_loaded(FringeEvent, saved.events),
            questions=_loaded(Question, saved.questions),
            tokens=dict(saved.tokens),
            api_tokens=dict(saved.api_tokens),
            message_id=saved.message_id,
            scheduled_id=saved.scheduled_id,
        )
    made = _make()
    _saved[key] = _Saved(
        rows=rows_of_every_table(),
        staff={name: user.id for name, user in made.staff.items()},
        people={name: person.id for name, person in made.people.items()},
        events={name: event.id for name, event in made.events.items()},
        questions={name: question.id for name, question in made.questions.items()},
        tokens=dict(made.tokens),
        api_tokens=dict(made.api_tokens),
        message_id=made.message_id,
        scheduled_id=made.scheduled_id,
    )
    return made


def _loaded(model, ids: dict[str, int]) -> dict:
    """The rows put back as models in this session, one statement for each kind, by the names they were made under."""
    by_id = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids.values())))}
    return {name: by_id[id_] for name, id_ in ids.items()}


def _make() -> BusySummit:
    """The busy summit made through the services, as an organiser, delegates, a leader and a steward would."""
    now = utcnow()
    f.summit(capacity=CAPACITY, target=CAPACITY)
    staff = make_staff()
    organiser, steward, leader = staff["organiser"], staff["steward"], staff["leader"]
    # Registration questions of every kind; the first workshop fills up (one place), so it shows as full.
    workshops = qf.question(
        "Which theme's workshop would you like to join?",
        QuestionKind.ONE_CHOICE,
        required=True,
        help_text="Each workshop has limited places.",
        options=WORKSHOPS,
    )
    team = qf.question("Your team", QuestionKind.SHORT_TEXT, required=True)
    qf.question("What do you hope to take away?", QuestionKind.LONG_TEXT, help_text="A sentence or two.")
    qf.question("Staying for lunch?", QuestionKind.YES_NO)
    qf.question("Topics you'd like covered", QuestionKind.MANY_CHOICES, options=["Data", "Housing", "Travel"])
    qf.question("An old question", QuestionKind.SHORT_TEXT)
    people: dict[str, Invitation] = {}
    for key, name in (("ada", "Ada Lovelace"), ("bob", "Bob Babbage"), ("cara", "Cara Carter"), ("dan", "Dan Dale")):
        people[key] = f.invitation(name=name, email=f"{key}@example.org", champion=leader)
        mailing.send_invitation(people[key], now=now - timedelta(days=9))
        chosen = workshops.options[0 if key == "ada" else 2].id
        journey.register(
            people[key],
            f.details(
                name=name,
                dietary="Vegetarian",
                access_needs="Step-free access, please",
                answers={workshops.id: [chosen], team.id: "Policy"},
            ),
        )
        db.session.commit()
    hidden = db.session.scalars(select(Question).where(Question.label == "An old question")).one()
    questions.set_hidden(hidden, True, actor=organiser)
    db.session.commit()
    for key, name in (
        ("waiting", "Wendy Waite"),
        ("will", "Will Waite"),
        ("ivy", "Ivy Invited"),
        ("dora", "Dora Decliner"),
        ("kit", "Kit Quiet"),
        ("nell", "Nell Newton"),
        ("bea", "Bea Bounced"),
    ):
        people[key] = f.invitation(name=name, email=f"{key}@example.org", champion=leader)
        mailing.send_invitation(people[key], now=now - timedelta(days=8))
    # The leader is invited too, and champions themself (their page marks them "You"); they have opened it.
    people["lena"] = f.invitation(name="Lena Leader", email=STAFF["leader"][0], champion=leader)
    mailing.send_invitation(people["lena"], now=now - timedelta(days=10))
    people["lena"].opened_at = now - timedelta(days=9)
    db.session.commit()
    journey.join_waitlist(people["waiting"])
    journey.join_waitlist(people["will"])
    journey.decline(people["dora"], "Chairing a council meeting that day.")
    db.session.commit()
    journey.cancel_registration(people["dan"])  # Wendy, first in the queue, is offered the place
    db.session.commit()
    people["colleague"] = handing_on.hand_on(
        people["cara"], handing_on.Colleague(name="Cy Colleague", email="cy@example.org", organisation="Babergh DC")
    )
    db.session.commit()
    people["ivy"].opened_at = now - timedelta(days=3)
    for key in ("kit", "bea"):  # two wrong addresses: Kit isn't chased, Bea is (so hers leads the leader's list)
        people[key].bounced_at, people[key].bounce_reason = now - timedelta(days=5), "550 mailbox unavailable"
    people["revoked"] = f.invitation(name="Rex Revoked", email="rex@example.org")
    invitation_people.revoke_invitation(people["revoked"], actor=organiser)
    chasing.nudge(people["ivy"], leader, chasing.default_nudge_message(people["ivy"], leader))
    chasing.add_note(people["will"], leader, "Phoned: will register if a place comes up.")
    chasing.set_dont_chase(people["kit"], leader, True, "On leave until after the summit.")
    db.session.commit()

    events = {
        "upcoming": make_event("Digital by default", days=10, capacity=30, actor=organiser, joining_link=TEAMS),
        "full": make_event("Small-room workshop", days=12, capacity=1, actor=organiser),
        "past": make_event("Data for good", days=-4, actor=organiser),
        "cancelled": make_event("Cancelled clinic", days=20, actor=organiser),
    }
    past = events["past"]
    signups.sign_up(people["ada"], events["upcoming"])
    signups.sign_up(people["bob"], events["full"])
    before = past.starts_at - timedelta(days=3)
    signups.sign_up(people["ada"], past, now=before)
    signups.sign_up(people["bob"], past, now=before)
    db.session.commit()
    record_attendance(people["ada"], resolve_event(past.slug), by=steward, now=past.starts_at + timedelta(minutes=5))
    programme.cancel_event(events["cancelled"], reason="The room is no longer available.", actor=organiser)
    db.session.commit()
    for minutes, code in (
        (50, people["ada"].code),
        (35, people["bob"].code),
        (20, "NH1-NOTACODE"),
        (5, people["ivy"].code),
    ):
        scans.check_in(
            steward, scans.Scan(code=code, event="summit", confirmed=True), now=now - timedelta(minutes=minutes)
        )
    db.session.commit()
    badge_rules.record_reprint(people["ada"], via="invitation", actor=organiser)  # shown on her page
    db.session.commit()
    message = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == people["ada"].id).order_by(OutboxMessage.id)
    ).first()
    assert message is not None
    # Nell's invitation went long enough ago for a reminder; one reminder is scheduled for next week.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.invitation_id == people["nell"].id)
        .values(created_at=now - timedelta(days=8))
    )
    scheduled = scheduled_sends.schedule(
        ScheduledKind.REMINDER, audiences.Audience(state="not_answered"), now + timedelta(days=7), actor=organiser
    )
    texting.set_mobile(people["ada"], "07400 123456")  # her page shows texts on the day; a text's stop link
    db.session.commit()
    tokens = {key: links.token_for(inv) for key, inv in people.items()}
    tokens["text_stop"] = text_stop_token(people["ada"].text_stop_selector or "")
    tokens["feed"] = calendar_feed_token(people["ada"].link_selector)
    # A leader's emailed sign-in link (opening it spends nothing), and a deactivated steward on the Team page.
    tokens["sign_in_link"] = sign_in_token(new_link_selector())
    db.session.add(
        SignInLink(
            user_id=leader.id,
            token_hash=hash_sign_in_token(tokens["sign_in_link"]),
            expires_at=now + timedelta(days=365),
        )
    )
    staff["departed"] = f.user(Role.STEWARD, email="dee.departed@staff.example.org", name="Dee Departed")
    accounts.set_active(staff["departed"], active=False, actor=organiser)
    # A leader invited to the team who hasn't accepted yet (their link's form), and a steward's password reset.
    invites.invite("ian.invited@council.example.org", name="Ian Invited", role=Role.LEADER, actor=organiser)
    staff["invited"] = credentials.find_user("ian.invited@council.example.org")
    tokens["join"] = staff_links.issue(staff["invited"], StaffLinkPurpose.INVITATION)
    tokens["reset"] = staff_links.issue(steward, StaffLinkPurpose.PASSWORD_RESET)
    db.session.commit()
    api_tokens = {role: credentials.issue_api_token(staff[role]) for role in STAFF}
    db.session.commit()
    return BusySummit(
        staff=staff,
        people=people,
        events=events,
        questions={"workshops": workshops, "team": team, "hidden": hidden},
        tokens=tokens,
        api_tokens=api_tokens,
        message_id=message.id,
        scheduled_id=scheduled.id,
    )
