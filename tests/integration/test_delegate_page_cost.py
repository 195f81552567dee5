"""What a delegate's page and their registration cost (issue: near the floor): statements per request, and no write
on a page once it has been opened (an offer that ran out: tests/integration/test_offer_expiry.py).

The counts are asserted so they can't creep back; the figures they buy are in bench/RESULTS.md."""

from __future__ import annotations

import pytest

from app.core.db import db
from invitations import handing_on, journey
from invitations.models import InvitationState
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.factories import fresh, link
from tests.support.statements import plan_text, query_plans, statements, view, writes

S = InvitationState
FRAMING = {"BEGIN", "BEGIN IMMEDIATE", "BEGIN DEFERRED", "COMMIT", "ROLLBACK"}


def work(seen: list[str]) -> list[str]:
    """The statements that do work (BEGIN, COMMIT and ROLLBACK left out), each by its first words."""
    return [" ".join(s.split()[:3]) for s in seen if s not in FRAMING]


def opened_at(invitation):
    return fresh(invitation).opened_at


@both_databases
def test_a_registered_persons_page_is_four_statements_and_no_write_once_opened(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    talks = [ff.event(f"Talk {n}") for n in range(4)]
    for talk in talks[:2]:
        ff.signed_up(ada, talk)

    _, first = view(client, link(ada))
    assert len([s for s in first if s.startswith("UPDATE invitation SET opened_at")]) == 1  # the first opening
    first_opened = opened_at(ada)
    assert first_opened is not None

    html, seen = view(client, link(ada))

    # The person with their registration and waiting-list entry; the summit; the programme with their sign-ups
    # and attendance; their answers to the questions (in "Your details"). Nothing else: no template asks the
    # database, and nothing is written or committed.
    assert work(seen) == [
        "SELECT invitation.id, invitation.email,",
        "SELECT summit.id, summit.name,",
        "SELECT fringe_event.id, fringe_event.slug,",
        "SELECT question.id, question.label,",
    ]
    assert len(work(seen)) <= 6
    assert writes(seen) == [] and "COMMIT" not in seen
    assert opened_at(ada) == first_opened
    # What the page shows, from those reads: their events, the others, the calendar's add links, the badge.
    assert "You're registered" in html and "You're signed up for" in html
    assert "Talk 0" in html and "Talk 1" in html and "Talk 2" in html
    assert html.count("Google Calendar<span") == 3  # the summit and their two events
    assert "Your badge" in html


@both_databases
def test_an_invited_persons_page_is_three_statements_and_no_write_once_opened(app, client):
    f.summit()
    ivy = f.invitation(name="Ivy Invited")
    talk = ff.event("Warm-up talk")
    ff.signed_up(ivy, talk)
    view(client, link(ivy))

    html, seen = view(client, link(ivy))

    assert work(seen) == [
        "SELECT invitation.id, invitation.email,",
        "SELECT summit.id, summit.name,",
        "SELECT fringe_event.id, fringe_event.slug,",
    ]
    assert writes(seen) == [] and "COMMIT" not in seen
    assert "Register for my place" in html and "Warm-up talk" in html and "Add to your calendar" in html


@both_databases
def test_a_waiting_persons_page_adds_only_their_place_in_the_queue(app, client):
    f.summit(capacity=1)
    f.registered()
    wes = f.invitation(name="Wes Waiting")
    journey.join_waitlist(wes)
    db.session.commit()
    view(client, link(wes))

    html, seen = view(client, link(wes))

    assert len(work(seen)) == 4 and work(seen)[-1].startswith("SELECT count(*)")
    assert writes(seen) == [] and "COMMIT" not in seen
    assert "number 1" in html


REGISTRATION_FORM = {
    "name": "Ada Lovelace",
    "organisation": "Analytical Engines Ltd",
    "job_title": "Head of Computing",
    "dietary": "Vegan",
    "access_needs": "",
    "consent": "y",
}


@both_databases
def test_a_registration_is_eight_statements_at_most(app, client):
    f.summit()
    f.registered()  # the summit and its first registration exist
    ada = f.invitation(name="Ada")
    client.get(link(ada))

    with statements() as seen:
        response = client.post(link(ada, "register"), data=REGISTRATION_FORM)

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert fresh(ada).state == S.REGISTERED
    # The link; the person under their lock with their registration and waiting-list entry; the summit (on
    # PostgreSQL read by its lock); the place taken; the person, their registration and their confirmation written.
    # Nothing read twice, and no look for lapsed offers while the summit has places.
    assert len(work(seen)) <= 8, work(seen)
    assert work(seen)[-4:] == [
        "UPDATE summit SET",
        "UPDATE invitation SET",
        "INSERT INTO registration",
        "INSERT INTO outbox_message",
    ]
    assert not [s for s in work(seen) if s.startswith("SELECT EXISTS")]
    assert len([s for s in seen if s.startswith("SELECT summit.id, summit.name")]) == 1


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_a_handed_on_persons_page_finds_the_colleague_by_the_index_not_by_reading_every_invitation(app, client):
    """The colleague is looked up by who they stand in for: through ix_invitation_substitute_for_id, so the page
    costs the same with 300 invitations or 50,000 (SQLite's plan for each statement the view sends)."""
    f.summit()
    cara = f.registered(name="Cara Colleague-Sender")
    for n in range(30):
        f.invitation(name=f"Someone {n}")
    handing_on.hand_on(cara, handing_on.Colleague(name="Sam Stand-in", email="sam@example.org", organisation="X"))
    db.session.commit()
    view(client, link(cara))
    with query_plans() as nodes:
        html, _ = view(client, link(cara))
    plans = {sql: plan_text(rows) for sql, rows in nodes.items()}

    assert "Sam Stand-in" in html
    (lookup,) = [plan for sql, plan in plans.items() if "invitation.substitute_for_id =" in sql]
    assert "USING INDEX ix_invitation_substitute_for_id" in lookup, lookup
    assert not [plan for plan in plans.values() if "SCAN invitation" in plan], plans
