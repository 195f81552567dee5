"""The badge in a phone's wallet: whose badge has a pass, what the pass says, and its serial (the same for Apple and
Google). The passes themselves are built in apple_wallet.py and google_wallet.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.badges.builders import DEFAULT_ROLE, ROLES
from app.core.summit.models import Summit
from app.core.summit.settings import find_summit
from app.core.timefmt import clock, day, local
from invitations.models import Invitation, InvitationState

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PassFacts:
    """What a wallet pass shows and carries. `code` is the badge's QR payload, exactly as the badge's QR holds it."""

    serial: str
    name: str
    organisation: str
    role_label: str
    code: str
    event: str
    date: str  # Wednesday 14 October
    time: str  # 9:30am–4:30pm
    venue: str
    address: str
    starts_at: datetime
    ends_at: datetime


def serial_for(code: str, registered_at: datetime) -> str:
    """One pass per place and code: the same on every download (so a pass saved twice is one pass), and new when the
    code is reissued or the person registers again after cancelling (their old pass, marked inactive, stays so).
    Not a working link: a hash of the badge code, which the pass carries anyway, and the time of registering."""
    if registered_at.tzinfo is None:
        registered_at = registered_at.replace(tzinfo=UTC)
    microseconds = (registered_at - _EPOCH) // timedelta(microseconds=1)  # exact, as the database keeps it
    seed = f"new-horizons-pass|{code}|{microseconds}"
    return "nh" + hashlib.sha256(seed.encode()).hexdigest()[:30]


def has_pass(invitation: Invitation) -> bool:
    """A wallet pass is a ticket to the summit: only a confirmed place has one (a fringe-only badge stays a page)."""
    return invitation.state == InvitationState.REGISTERED and invitation.registration is not None


def serial_of(invitation: Invitation) -> str | None:
    """The serial of the pass this person's place has (or had): None when they never held a place."""
    registration = invitation.registration
    if registration is None or not invitation.code:
        return None
    return serial_for(invitation.code, registration.registered_at)


def pass_facts(invitation: Invitation, summit: Summit | None = None) -> PassFacts | None:
    """The facts for the person's pass, or None when they have none (no confirmed place, or no summit)."""
    summit = summit or find_summit()
    serial = serial_of(invitation)
    if summit is None or serial is None or not has_pass(invitation):
        return None
    same_day = local(summit.starts_at).date() == local(summit.ends_at).date()
    return PassFacts(
        serial=serial,
        name=invitation.name,
        organisation=invitation.organisation,
        role_label=ROLES.get(invitation.badge_role, ROLES[DEFAULT_ROLE])[0],
        code=invitation.code,
        event=summit.name,
        date=day(summit.starts_at) if same_day else f"{day(summit.starts_at)} – {day(summit.ends_at)}",
        time=f"{clock(summit.starts_at)}–{clock(summit.ends_at)}",
        venue=summit.venue,
        address=summit.address,
        starts_at=summit.starts_at,
        ends_at=summit.ends_at,
    )
