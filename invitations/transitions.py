"""One transition at a time per person (invariant 1).

Every change of an invitation's state, a registration's or a waiting-list entry's goes through here:

1. `begin(invitation, allowed=…)` takes the summit row and then the person's row for the rest of the
   transaction (`SELECT … FOR UPDATE` on PostgreSQL; on SQLite `BEGIN IMMEDIATE` already holds the one
   write lock), reads the person, their registration and their waiting-list entry again (one statement;
   the summit as locked is `locked_summit()`, so no step reads it twice), and checks they
   are still in one of the states the action starts from. If not, it raises `Conflict` with a sentence
   about what already happened ("You've already cancelled…"), before anything has moved.
2. The caller then moves counters and sets the new state. Setting `Invitation.state`,
   `Registration.state` or `WaitlistEntry.state` on a person that is not locked in this transaction raises
   `UnlockedTransition`, so a new transition cannot forget step 1.

Every locker takes the summit row first and people after it, so two transactions never wait on each other
in a circle (no deadlocks), and the capacity counter only moves after the person's own transition has been
checked under the lock. `PERSON_LOCK = False` in the config removes the lock and the re-read: the race
tests' control uses it to show that the race is real.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload

from app.core.db import db
from app.core.errors import Conflict
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from invitations.models import Invitation, InvitationState, Registration, WaitlistEntry

S = InvitationState
_LOCKED = "locked_people"
_SUMMIT = "locked_summit"

AGO = "this was done a moment ago, perhaps in another tab."

# What to say when the person is no longer where the action starts from, by the state they are now in.
ALREADY = {
    S.INVITED: "You haven't registered, so there's nothing to change: you can register from your page.",
    S.REGISTERED: f"You're already registered — {AGO}",
    S.WAITLISTED: f"You're already on the waiting list — {AGO}",
    S.OFFERED: "You've been offered a place: you can take it from your page.",
    S.DECLINED: f"You've already told us you can't come — {AGO}",
    S.CANCELLED: f"You've already cancelled your place — {AGO}",
    S.HANDED_ON: f"This invitation has already been passed to a colleague — {AGO}",
    S.REVOKED: "This invitation has been withdrawn, so it can't be used any more.",
}


class UnlockedTransition(RuntimeError):
    """A programming error: a person's state was changed without `begin()` in this transaction."""


def _locked(session: Session) -> set[int]:
    return session.info.setdefault(_LOCKED, set())


def _enabled() -> bool:
    return current_app.config.get("PERSON_LOCK", True)


def _locks_rows(session: Session) -> bool:
    # On SQLite, BEGIN IMMEDIATE has already taken the database's one write lock: there are no row locks.
    return session.get_bind().dialect.name != "sqlite"


def _lock_summit(session: Session) -> None:
    # The whole row, so that what the transition then needs of the summit is already read (locked_summit()).
    locked = select(Summit).order_by(Summit.id).limit(1).with_for_update().execution_options(populate_existing=True)
    summit = session.scalars(locked).first()
    if summit is not None:
        session.info[_SUMMIT] = summit


def locked_summit() -> Summit:
    """The summit, as read when this transaction's transition began (under its lock on PostgreSQL; on SQLite the
    write lock already holds it): read once, however many steps of the transition ask."""
    summit = db.session.info.get(_SUMMIT)
    if summit is None:
        summit = db.session.info[_SUMMIT] = summit_settings.get_summit()
    return summit


def lock(invitation: Invitation) -> Invitation:
    """Hold this person (and the summit) until the transaction ends, and re-read them as they now are."""
    db.will_write()  # in a GET on SQLite: the lock is the write lock, so take it now
    session = db.session
    ids = _locked(session)
    identity = inspect(invitation).identity
    invitation_id = identity[0] if identity else invitation.id  # without reading an expired person again
    if invitation_id in ids:
        return invitation
    if _enabled():
        session.flush()
        if _locks_rows(session):
            _lock_summit(session)
        # What was read before the lock may be stale: the person, their registration and their
        # waiting-list entry are read again, under the lock, from here on.
        loaded = inspect(invitation).dict
        for name in ("registration", "waitlist_entry"):
            if loaded.get(name) is not None:
                session.expire(loaded[name])
        session.expire(invitation)
        # Their registration and waiting-list entry ride along (one statement; each is one row or none).
        session.scalars(
            select(Invitation)
            .where(Invitation.id == invitation_id)
            .options(joinedload(Invitation.registration), joinedload(Invitation.waitlist_entry))
            .with_for_update(of=Invitation)
        ).unique().first()
    ids.add(invitation_id)
    return invitation


def lock_many(invitation_ids: Iterable[int]) -> None:
    """Hold many people at once (bulk sends, imports), in id order; read them again after this."""
    db.will_write()
    session = db.session
    ids = _locked(session)
    wanted = sorted(set(invitation_ids) - ids)
    if not wanted:
        return
    if _enabled():
        session.flush()
        if _locks_rows(session):
            _lock_summit(session)
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                session.execute(
                    select(Invitation.id).where(Invitation.id.in_(chunk)).order_by(Invitation.id).with_for_update()
                )
        session.expire_all()
    ids.update(wanted)


def adopt(invitation: Invitation) -> Invitation:
    """A person created in this transaction: nobody else can see them until it commits, so they are ours."""
    db.session.flush()
    _locked(db.session).add(invitation.id)
    return invitation


def begin(
    invitation: Invitation, *, allowed: Iterable[InvitationState], refusals: dict[InvitationState, str] | None = None
) -> InvitationState:
    """Lock the person, re-read them, and check they are in one of `allowed`. Returns the state found."""
    lock(invitation)
    state = invitation.state
    if state not in frozenset(allowed):
        raise Conflict((refusals or {}).get(state) or ALREADY[state])
    return state


def is_locked(invitation_id: int) -> bool:
    return invitation_id in _locked(db.session)


# --- the guard --------------------------------------------------------------------------------


def _guard(target, owner_id) -> None:
    session = inspect(target).session
    if session is not None and owner_id is not None and owner_id not in session.info.get(_LOCKED, ()):
        raise UnlockedTransition(
            f"invitation {owner_id}'s state was changed without invitations.transitions.begin() in this transaction"
        )


@event.listens_for(Invitation.state, "set", propagate=True)
def _guard_invitation(target: Invitation, value, oldvalue, initiator):
    if inspect(target).persistent and value is not oldvalue:
        _guard(target, target.id)


@event.listens_for(Registration.state, "set", propagate=True)
def _guard_registration(target: Registration, value, oldvalue, initiator):
    if inspect(target).persistent and value is not oldvalue:
        _guard(target, target.invitation_id)


@event.listens_for(WaitlistEntry.state, "set", propagate=True)
def _guard_waitlist(target: WaitlistEntry, value, oldvalue, initiator):
    if inspect(target).persistent and value is not oldvalue:
        _guard(target, target.invitation_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_LOCKED, None)
        session.info.pop(_SUMMIT, None)
