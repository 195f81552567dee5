"""Loads the demo summit, staff and invitees (idempotent): what `make run` shows a new user."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select, update

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.demo_data import LEADERS, ORGANISERS, STEWARD, generate_invitees
from app.core.security import new_badge_code, new_link_selector
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from invitations import mailing
from invitations.models import Invitation, InvitationState, Registration, RegistrationState

DEMO_PASSWORD = "new-horizons-demo"
_DIETS = ["", "", "", "", "Vegetarian", "Vegan", "Gluten free", "Halal", "No nuts, please (allergy)", "Dairy free"]
_ACCESS = [
    "",
    "",
    "",
    "",
    "",
    "",
    "Step-free access",
    "Hearing loop",
    "A seat near the front, please",
    "Large-print materials",
]


def load_demo(seed: int = 2009) -> dict[str, int]:
    rng = random.Random(seed)
    now = utcnow()
    if summit_settings.find_summit() is None:
        summit_settings.configure_summit()

    users = {}
    for person, role in (
        [(p, Role.ORGANISER) for p in ORGANISERS] + [(p, Role.LEADER) for p in LEADERS] + [(STEWARD, Role.STEWARD)]
    ):
        user = credentials.find_user(person.email)
        if user is None:
            user = credentials.create_user(
                person.email,
                name=person.name,
                role=role,
                password=DEMO_PASSWORD,
                organisation=person.organisation,
                job_title=person.job_title,
            )
        users[person.email] = user

    known = set(db.session.scalars(select(Invitation.email)))
    created = registered = 0
    new_invitations: list[Invitation] = []
    for invitee in generate_invitees(seed=seed):
        if invitee.email in known:
            continue
        invited_at = now - timedelta(days=rng.randint(8, 40), hours=rng.randint(0, 23))
        inv = Invitation(
            email=invitee.email,
            name=invitee.name,
            organisation=invitee.organisation,
            job_title=invitee.job_title,
            sector=invitee.sector,
            champion_id=users[invitee.champion_email].id,
            state=InvitationState.INVITED,
            link_selector=new_link_selector(),
            code=new_badge_code(),
            created_at=invited_at,
        )
        if invitee.state != "not_sent":
            inv.sent_at = invited_at
        if invitee.state in ("opened", "registered", "declined"):
            inv.opened_at = invited_at + timedelta(hours=rng.randint(1, 72))
        if invitee.state == "registered":
            inv.state = InvitationState.REGISTERED
            inv.responded_at = (inv.opened_at or invited_at) + timedelta(minutes=rng.randint(2, 600))
            inv.registration = Registration(
                state=RegistrationState.CONFIRMED,
                dietary=rng.choice(_DIETS),
                access_needs=rng.choice(_ACCESS),
                consent_at=inv.responded_at,
                registered_at=inv.responded_at,
            )
            registered += 1
        elif invitee.state == "declined":
            inv.state = InvitationState.DECLINED
            inv.responded_at = (inv.opened_at or invited_at) + timedelta(hours=rng.randint(1, 48))
            inv.decline_reason = rng.choice(
                ["", "Away that week.", "Council meeting the same day.", "Sending a colleague next year."]
            )
        db.session.add(inv)
        new_invitations.append(inv)
        created += 1
    db.session.flush()
    # Their emails, as the organisers' mail page would show them after a real send.
    summit = summit_settings.get_summit()
    for inv in new_invitations:
        if inv.sent_at is not None:
            mailing.send_invitation(inv, now=inv.sent_at, summit=summit)
    # The counter must match what the rows say: recount rather than trust increments.
    taken = db.session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.state.in_([InvitationState.REGISTERED, InvitationState.OFFERED]))
    )
    db.session.execute(update(Summit).where(Summit.id == summit.id).values(places_taken=taken))
    return {"invitations_created": created, "registered_added": registered, "users": len(users)}


def demo_accounts() -> dict[str, str]:
    return {"organiser": ORGANISERS[0].email, "leader": LEADERS[7].email, "steward": STEWARD.email}
