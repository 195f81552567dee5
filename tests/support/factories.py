"""Factories: make the objects a test needs, flushed but not committed unless asked."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlalchemy import update

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db, utcnow
from invitations import journey, links, people, summit_changes
from invitations.models import Invitation, InvitationState, WaitlistEntry

_counter = itertools.count(1)
PASSWORD = "correct horse battery"


def summit(capacity: int = 350, target: int = 300, **settings):
    result = summit_changes.configure_summit(capacity=capacity, target=target, **settings)
    db.session.commit()
    return result


def user(role: Role = Role.ORGANISER, email: str | None = None, name: str | None = None):
    n = next(_counter)
    created = credentials.create_user(
        email or f"{role.value}{n}@staff.example.org", name=name or f"{role.label} {n}", role=role, password=PASSWORD
    )
    db.session.commit()
    return created


def invitation(email: str | None = None, name: str | None = None, champion=None, **fields) -> Invitation:
    n = next(_counter)
    created = people.create_invitation(
        people.InviteeData(
            email=email or f"person{n}@example.org",
            name=name or f"Person {n}",
            organisation=fields.pop("organisation", "Suffolk County Council"),
            job_title=fields.pop("job_title", "Officer"),
            champion_id=champion.id if champion else None,
        )
    )
    db.session.commit()
    return created


def details(name: str = "Alex Example", **overrides) -> journey.RegistrationDetails:
    values = dict(name=name, organisation="Suffolk County Council", job_title="Officer", dietary="", access_needs="")
    values.update(overrides)
    return journey.RegistrationDetails(**values)


def registered(**kwargs) -> Invitation:
    inv = invitation(**kwargs)
    journey.register(inv, details(name=inv.name))
    db.session.commit()
    return inv


def full_summit_with(waiting: int) -> tuple[Invitation, list[Invitation]]:
    """A summit of one place, taken; `waiting` people on the waiting list behind it."""
    summit(capacity=1)
    holder = registered(name="Holder Person")
    queue = []
    for _ in range(waiting):
        person = invitation()
        journey.join_waitlist(person)
        queue.append(person)
    db.session.commit()
    return holder, queue


def offered_place(waiting: int) -> list[Invitation]:
    """Someone holding an offer of the summit's one place (first in the list), with `waiting` people behind them."""
    holder, queue = full_summit_with(1 + waiting)
    journey.cancel_registration(holder)
    db.session.commit()
    assert fresh(queue[0]).state == InvitationState.OFFERED
    return queue


def past(hours: float):
    return utcnow() - timedelta(hours=hours)


def future(hours: float):
    return utcnow() + timedelta(hours=hours)


def sign_in(client, user_obj):
    response = client.post("/sign-in", data={"email": user_obj.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def link(invitation: Invitation, page: str = "") -> str:
    """The path of a person's link, or of one of its pages."""
    return f"/i/{links.token_for(invitation)}" + (f"/{page}" if page else "")


def fresh(invitation: Invitation) -> Invitation:
    """The invitation as the database now has it (requests commit in the test's shared session)."""
    db.session.expire_all()
    return db.session.get(Invitation, invitation.id)


def bulk_invitations(count: int) -> list[int]:
    rows = [
        people.InviteeData(email=f"racer{i}@example.org", name=f"Racer {i}", organisation="Suffolk")
        for i in range(count)
    ]
    ids = [people.create_invitation(row).id for row in rows]
    db.session.commit()
    return ids


def offer_that_ran_out(waiting_behind: int = 1):
    """A summit of one place, given up: the first person waiting holds the offer, which ran out a minute ago."""
    summit(capacity=1)
    holder = registered(name="Holder Person")
    queue = [invitation(name=f"Waiting {n}") for n in range(1 + waiting_behind)]
    for person in queue:
        journey.join_waitlist(person)
    db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    assert fresh(queue[0]).state == InvitationState.OFFERED
    db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.invitation_id == queue[0].id)
        .values(offer_expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    return queue
