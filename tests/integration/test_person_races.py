"""Invariant 1, one person at a time: every pair of actions that can touch one person, fired at the same
instant against gunicorn with several workers, on SQLite and PostgreSQL.

After each pair `summit check` must be clean, each email must have been written once, and no answer may
be a 5xx. A control run with the person lock removed (PERSON_LOCK=False, and on SQLite deferred
transactions) shows that the race is real: the same pairs then break.

RACE_TRIES (default 2) sets how many times each pair is fired on each start state.
"""

from __future__ import annotations

import http.client
import itertools
import os
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete, func, select, text, update

from app.core.auth.models import Role
from app.core.db import Base, db, utcnow
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from app.core.timefmt import input_value
from invitations import journey, links, waitlist
from invitations.models import Invitation, WaitlistEntry
from tests.support import PATIENCE_SECONDS, join_all
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.saved_rows import rows_of_every_table
from tests.support.servers import ServedApp

TRIES = int(os.environ.get("RACE_TRIES", "2"))
WORKERS = 4
# The organiser stays signed in from round to round; the dashboard's kept figures are the triggers' to keep (every
# row put back moves their generation on), not rows to save and put back.
KEEP = {"user", "api_token", "staff_session", "dashboard_cache"}
# The tables a round saves and puts back, parents first (sorting them anew each time was a millisecond a round).
TABLES = [table for table in Base.metadata.sorted_tables if table.name not in KEEP]


# --- talking to the server -------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str = ""
    error: str = ""


class Shot:
    """One request, connected before the barrier so that both go at the same instant."""

    def __init__(self, port: int, method: str, path: str, body: dict | None = None, cookie: str = ""):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=PATIENCE_SECONDS)
        self.method, self.path, self.cookie = method, path, cookie
        self.body = urlencode(body).encode() if body is not None else None

    def fire(self, barrier: threading.Barrier) -> Answer:
        try:
            self.connection.connect()
            barrier.wait(timeout=PATIENCE_SECONDS)
            headers = {"Cookie": self.cookie}
            if self.body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            self.connection.request(self.method, self.path, body=self.body, headers=headers)
            response = self.connection.getresponse()
            response.read()
            return Answer(response.status, response.getheader("Location") or "")
        except Exception as error:
            return Answer(0, error=f"{type(error).__name__}: {error}")
        finally:
            self.connection.close()


class WorkerStep:
    """The mail worker's scheduled step that expires lapsed offers (what expires them now that no page view does),
    run in this process against the same database, at the same instant as the other shot."""

    def __init__(self, app):
        self.app = app

    def fire(self, barrier: threading.Barrier) -> Answer:
        with self.app.app_context():
            try:
                barrier.wait(timeout=PATIENCE_SECONDS)
                waitlist.expire_offers()
                db.session.commit()
                return Answer(200)
            except Exception as error:
                db.session.rollback()
                return Answer(0, error=f"{type(error).__name__}: {error}")


def sign_in_cookie(port: int, email: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(
        "POST",
        "/sign-in",
        body=urlencode({"email": email, "password": f.PASSWORD}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 302, response.status
    cookie = response.getheader("Set-Cookie").split(";", 1)[0]
    connection.close()
    return cookie


# --- the people a pair acts on ---------------------------------------------------------------


@dataclass
class World:
    subject: Invitation
    token: str
    summit: Summit
    start: str
    people: list[int] = field(default_factory=list)


def reset() -> None:
    """Empty every table but KEEP, in the caller's transaction (it commits with what it puts in their place)."""
    if db.engine.dialect.name == "postgresql":
        # In one round trip to the server (a DO block runs its statements there) rather than one for each table:
        # that was most of putting a start state back.
        quoted = db.engine.dialect.identifier_preparer.format_table
        deletes = " ".join(f"DELETE FROM {quoted(table)};" for table in reversed(TABLES))
        db.session.execute(text(f"DO $$BEGIN {deletes} END$$"))
        return
    for table in reversed(TABLES):
        db.session.execute(delete(table))


# Rows of every table but KEEP, by table name, and the subject's id: one start state, as the services made it.
Saved = tuple[dict[str, list[dict]], int]


def build(start: str, saved: dict[str, Saved]) -> World:
    """A small summit (2 places) with the subject in the start state, and people around them so that a
    freed place has somewhere to go.

    The first round from each start state makes it through the services; later rounds put back the rows that
    made, which is the same world for a fraction of the time (making it was most of a round)."""
    if start in saved:
        restore(saved[start][0])
    else:
        saved[start] = make_world(start)
    db.session.expire_all()
    subject = db.session.get(Invitation, saved[start][1])
    assert subject is not None
    assert subject.state.value == {"invited_full": "invited", "offer_lapsed": "offered"}.get(start, start), start
    return World(subject, links.token_for(subject), db.session.scalars(select(Summit)).one(), start)


def restore(rows: dict[str, list[dict]]) -> None:
    """Put back saved rows with their own ids (sequences only move on, so no later insert takes one), in one
    transaction with the emptying."""
    reset()
    for table in TABLES:
        if rows.get(table.name):
            db.session.execute(table.insert(), rows[table.name])
    db.session.commit()


def make_world(start: str) -> Saved:
    """Make the start state through the services; return its rows and the subject's id."""
    reset()
    f.summit(capacity=2, offer_hold_hours=48)
    filler = f.registered(name="Filler One")
    subject = None
    if start in ("invited", "cancelled"):
        if start == "cancelled":
            subject = f.registered(name="Sam Subject")
            journey.cancel_registration(subject)
            db.session.commit()
    else:
        if start == "registered":
            subject = f.registered(name="Sam Subject")
        else:
            second = f.registered(name="Filler Two")
        if start in ("waitlisted", "offered", "offer_lapsed"):
            subject = f.invitation(name="Sam Subject")
            journey.join_waitlist(subject)
            db.session.commit()
        waiter = f.invitation(name="Wendy Waiting")  # the summit is full: the next in line
        journey.join_waitlist(waiter)
        db.session.commit()
        if start in ("offered", "offer_lapsed"):
            journey.cancel_registration(second)  # offered to the subject, first in line
            db.session.commit()
        if start == "offer_lapsed":
            db.session.execute(
                update(WaitlistEntry)
                .where(WaitlistEntry.invitation_id == subject.id)
                .values(offer_expires_at=utcnow() - timedelta(minutes=1))
            )
            db.session.commit()
    if subject is None:  # invited, invited_full
        subject = f.invitation(name="Sam Subject")
    db.session.execute(delete(OutboxMessage))  # count only what the pair writes
    db.session.commit()
    del filler
    return rows_of_every_table(skip=frozenset(KEEP)), subject.id


# --- the actions ------------------------------------------------------------------------------

REGISTER = {
    "name": "Sam Subject",
    "organisation": "Suffolk",
    "job_title": "Officer",
    "dietary": "",
    "access_needs": "",
    "consent": "y",
}
_colleagues = itertools.count(1)


def _summit_form(summit: Summit, capacity: int) -> dict:
    return {
        "name": summit.name,
        "tagline": summit.tagline,
        "venue": summit.venue,
        "address": summit.address,
        "starts_at": input_value(summit.starts_at),
        "ends_at": input_value(summit.ends_at),
        "registration_opens_at": "",
        "registration_closes_at": "",
        "capacity": capacity,
        "target": min(summit.target, capacity),
        "offer_hold_hours": summit.offer_hold_hours,
    }


def _capacity(w: World) -> tuple:
    # Where there is a free place, take it away (racing the person who wants it); else add one (offered on).
    capacity = w.summit.capacity - 1 if w.start in ("invited", "cancelled") else w.summit.capacity + 1
    return "POST", "/organiser/summit", _summit_form(w.summit, capacity), True


def _edit(w: World) -> tuple:
    return (
        "POST",
        f"/organiser/invitations/{w.subject.id}/edit",
        {
            "email": w.subject.email,
            "name": "Samantha Subject",
            "organisation": "East Suffolk Council",
            "job_title": "Director",
            "sector": "",
            "champion_id": "0",
        },
        True,
    )


@dataclass(frozen=True)
class Action:
    starts: tuple[str, ...]
    request: object  # World -> (method, path, form, as organiser), or WorkerStep: the mail worker's step
    repeats: frozenset = frozenset()  # email kinds this action rightly writes again when fired twice


ACTIONS = {
    "register": Action(("invited", "cancelled"), lambda w: ("POST", f"/i/{w.token}/register", REGISTER, False)),
    "decline": Action(("invited", "offered"), lambda w: ("POST", f"/i/{w.token}/decline", {"reason": "Away"}, False)),
    "join_waitlist": Action(("invited_full",), lambda w: ("POST", f"/i/{w.token}/waiting-list", {}, False)),
    "leave_waitlist": Action(("waitlisted",), lambda w: ("POST", f"/i/{w.token}/decline", {"reason": ""}, False)),
    "accept_offer": Action(("offered", "offer_lapsed"), lambda w: ("POST", f"/i/{w.token}/register", REGISTER, False)),
    "cancel": Action(("registered",), lambda w: ("POST", f"/i/{w.token}/cancel", {}, False)),
    "colleague": Action(
        ("registered", "offered", "invited"),
        lambda w: (
            "POST",
            f"/i/{w.token}/colleague",
            {
                "name": "Cole League",
                "email": f"colleague{next(_colleagues)}@example.org",
                "organisation": "Suffolk",
                "job_title": "",
            },
            False,
        ),
    ),
    "erase": Action(("registered", "offered"), lambda w: ("POST", f"/i/{w.token}/erase", {}, False)),
    "edit": Action(("registered",), _edit),
    "revoke": Action(
        ("registered", "offered"),
        lambda w: ("POST", f"/organiser/invitations/{w.subject.id}/revoke", {"confirm": "yes"}, True),
    ),
    "capacity": Action(("invited", "waitlisted", "offered"), _capacity),
    "resend": Action(
        ("invited",),
        lambda w: ("POST", f"/organiser/invitations/{w.subject.id}/send", {}, True),
        repeats=frozenset({"invitation"}),
    ),
    "expiry": Action(("offer_lapsed",), lambda w: WorkerStep),
}
PAIRS = list(itertools.combinations_with_replacement(sorted(ACTIONS), 2))


def starts_for(a: str, b: str) -> list[str]:
    both = [s for s in ACTIONS[a].starts if s in ACTIONS[b].starts]
    return both or list(dict.fromkeys([ACTIONS[a].starts[0], ACTIONS[b].starts[0]]))


# --- one round --------------------------------------------------------------------------------


def run_pair(app, server: ServedApp, cookie: str, a: str, b: str, start: str, saved: dict[str, Saved]) -> list[str]:
    """Fire a and b at once on a person in `start`; return what broke (empty when nothing did)."""
    with app.app_context():
        world = build(start, saved)
        shots: list[Shot | WorkerStep] = []
        for name in (a, b):
            request = ACTIONS[name].request(world)
            if request is WorkerStep:
                shots.append(WorkerStep(app))
                continue
            method, path, form, organiser = request
            shots.append(Shot(server.port, method, path, form, cookie if organiser else ""))
    barrier = threading.Barrier(2)
    answers: list[Answer] = [None, None]  # type: ignore[list-item]
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(i, shots[i].fire(barrier))) for i in range(2)]
    for thread in threads:
        thread.start()
    join_all(threads)
    broke = [
        f"{name} answered {answer.status} {answer.error}"
        for name, answer in zip((a, b), answers)
        if answer.status == 0 or answer.status >= 500
    ]
    check = app.test_cli_runner().invoke(args=["summit", "check"])
    if check.exit_code != 0:
        broke.append("summit check: " + " | ".join(check.output.strip().splitlines()[2:]))
    with app.app_context():
        repeats = ACTIONS[a].repeats if a == b else frozenset()
        doubled = db.session.execute(
            select(OutboxMessage.invitation_id, OutboxMessage.kind, func.count())
            .group_by(OutboxMessage.invitation_id, OutboxMessage.kind)
            .having(func.count() > 1)
        ).all()
        broke += [f"email {kind} written {n} times" for _id, kind, n in doubled if kind not in repeats]
        db.session.rollback()
    return broke


def run_matrix(kind: str, tmp_path, pairs, tries: int, **settings) -> tuple[int, int, list[str]]:
    app = make_app(kind, tmp_path, **settings)
    with app.app_context():
        organiser = f.user(Role.ORGANISER, email="olive.organiser@example.org")
        url = app.config["DATABASE_URL"]
        db.engine.dispose()
    served = {"DATABASE_URL": url, **settings}
    rounds, broken, examples = 0, 0, []
    saved: dict[str, Saved] = {}
    with ServedApp(served, workers=WORKERS, log_dir=tmp_path) as server:
        cookie = sign_in_cookie(server.port, organiser.email)
        for a, b in pairs:
            for start in starts_for(a, b):
                for _ in range(tries):
                    rounds += 1
                    broke = run_pair(app, server, cookie, a, b, start, saved)
                    if broke:
                        broken += 1
                        examples.append(f"{a} + {b} from {start}: {'; '.join(broke)}")
    with app.app_context():
        db.engine.dispose()
    return rounds, broken, examples


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_every_pair_of_actions_on_one_person_keeps_every_count(kind, tmp_path):
    rounds, broken, examples = run_matrix(kind, tmp_path, PAIRS, TRIES)
    print(f"\n[{kind}] {len(PAIRS)} pairs, {rounds} rounds, {broken} broken")
    assert examples == []
    assert rounds >= len(PAIRS) * TRIES


# The pairs that broke on PostgreSQL before the person lock (and a few more).
CONTROL_PAIRS = [
    ("cancel", "cancel"),
    ("cancel", "colleague"),
    ("cancel", "erase"),
    ("colleague", "register"),
    ("erase", "register"),
    ("register", "register"),
    ("accept_offer", "expiry"),
    ("decline", "revoke"),
]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_control_without_the_person_lock_the_race_is_real(kind, tmp_path):
    # On SQLite BEGIN IMMEDIATE serialises every write transaction, so the control takes it away too.
    rounds, broken, examples = run_matrix(kind, tmp_path, CONTROL_PAIRS, 3, PERSON_LOCK=False, SQLITE_BEGIN="DEFERRED")
    print(f"\n[{kind}] control: {len(CONTROL_PAIRS)} pairs, {rounds} rounds, {broken} broken")
    for example in examples[:12]:
        print("  ", example[:300])
    assert broken > 0
