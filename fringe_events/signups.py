"""Signing up for fringe events behind a capacity gate (invariant 1), and places following people who leave.

Every place taken or given back goes through take_place / release_place in the same transaction as the
sign-up row it counts, after the person's transition has begun (invitations.transitions)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core.db import changed, db, utcnow
from app.core.errors import DomainError, InvalidState
from fringe_events.models import FringeEvent, FringeSignup, FringeStatus, SignupState
from fringe_events.notifications import tell_own_change
from invitations import transitions
from invitations.models import LIVE_STATES, Invitation, InvitationState

S = InvitationState


class FringeFull(DomainError):
    status = 409


def take_place(event_id: int) -> bool:
    """Take one place if the event is on and has room. One statement both checks and increments, so two
    transactions can never both see the last place free; no capacity means no limit."""
    result = db.session.execute(
        update(FringeEvent)
        .where(
            FringeEvent.id == event_id,
            FringeEvent.status == FringeStatus.SCHEDULED,
            or_(FringeEvent.capacity.is_(None), FringeEvent.places_taken < FringeEvent.capacity),
        )
        .values(places_taken=FringeEvent.places_taken + 1)
        .execution_options(synchronize_session="fetch")
    )
    return changed(result) == 1


def release_place(event_id: int) -> None:
    db.session.execute(
        update(FringeEvent)
        .where(FringeEvent.id == event_id, FringeEvent.places_taken > 0)
        .values(places_taken=FringeEvent.places_taken - 1)
        .execution_options(synchronize_session="fetch")
    )


def find_signup(invitation_id: int, event_id: int) -> FringeSignup | None:
    return db.session.scalars(
        select(FringeSignup).where(
            FringeSignup.invitation_id == invitation_id, FringeSignup.fringe_event_id == event_id
        )
    ).first()


def is_signed_up(invitation_id: int, event_id: int) -> bool:
    signup = find_signup(invitation_id, event_id)
    return signup is not None and signup.state == SignupState.CONFIRMED


def sign_up(invitation: Invitation, event: FringeEvent, now: datetime | None = None) -> FringeSignup:
    """Sign a live invitee up. Signing up twice changes nothing; a full or cancelled event says no."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live, so it can't be used to sign up for fringe events."
    transitions.begin(invitation, allowed=LIVE_STATES, refusals={S.HANDED_ON: no_longer, S.REVOKED: no_longer})
    if event.status == FringeStatus.CANCELLED:
        raise InvalidState(f"Sorry, {event.title} has been cancelled, so it isn't taking sign-ups.")
    if event.starts_at <= now:
        raise InvalidState(f"{event.title} has already started, so it isn't taking sign-ups.")
    existing = find_signup(invitation.id, event.id)
    if existing is not None and existing.state == SignupState.CONFIRMED:
        return existing  # a second tap, or a second tab: already done
    if not take_place(event.id):
        db.session.refresh(event)
        if event.status == FringeStatus.CANCELLED:
            raise InvalidState(f"Sorry, {event.title} has just been cancelled, so it isn't taking sign-ups.")
        raise FringeFull(f"Sorry, {event.title} is full: all {event.capacity} places are taken.")
    if existing is None:
        signup = FringeSignup(
            invitation_id=invitation.id, fringe_event_id=event.id, state=SignupState.CONFIRMED, created_at=now
        )
        try:
            with db.session.begin_nested():
                db.session.add(signup)
        except IntegrityError:
            # The same person signed up from another tab a moment ago: theirs holds the place, not ours.
            release_place(event.id)
            existing = find_signup(invitation.id, event.id)
            if existing is None:
                raise
            db.session.refresh(existing)
            if existing.state == SignupState.CONFIRMED:
                return existing
            raise InvalidState("That didn't go through. Please try again.") from None
    else:
        # Re-joining after cancelling reuses the row (one sign-up per person and event, invariant 2).
        rejoined = changed(
            db.session.execute(
                update(FringeSignup)
                .where(FringeSignup.id == existing.id, FringeSignup.state == SignupState.CANCELLED)
                .values(state=SignupState.CONFIRMED, cancelled_at=None, created_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        db.session.refresh(existing)
        if rejoined != 1:
            release_place(event.id)
            return existing
        signup = existing
    db.session.flush()
    tell_own_change(
        invitation, event, "fringe_signed_up", f"You're signed up: {event.title}", method="REQUEST", now=now
    )
    return signup


def cancel_signup(invitation: Invitation, event: FringeEvent, now: datetime | None = None) -> bool:
    """Give the place back. True if there was a sign-up to cancel (cancelling twice is harmless)."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live."
    transitions.begin(invitation, allowed=LIVE_STATES, refusals={S.HANDED_ON: no_longer, S.REVOKED: no_longer})
    signup = find_signup(invitation.id, event.id)
    if signup is None or signup.state != SignupState.CONFIRMED:
        return False
    if event.starts_at <= now:
        raise InvalidState(f"{event.title} has already started, so the sign-up can't be cancelled now.")
    cancelled = changed(
        db.session.execute(
            update(FringeSignup)
            .where(FringeSignup.id == signup.id, FringeSignup.state == SignupState.CONFIRMED)
            .values(state=SignupState.CANCELLED, cancelled_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(signup)
    if cancelled != 1:
        return False
    release_place(event.id)
    db.session.flush()
    if event.status == FringeStatus.SCHEDULED:
        # The person's own copy goes: CANCEL with the UID their calendar already holds.
        tell_own_change(
            invitation,
            event,
            "fringe_signup_cancelled",
            f"Sign-up cancelled: {event.title}",
            method="CANCEL",
            cancelled=True,
            now=now,
        )
    return True


def release_signups(invitation_id: int, now: datetime | None = None) -> int:
    """A revoked or erased invitation gives back its places at fringe events still to come (no emails:
    the person is no longer on our list). Returns how many."""
    now = now or utcnow()
    rows = db.session.execute(
        select(FringeSignup.id, FringeSignup.fringe_event_id)
        .join(FringeEvent)
        .where(
            FringeSignup.invitation_id == invitation_id,
            FringeSignup.state == SignupState.CONFIRMED,
            FringeEvent.starts_at > now,
        )
    ).all()
    for signup_id, event_id in rows:
        cancelled = changed(
            db.session.execute(
                update(FringeSignup)
                .where(FringeSignup.id == signup_id, FringeSignup.state == SignupState.CONFIRMED)
                .values(state=SignupState.CANCELLED, cancelled_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        if cancelled == 1:
            release_place(event_id)
    db.session.flush()
    return len(rows)


def transfer_signups(from_invitation_id: int, to_invitation_id: int, now: datetime | None = None) -> int:
    """A colleague sent in someone's place takes over their sign-ups to events still to come; the places
    move without ever being free."""
    now = now or utcnow()
    upcoming = select(FringeEvent.id).where(FringeEvent.starts_at > now).scalar_subquery()
    moved = changed(
        db.session.execute(
            update(FringeSignup)
            .where(
                FringeSignup.invitation_id == from_invitation_id,
                FringeSignup.state == SignupState.CONFIRMED,
                FringeSignup.fringe_event_id.in_(upcoming),
            )
            .values(invitation_id=to_invitation_id)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.flush()
    return moved
