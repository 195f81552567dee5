"""The delegate's journey: register, change details, cancel, decline, join the waiting list, accept an offer.

Each begins the person's transition (invitations.transitions) before anything moves; services flush but
never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from app.core.db import changed, db, utcnow
from app.core.errors import InvalidState, OfferLapsed, RegistrationClosed, SummitFull
from app.core.summit import capacity as summit_capacity
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from invitations import answers, texting, transitions
from invitations.answers import Submitted
from invitations.mailing import send_confirmation, tell, tell_details_changed
from invitations.models import (
    Invitation,
    InvitationState,
    Registration,
    RegistrationState,
    WaitlistEntry,
    WaitlistState,
)
from invitations.waitlist import PlaceGivenUp, expire_offers, give_up_place, waitlist_position

S = InvitationState


@dataclass(frozen=True)
class RegistrationDetails:
    name: str
    organisation: str
    job_title: str
    dietary: str = ""
    access_needs: str = ""
    # Answers to the registration questions the form showed (invitations.answers); None leaves them as they are.
    answers: Submitted | None = None
    # Their mobile number as typed ("" takes it away); None leaves it as it is (invitations.texting).
    mobile: str | None = None


REGISTERABLE = frozenset({S.INVITED, S.DECLINED, S.CANCELLED, S.WAITLISTED})


def _apply_details(invitation: Invitation, details: RegistrationDetails, now: datetime) -> Registration:
    invitation.name = details.name.strip()
    invitation.organisation = details.organisation.strip()
    invitation.job_title = details.job_title.strip()
    registration = invitation.registration
    if registration is None:
        registration = Registration(invitation=invitation)
        db.session.add(registration)
    registration.state = RegistrationState.CONFIRMED
    registration.dietary = details.dietary.strip()
    registration.access_needs = details.access_needs.strip()
    registration.consent_at = now
    registration.registered_at = now
    registration.cancelled_at = None
    if details.mobile is not None:
        texting.set_mobile(invitation, details.mobile)
    return registration


def _check_open(summit: Summit, now: datetime) -> None:
    if not summit.registration_open(now):
        if summit.registration_opens_at and now < summit.registration_opens_at:
            raise RegistrationClosed("Registration has not opened yet. Your link will work when it does.")
        raise RegistrationClosed(
            "Registration for the summit has closed. If you still hope to come, please contact the organisers."
        )


def register(invitation: Invitation, details: RegistrationDetails, now: datetime | None = None) -> Registration:
    """Take a place for the invitee, or raise SummitFull / RegistrationClosed / InvalidState."""
    now = now or utcnow()
    state = transitions.begin(
        invitation,
        allowed=REGISTERABLE | {S.OFFERED},
        refusals={
            S.REGISTERED: f"You're already registered — {transitions.AGO} You can change your details on your page."
        },
    )
    if state == S.OFFERED:
        return accept_offer(invitation, details, now)
    summit = transitions.locked_summit()
    _check_open(summit, now)
    if not summit_capacity.take_summit_place(summit.id):
        # Full, as far as the counter says: offers that have run out give their places back first (the write that
        # needs the place expires them, so no page view has to).
        expire_offers(now)
        if invitation.state == S.OFFERED:  # a lapsed offer elsewhere just passed a place to this person
            return accept_offer(invitation, details, now)
        if not summit_capacity.take_summit_place(summit.id):
            raise SummitFull(
                "The summit is full. You can join the waiting list and we'll offer you the next free place."
            )
    if invitation.waitlist_entry is not None and invitation.waitlist_entry.state == WaitlistState.WAITING:
        invitation.waitlist_entry.state = WaitlistState.ACCEPTED
    registration = _apply_details(invitation, details, now)
    answers.save_answers(invitation, details.answers)  # raises ValidationFailed for a full option
    invitation.state = S.REGISTERED
    invitation.responded_at = now
    db.session.flush()
    send_confirmation(invitation, summit)
    return registration


def update_details(invitation: Invitation, details: RegistrationDetails, now: datetime | None = None) -> Registration:
    now = now or utcnow()
    only = "Only a registered delegate can change their details."
    transitions.begin(
        invitation, allowed={S.REGISTERED}, refusals={s: only for s in (S.INVITED, S.WAITLISTED, S.OFFERED, S.DECLINED)}
    )
    registration = invitation.registration
    if registration is None:  # REGISTERED always has one; summit check names anyone who doesn't
        raise InvalidState(only)
    invitation.name = details.name.strip()
    invitation.organisation = details.organisation.strip()
    invitation.job_title = details.job_title.strip()
    registration.dietary = details.dietary.strip()
    registration.access_needs = details.access_needs.strip()
    if registration.consent_at is None:
        registration.consent_at = now
    if details.mobile is not None:
        texting.set_mobile(invitation, details.mobile)
    answers.save_answers(invitation, details.answers)  # a changed choice gives its old option's place back
    db.session.flush()
    summit = summit_settings.get_summit()
    tell_details_changed(invitation, summit, now)
    return registration


def cancel_registration(invitation: Invitation, now: datetime | None = None) -> PlaceGivenUp:
    """Give the place back; the next person on the waiting list is offered it in this transaction."""
    now = now or utcnow()
    nothing = "You don't hold a place, so there is nothing to cancel."
    transitions.begin(
        invitation,
        allowed={S.REGISTERED},
        refusals={s: nothing for s in (S.INVITED, S.WAITLISTED, S.OFFERED, S.DECLINED)},
    )
    summit = summit_settings.get_summit()
    outcome = give_up_place(invitation, now)
    invitation.state = S.CANCELLED
    invitation.responded_at = now
    db.session.flush()
    # The email says what became of the place: offered on to someone waiting, or free again.
    tell(
        invitation,
        "registration_cancelled",
        f"Your place at {summit.name} is cancelled",
        summit,
        offered_on=outcome.offered_on,
    )
    return outcome


@dataclass(frozen=True)
class Declined:
    """What declining did: `was` the state they left (an offer turned down, the waiting list left, or an
    invitation answered), and what became of any place they held."""

    was: InvitationState
    place: PlaceGivenUp


def decline(invitation: Invitation, reason: str = "", now: datetime | None = None) -> Declined:
    now = now or utcnow()
    was = transitions.begin(
        invitation,
        allowed={S.INVITED, S.DECLINED, S.CANCELLED, S.WAITLISTED, S.OFFERED},
        refusals={S.REGISTERED: "You're registered. To give your place back, use Cancel my place."},
    )
    place = give_up_place(invitation, now)
    invitation.state = S.DECLINED
    invitation.decline_reason = reason.strip()[:1000]
    invitation.responded_at = now
    db.session.flush()
    return Declined(was=was, place=place)


def join_waitlist(invitation: Invitation, now: datetime | None = None) -> WaitlistEntry:
    now = now or utcnow()
    transitions.begin(invitation, allowed={S.INVITED, S.DECLINED, S.CANCELLED})
    summit = summit_settings.get_summit()
    _check_open(summit, now)
    expire_offers(now)
    db.session.refresh(summit)
    if summit.places_taken < summit.capacity:
        raise InvalidState("There are places left, so there's no need to wait: you can register now.")
    entry = invitation.waitlist_entry
    if entry is None:
        entry = WaitlistEntry(invitation=invitation)
        db.session.add(entry)
    # Rejoining puts you at the back: first come, first served.
    entry.state = WaitlistState.WAITING
    entry.joined_at = now
    entry.offered_at = None
    entry.offer_expires_at = None
    invitation.state = S.WAITLISTED
    invitation.responded_at = now
    db.session.flush()
    tell(
        invitation,
        "waitlist_joined",
        f"You're on the waiting list for {summit.name}",
        summit,
        position=waitlist_position(invitation),
    )
    return entry


def accept_offer(invitation: Invitation, details: RegistrationDetails, now: datetime | None = None) -> Registration:
    """Turn a held offer into a confirmed place. The place is already counted, so no gate here;
    the conditional UPDATE makes acceptance and expiry mutually exclusive."""
    now = now or utcnow()
    no_offer = "There is no offer of a place waiting for you."
    transitions.begin(
        invitation,
        allowed={S.OFFERED},
        refusals={S.INVITED: no_offer, S.WAITLISTED: no_offer, S.DECLINED: no_offer, S.CANCELLED: no_offer},
    )
    entry = invitation.waitlist_entry
    if entry is None:
        raise InvalidState(no_offer)
    accepted = changed(
        db.session.execute(
            update(WaitlistEntry)
            .where(
                WaitlistEntry.id == entry.id,
                WaitlistEntry.state == WaitlistState.OFFERED,
                WaitlistEntry.offer_expires_at > now,
            )
            .values(state=WaitlistState.ACCEPTED)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(entry)
    if accepted != 1:
        expire_offers(now)
        db.session.refresh(invitation)
        raise OfferLapsed(_lapsed(entry))
    summit = summit_settings.get_summit()
    registration = _apply_details(invitation, details, now)
    answers.save_answers(invitation, details.answers)
    invitation.state = S.REGISTERED
    invitation.responded_at = now
    db.session.flush()
    send_confirmation(invitation, summit)
    return registration


def _lapsed(entry: WaitlistEntry) -> str:
    """What became of a place whose offer ran out before it was accepted: said as it is."""
    summit = summit_settings.get_summit()
    db.session.refresh(summit)
    passed_on = db.session.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(WaitlistEntry.state == WaitlistState.OFFERED, WaitlistEntry.offered_at >= entry.offer_expires_at)
    )
    if passed_on:
        return "Sorry, this offer has expired, and the place has gone to the next person waiting."
    if summit.places_left > 0:
        return (
            "Sorry, this offer has expired. A place is still free, though: "
            "you can register for it from your page while it lasts."
        )
    return "Sorry, this offer has expired, and the place has since been taken."
