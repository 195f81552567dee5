"""Sending a colleague instead: the place, offer or queue position passes straight across."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.core import audit
from app.core.db import db, utcnow
from app.core.errors import ValidationFailed
from app.core.summit import settings as summit_settings
from invitations import answers, signals, transitions
from invitations.mailing import tell
from invitations.models import Invitation, InvitationState, Registration, RegistrationState
from invitations.people import InviteeData, create_invitation, find_by_email, normalise_email

S = InvitationState


@dataclass(frozen=True)
class Colleague:
    name: str
    email: str
    organisation: str
    job_title: str = ""


HANDABLE = frozenset({S.INVITED, S.REGISTERED, S.WAITLISTED, S.OFFERED, S.DECLINED, S.CANCELLED})


def hand_on(invitation: Invitation, colleague: Colleague, now: datetime | None = None) -> Invitation:
    """Send a colleague instead. A confirmed place or a queue position passes straight across."""
    now = now or utcnow()
    previous_state = transitions.begin(invitation, allowed=HANDABLE)
    email = normalise_email(colleague.email)
    if email == invitation.email:
        raise ValidationFailed("That's your own email address: please give your colleague's.", field="email")
    if find_by_email(email) is not None:
        raise ValidationFailed(f"{email} has already been invited, so they have a link of their own.", field="email")
    summit = summit_settings.get_summit()
    new = create_invitation(
        InviteeData(
            email=email,
            name=colleague.name,
            organisation=colleague.organisation,
            job_title=colleague.job_title,
            champion_id=invitation.champion_id,
            sector=invitation.sector,
        ),
        substitute_for=invitation,
    )
    transitions.adopt(new)
    new.sent_at = now
    if invitation.state == S.REGISTERED and invitation.registration is not None:
        invitation.registration.state = RegistrationState.TRANSFERRED
        invitation.registration.cancelled_at = now
        answers.release_choices(invitation)  # the colleague chooses their own options
        # The place moves without touching the counter: it never becomes free.
        db.session.add(Registration(invitation=new, state=RegistrationState.CONFIRMED, registered_at=now))
        new.state = S.REGISTERED
    elif invitation.state in (S.WAITLISTED, S.OFFERED) and invitation.waitlist_entry is not None:
        entry = invitation.waitlist_entry
        entry.invitation = new
        new.state = invitation.state
    signals.person_handed_on.send(invitation, to=new, now=now)
    invitation.state = S.HANDED_ON
    invitation.responded_at = now
    db.session.flush()
    audit.record(
        "invitation.handed_on",
        actor_label="the delegate",  # named by invitation_id when the log is read
        invitation_id=invitation.id,
        to_invitation=new.id,
        before=previous_state.value,
    )
    tell(
        new,
        "colleague_invited",
        # A subject names nobody but its recipient: the outbox keeps it after the other person is erased.
        f"A colleague has passed their invitation to {summit.name} to you",
        summit,
        original=invitation,
        had_place=new.state == S.REGISTERED,
        offer_expires_at=new.waitlist_entry.offer_expires_at
        if new.state == S.OFFERED and new.waitlist_entry is not None
        else None,
        waiting=new.state == S.WAITLISTED,
    )
    tell(invitation, "handed_on", f"You've sent a colleague to {summit.name} in your place", summit, colleague=new)
    return new
