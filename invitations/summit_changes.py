"""Changing the summit: places a raised capacity frees go to the waiting list, and a new time or place
is sent to every registered delegate as an updated calendar entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.core import audit
from app.core.db import db, utcnow
from app.core.errors import Conflict, ValidationFailed
from app.core.summit import settings as summit_settings
from app.core.summit.models import Summit
from app.core.timefmt import span, when
from invitations.mailing import calendar_links, summit_ics_attachment, tell
from invitations.models import Invitation, InvitationState
from invitations.waitlist import fill_from_waitlist

S = InvitationState


def configure_summit(**settings) -> Summit:
    """Change the summit's settings; places a raised capacity frees go straight to the waiting list."""
    return change_summit(**settings).summit


@dataclass(frozen=True)
class SummitSetUp:
    name: str
    venue: str
    address: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    target: int
    signatory_name: str = ""
    signatory_role: str = ""
    sender_email: str = ""


def set_up_summit(settings: SummitSetUp, *, actor=None) -> Summit:
    """The first set-up, from a fresh server's set-up page: the same path as `summit configure`, with what a new
    summit must have (at least one place, a target within the capacity), and only while there is no summit."""
    summit_settings.lock_for_creation()
    if summit_settings.find_summit() is not None:
        raise Conflict(
            "The summit was set up a moment ago, perhaps in another tab. Its settings are on the Summit page."
        )
    if settings.capacity < 1:
        raise ValidationFailed("The capacity must be at least 1 place.", field="capacity")
    if settings.target > settings.capacity:
        raise ValidationFailed(
            f"The target ({settings.target}) can't be more than the capacity ({settings.capacity}).", field="target"
        )
    if settings.ends_at <= settings.starts_at:
        raise ValidationFailed("The summit must end after it starts.", field="ends_at")
    summit = configure_summit(**{name: getattr(settings, name) for name in SummitSetUp.__dataclass_fields__})
    audit.record(
        "summit.set_up",
        actor=actor,
        name=summit.name,
        when=span(summit.starts_at, summit.ends_at),
        venue=summit.venue,
        capacity=summit.capacity,
        target=summit.target,
    )
    return summit


@dataclass(frozen=True)
class SummitChange:
    summit: Summit
    changes: list[list[str]]  # [label, before, after] in words: [["When", "Wednesday 14 October, 9:30am–4:30pm", …]]
    notified: int  # registered delegates emailed the updated calendar entry


# What an organiser's edit of the summit records besides the time and place (which change_summit compares and
# tells delegates about): each as (attribute, the words the audit log uses).
AUDITED_SETTINGS = (
    ("capacity", "capacity"),
    ("target", "target"),
    ("offer_hold_hours", "hours an offer is held"),
    ("name", "name"),
    ("tagline", "line on why it matters"),
    ("registration_opens_at", "registration opening"),
    ("registration_closes_at", "registration closing"),
    ("signatory_name", "signatory"),
    ("signatory_role", "signatory's role"),
    ("sender_email", "sender address"),
    ("leaders_may_nudge_unsent", "leaders may nudge before the invitation is sent"),
)


def _setting_words(value) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return when(value) if isinstance(value, datetime) else str(value)


def edit_summit(*, actor, **settings) -> SummitChange:
    """An organiser's edit on the Summit page: change_summit, and one audit event that says what changed (the time
    and place, and each of AUDITED_SETTINGS from before to after) and how many delegates were told."""
    current = summit_settings.find_summit()
    before = {attr: getattr(current, attr, None) for attr, _ in AUDITED_SETTINGS}
    outcome = change_summit(**settings)
    changed = [
        [label, _setting_words(before[attr]), _setting_words(getattr(outcome.summit, attr))]
        for attr, label in AUDITED_SETTINGS
        if current is not None and before[attr] != getattr(outcome.summit, attr)
    ]
    audit.record("summit.configured", actor=actor, changes=outcome.changes, settings=changed, notified=outcome.notified)
    return outcome


def change_summit(**settings) -> SummitChange:
    """As configure_summit; and when the time or place moves, a higher calendar SEQUENCE and an email with the
    updated .ics (METHOD:REQUEST, same UID) to every registered delegate, in the same transaction."""
    current = summit_settings.find_summit()
    before = None
    if current is not None:
        # Lock before reading "before", so a concurrent change can't slip between the comparison and the write.
        current = db.session.scalars(select(Summit).where(Summit.id == current.id).with_for_update()).one()
        db.session.refresh(current)
        before = _summit_time_and_place(current)
    summit = summit_settings.configure_summit(**settings)
    fill_from_waitlist(summit, utcnow())
    after = _summit_time_and_place(summit)
    changes = [
        [label, before[label][1], after[label][1]]
        for label in after
        if before is not None and before[label][0] != after[label][0]
    ]
    notified = 0
    if changes:
        summit.ics_sequence += 1
        db.session.flush()
        notified = _send_summit_changed(summit, changes)
    return SummitChange(summit, changes, notified)


def _summit_time_and_place(summit: Summit) -> dict[str, tuple]:
    """{label: (the values compared, the words shown)} for what calendar entries carry: time and place."""
    place = summit.address if summit.venue in summit.address else f"{summit.venue}, {summit.address}"
    return {
        "When": ((summit.starts_at, summit.ends_at), span(summit.starts_at, summit.ends_at)),
        "Where": ((summit.venue, summit.address), place),
    }


def _send_summit_changed(summit: Summit, changes: list[list[str]]) -> int:
    people = db.session.scalars(
        select(Invitation).where(Invitation.state == S.REGISTERED).order_by(Invitation.id)
    ).all()
    for invitation in people:
        tell(
            invitation,
            "summit_changed",
            f"A change to {summit.name}: please update your diary",
            summit,
            attachments=[summit_ics_attachment(summit, invitation, attendee=True)],
            changes=changes,
            **calendar_links(invitation),
        )
    return len(people)
