"""Champions and chasing: who champions whom, and a leader's nudges, notes and "don't chase" decisions.

Services flush but never commit; the caller commits once. Each action leaves a LeaderNote (what the leader
said or did) and an audit event, so organisers see it in the invitee's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from app.core import audit
from app.core.auth.models import Role, User
from app.core.db import changed, db, utcnow
from app.core.errors import InvalidState, NotFound, ValidationFailed
from app.core.summit import settings as summit_settings
from app.core.timefmt import ago, day
from invitations.mailing import tell
from invitations.models import Invitation, InvitationState, LeaderNote, NoteKind

S = InvitationState

# Across all leaders, nobody is nudged more than once in this many days.
NUDGE_MIN_DAYS = 3
MAX_MESSAGE = 2000
MAX_NOTE = 1000
# A nudge asks someone to answer their invitation: pointless for those who have a place or are only waiting.
NUDGEABLE = frozenset({S.INVITED, S.OFFERED, S.DECLINED, S.CANCELLED})
# Don't chase is about people who might still be chased.
CHASEABLE = NUDGEABLE | {S.WAITLISTED}
# States that no longer count: the invitation went to someone else or was withdrawn.
GONE = (S.REVOKED, S.HANDED_ON)


class NudgeRefused(InvalidState):
    """A polite no: too soon after the last nudge, or not someone to nudge."""


# --- whose invitee ---------------------------------------------------------------------------


def is_own_invitation(invitation: Invitation, leader: User) -> bool:
    """A leader may also be an invitee: their own invitation is "You", never someone to chase."""
    return invitation.email == (leader.email or "").strip().lower()


def ensure_their_invitee(invitation: Invitation | None, leader: User) -> Invitation:
    """The one ownership guard for a leader's actions: NotFound unless this is one of the leader's invitees, so
    another leader's invitee looks like no invitee at all."""
    if invitation is None or invitation.champion_id != leader.id:
        raise NotFound("That person isn't one of your invitees. Go back to your list and choose someone there.")
    return invitation


def invitee_for_leader(leader: User, invitation_id: int) -> Invitation:
    """One of the leader's invitees still in play, or NotFound (ensure_their_invitee)."""
    invitation = ensure_their_invitee(db.session.get(Invitation, invitation_id), leader)
    if invitation.state in GONE:
        raise NotFound("That person isn't one of your invitees. Go back to your list and choose someone there.")
    return invitation


# --- champions -------------------------------------------------------------------------------


def get_leader(leader_id: int) -> User:
    leader = db.session.get(User, leader_id)
    if leader is None or leader.role != Role.LEADER:
        raise ValidationFailed("Choose a leader from the list: that account isn't a leader.")
    return leader


def find_leader(leader_id: int) -> User:
    leader = db.session.get(User, leader_id)
    if leader is None or leader.role != Role.LEADER:
        raise NotFound("There is no leader with that number. Choose one from the champions' table.")
    return leader


def assign_champion(invitation_ids: list[int], leader_id: int | None, *, actor=None) -> int:
    """Set (or clear, with None) the champion of many invitations at once. Returns how many changed."""
    ids = sorted({int(i) for i in invitation_ids})
    if not ids:
        raise ValidationFailed("Tick at least one invitation to give it a champion.")
    if leader_id is not None:
        get_leader(leader_id)
    differs = (
        Invitation.champion_id.is_not(None)
        if leader_id is None
        else or_(Invitation.champion_id.is_(None), Invitation.champion_id != leader_id)
    )
    changed: list[int] = []
    for start in range(0, len(ids), 500):
        changed += db.session.scalars(
            select(Invitation.id).where(Invitation.id.in_(ids[start : start + 500]), differs)
        ).all()
    _set_champion(changed, leader_id, actor=actor, how="bulk")
    return len(changed)


def organisations_without_champion() -> list[tuple[str, int]]:
    """(organisation, how many live invitations there have no champion), largest first."""
    rows = db.session.execute(
        select(Invitation.organisation, func.count())
        .where(Invitation.champion_id.is_(None), Invitation.state.not_in(GONE))
        .group_by(Invitation.organisation)
        .order_by(func.count().desc(), Invitation.organisation)
    ).all()
    return [(org, n) for org, n in rows]


def apply_organisation_mapping(mapping: dict[str, int], *, actor=None) -> dict[str, int]:
    """Give every invitation of each organisation that has no champion yet the leader mapped to it.

    Invitations that already have a champion keep theirs: a mapping fills gaps, it never overrules."""
    applied: dict[str, int] = {}
    for organisation, leader_id in mapping.items():
        leader = get_leader(leader_id)
        ids = db.session.scalars(
            select(Invitation.id).where(Invitation.organisation == organisation, Invitation.champion_id.is_(None))
        ).all()
        _set_champion(list(ids), leader.id, actor=actor, how="organisation", organisation=organisation)
        applied[organisation] = len(ids)
    return applied


def _set_champion(ids: list[int], leader_id: int | None, *, actor, how: str, **details) -> None:
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.session.execute(
            update(Invitation)
            .where(Invitation.id.in_(chunk))
            .values(champion_id=leader_id)
            .execution_options(synchronize_session="fetch")
        )
        for invitation_id in chunk:
            audit.record(
                "invitation.champion_assigned",
                actor=actor,
                invitation_id=invitation_id,
                champion_id=leader_id,
                how=how,
                **details,
            )
    db.session.flush()


# --- nudges ----------------------------------------------------------------------------------


def default_nudge_message(invitation: Invitation, leader: User) -> str:
    summit = summit_settings.get_summit()
    when = day(summit.starts_at)
    return (
        f"Dear {invitation.first_name},\n\n"
        f"I do hope you can join us at {summit.name} on {when}. It brings together the people across Suffolk "
        f"most likely to come up with new ideas for our public services, and I'd value your being there.\n\n"
        f"It takes a minute to reply: use the button below to register, or to let the organisers know if you can't come.\n\n"
        f"Best wishes,"
    )


def next_nudge_at(invitation: Invitation) -> datetime | None:
    """When this person may next be nudged (by anyone), or None if they may be nudged now."""
    if invitation.last_nudged_at is None:
        return None
    allowed = invitation.last_nudged_at + timedelta(days=NUDGE_MIN_DAYS)
    return allowed if allowed > utcnow() else None


def nudge_refusal(invitation: Invitation, leader: User, now: datetime | None = None) -> str | None:
    """Why this leader can't nudge this person now, as a sentence; None if they can."""
    now = now or utcnow()
    name = invitation.first_name
    if is_own_invitation(invitation, leader):
        return "That's your own invitation, so there's nobody to nudge."
    if invitation.dont_chase:
        return f'You marked {name} as not to be chased. Choose "Chase again" first if you\'ve changed your mind.'
    if invitation.bounced_at is not None:
        return (
            f"Emails to {name} are bouncing, so a nudge wouldn't arrive. Please tell the organisers the right address."
        )
    if invitation.state == S.REGISTERED:
        return f"{name} is already registered: no nudge needed."
    if invitation.state == S.WAITLISTED:
        return f"{name} is on the waiting list; we'll offer them the next free place, so there's nothing to ask of them yet."
    if invitation.state not in NUDGEABLE:
        return f"{name}'s invitation is no longer live, so there's nobody to nudge."
    if invitation.sent_at is None and not summit_settings.get_summit().leaders_may_nudge_unsent:
        return (
            f"Not invited yet: the organisers haven't sent {name}'s invitation, and a nudge would reach {name} "
            "before it. You can nudge once it has been sent."
        )
    if invitation.last_nudged_at is not None and invitation.last_nudged_at > now - timedelta(days=NUDGE_MIN_DAYS):
        again = invitation.last_nudged_at + timedelta(days=NUDGE_MIN_DAYS)
        return (
            f"{name} was nudged {ago(invitation.last_nudged_at, now)}. So that nobody is pestered, we send at most one "
            f"nudge every {NUDGE_MIN_DAYS} days: you can nudge {name} again from {day(again)}."
        )
    return None


@dataclass(frozen=True)
class NudgeSent:
    invitation: Invitation
    note: LeaderNote


def nudge(invitation: Invitation, leader: User, message: str, *, now: datetime | None = None) -> NudgeSent:
    """Email the invitee on the leader's behalf (Reply-To: the leader) through the outbox.

    The 3-day rule holds across all leaders and under concurrency: the conditional UPDATE claims the nudge,
    so of two leaders (or two taps) at once exactly one gets a row count of 1."""
    now = now or utcnow()
    ensure_their_invitee(invitation, leader)
    message = (message or "").replace("\r\n", "\n").strip()
    if not message:
        raise ValidationFailed("Write a message to send: a line or two in your own words works best.")
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed(f"Please keep the message under {MAX_MESSAGE:,} characters.")
    reason = nudge_refusal(invitation, leader, now)
    if reason:
        raise NudgeRefused(reason)
    claimed = changed(
        db.session.execute(
            update(Invitation)
            .where(
                Invitation.id == invitation.id,
                Invitation.champion_id == leader.id,
                or_(
                    Invitation.last_nudged_at.is_(None),
                    Invitation.last_nudged_at <= now - timedelta(days=NUDGE_MIN_DAYS),
                ),
                Invitation.dont_chase.is_(False),
                Invitation.bounced_at.is_(None),
                Invitation.state.in_(NUDGEABLE),
            )
            .values(last_nudged_at=now, last_contact_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    db.session.refresh(invitation)
    if claimed != 1:
        # Someone else got there first (another leader, or a second tap): say why, from what the row now holds.
        raise NudgeRefused(
            nudge_refusal(invitation, leader, now)
            or f"{invitation.first_name} was nudged a moment ago, so we haven't sent another."
        )
    summit = summit_settings.get_summit()
    tell(
        invitation,
        "leader_nudge",
        f"A message from {leader.name} about {summit.name}",
        summit,
        reply_to=leader.email,
        leader_name=leader.name,
        leader_organisation=leader.organisation,
        message=message,
    )
    note = LeaderNote(invitation_id=invitation.id, leader_id=leader.id, kind=NoteKind.NUDGE, text=message, at=now)
    db.session.add(note)
    audit.record("leader.nudged", actor=leader, invitation_id=invitation.id)
    db.session.flush()
    return NudgeSent(invitation=invitation, note=note)


# --- notes and "don't chase" -----------------------------------------------------------------


def add_note(invitation: Invitation, leader: User, text: str, *, now: datetime | None = None) -> LeaderNote:
    """A conversation noted ("phoned 3 Oct, will register"): it counts as contact."""
    now = now or utcnow()
    ensure_their_invitee(invitation, leader)
    text = (text or "").strip()
    if not text:
        raise ValidationFailed('Write a few words about the conversation, such as "phoned 3 Oct, will register".')
    if len(text) > MAX_NOTE:
        raise ValidationFailed(f"Please keep the note under {MAX_NOTE:,} characters.")
    note = LeaderNote(invitation_id=invitation.id, leader_id=leader.id, kind=NoteKind.NOTE, text=text, at=now)
    db.session.add(note)
    invitation.last_contact_at = now
    audit.record("leader.noted", actor=leader, invitation_id=invitation.id)
    db.session.flush()
    return note


def set_dont_chase(
    invitation: Invitation, leader: User, dont_chase: bool, reason: str = "", *, now: datetime | None = None
) -> LeaderNote:
    """Mark someone as not to be chased (no nudges, shown last), or undo it."""
    now = now or utcnow()
    ensure_their_invitee(invitation, leader)
    if is_own_invitation(invitation, leader):
        raise InvalidState("That's your own invitation, so there's nobody to chase.")
    if invitation.dont_chase == dont_chase:
        raise InvalidState(
            f"{invitation.first_name} is already marked {'not to be chased' if dont_chase else 'to be chased'}."
        )
    if dont_chase and invitation.state not in CHASEABLE:
        raise InvalidState(f"{invitation.first_name} has nothing left to be chased for.")
    reason = (reason or "").strip()[:MAX_NOTE]
    invitation.dont_chase = dont_chase
    note = LeaderNote(
        invitation_id=invitation.id,
        leader_id=leader.id,
        kind=NoteKind.DONT_CHASE if dont_chase else NoteKind.CHASE_AGAIN,
        text=reason,
        at=now,
    )
    db.session.add(note)
    audit.record("leader.dont_chase" if dont_chase else "leader.chase_again", actor=leader, invitation_id=invitation.id)
    db.session.flush()
    return note
