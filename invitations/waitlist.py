"""The waiting list: giving a place up, offering freed places in order, and offers lapsing.

Every place taken or given back goes through app.core.summit.capacity.take_summit_place / release_summit_place in the
same transaction, after the person's own transition has begun (invitations.transitions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update

from app.core.db import changed, db, utcnow
from app.core.summit import capacity as summit_capacity
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from invitations import answers, signals, transitions
from invitations.mailing import tell
from invitations.models import Invitation, InvitationState, RegistrationState, WaitlistEntry, WaitlistState

S = InvitationState


@dataclass(frozen=True)
class PlaceGivenUp:
    """What became of a place a person gave back: offered on to someone waiting, or free again."""

    released: bool = False
    offered_on: int = 0


def give_up_place(invitation: Invitation, now: datetime) -> PlaceGivenUp:
    """Release whatever the invitation holds: a confirmed place, an offer or a queue position.
    The caller has begun the person's transition (invitations.transitions)."""
    summit = summit_settings.get_summit()
    if invitation.state == S.REGISTERED and invitation.registration is not None:
        invitation.registration.state = RegistrationState.CANCELLED
        invitation.registration.cancelled_at = now
        summit_capacity.release_summit_place(summit.id)
        answers.release_choices(invitation)  # and the places of the options they chose
        signals.summit_place_given_up.send(invitation, now=now)
        return PlaceGivenUp(released=True, offered_on=fill_from_waitlist(summit, now))
    elif invitation.state == S.OFFERED and invitation.waitlist_entry is not None:
        rows = changed(
            db.session.execute(
                update(WaitlistEntry)
                .where(WaitlistEntry.id == invitation.waitlist_entry.id, WaitlistEntry.state == WaitlistState.OFFERED)
                .values(state=WaitlistState.LEFT)
                .execution_options(synchronize_session=False)
            )
        )
        db.session.refresh(invitation.waitlist_entry)
        if rows == 1:
            summit_capacity.release_summit_place(summit.id)
            return PlaceGivenUp(released=True, offered_on=fill_from_waitlist(summit, now))
    elif invitation.state == S.WAITLISTED and invitation.waitlist_entry is not None:
        invitation.waitlist_entry.state = WaitlistState.LEFT
    return PlaceGivenUp()


def waitlist_position(invitation: Invitation) -> int | None:
    entry = invitation.waitlist_entry
    if entry is None or entry.state != WaitlistState.WAITING:
        return None
    ahead = db.session.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(
            WaitlistEntry.state == WaitlistState.WAITING,
            or_(
                WaitlistEntry.joined_at < entry.joined_at,
                (WaitlistEntry.joined_at == entry.joined_at) & (WaitlistEntry.id < entry.id),
            ),
        )
    )
    return (ahead or 0) + 1


def waitlist_length() -> int:
    """How many people are waiting (not counting those holding an offer)."""
    waiting = select(func.count()).select_from(WaitlistEntry).where(WaitlistEntry.state == WaitlistState.WAITING)
    return db.session.scalar(waiting) or 0


def fill_from_waitlist(summit: Summit, now: datetime) -> int:
    """Offer every free place to the people waiting, in order. Returns how many offers were made."""
    offers = 0
    hold_until = summit_settings.hold_until(summit, now)
    while True:
        entry = db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.state == WaitlistState.WAITING)
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
            .limit(1)
        ).first()
        if entry is None:
            return offers
        # Hold the person first; then their entry, as it now is, must still be waiting.
        _lock_holder(entry)
        if entry.state != WaitlistState.WAITING:
            continue
        if not summit_capacity.take_summit_place(summit.id):
            return offers
        claimed = changed(
            db.session.execute(
                update(WaitlistEntry)
                .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.WAITING)
                .values(state=WaitlistState.OFFERED, offered_at=now, offer_expires_at=hold_until)
                .execution_options(synchronize_session=False)
            )
        )
        db.session.refresh(entry)
        if claimed != 1:
            # Someone else's transaction moved this entry first; give the place back and try the next.
            summit_capacity.release_summit_place(summit.id)
            continue
        invitation = entry.invitation
        invitation.state = S.OFFERED
        offers += 1
        db.session.flush()
        tell(
            invitation,
            "place_offered",
            f"A place at {summit.name} is yours if you want it",
            summit,
            expires_at=hold_until,
        )


def _lock_holder(entry: WaitlistEntry) -> None:
    """Lock the person who holds a waiting-list entry (an entry moves with a hand-on, under its holder's lock)."""
    while True:
        holder = entry.invitation_id
        transitions.lock(entry.invitation)
        db.session.expire(entry)
        if entry.invitation_id == holder:
            return


def offer_lapsed(entry: WaitlistEntry, now: datetime) -> bool:
    """Whether an offer has run out, from the time alone: true before the worker (or the next write that needs the
    place) has expired it, so a page can say so without writing."""
    return entry.state == WaitlistState.OFFERED and entry.offer_expires_at is not None and entry.offer_expires_at <= now


def lapsed_offers(now: datetime) -> int:
    """How many offers have run out but are still held (the worker, or the next write that needs the place, expires
    them): one count, so that a page that only reads can say so."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(WaitlistEntry)
            .where(WaitlistEntry.state == WaitlistState.OFFERED, WaitlistEntry.offer_expires_at <= now)
        )
        or 0
    )


def expire_offers(now: datetime | None = None) -> int:
    """Expire lapsed offers and pass each place on. Idempotent: safe to run from anywhere, any time."""
    now = now or utcnow()
    lapsed_query = select(WaitlistEntry).where(
        WaitlistEntry.state == WaitlistState.OFFERED, WaitlistEntry.offer_expires_at <= now
    )
    if db.session.scalar(select(lapsed_query.exists())) is not True:
        return 0  # the usual answer, and a page that only reads stays a read
    db.will_write()
    lapsed = db.session.scalars(lapsed_query).all()
    summit = summit_settings.get_summit()
    expired = 0
    for entry in lapsed:
        _lock_holder(entry)
        rows = changed(
            db.session.execute(
                update(WaitlistEntry)
                .where(
                    WaitlistEntry.id == entry.id,
                    WaitlistEntry.state == WaitlistState.OFFERED,
                    WaitlistEntry.offer_expires_at <= now,
                )
                .values(state=WaitlistState.EXPIRED)
                .execution_options(synchronize_session=False)
            )
        )
        db.session.refresh(entry)
        if rows != 1:
            continue
        expired += 1
        invitation = entry.invitation
        invitation.state = S.INVITED
        summit_capacity.release_summit_place(summit.id)
        db.session.flush()
        tell(invitation, "offer_expired", "The place we offered you has passed on", summit)
    fill_from_waitlist(summit, now)
    db.session.flush()
    return expired
