"""Personal links: the token behind /i/<token>, the URL that carries it, and replacing it."""

from __future__ import annotations

from datetime import datetime

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.core import audit
from app.core.db import db, utcnow
from app.core.security import (
    calendar_feed_token,
    calendar_selector_from_token,
    link_token,
    new_link_selector,
    selector_from_token,
)
from app.core.urls import external_url
from invitations import transitions
from invitations.models import Invitation, InvitationState


def invitation_for_token(token: str, *, with_places: bool = False) -> Invitation | None:
    """The invitation a link opens; `with_places` reads its registration and waiting-list entry in the same
    statement (for a page that shows them)."""
    selector = selector_from_token(token)
    if selector is None:
        return None
    query = select(Invitation).where(Invitation.link_selector == selector)
    if with_places:
        query = query.options(joinedload(Invitation.registration), joinedload(Invitation.waitlist_entry))
    return db.session.scalars(query).first()


def invitation_for_link(token: str, *, live: bool = True, with_places: bool = False) -> Invitation:
    """The invitation behind a link, for every page under /i/<token>: a 404 for an unknown or revoked link,
    which says nothing about whether anyone else exists; and, when the page needs the link `live`, a 410
    once it has been handed on to a colleague."""
    invitation = invitation_for_token(token, with_places=with_places)
    if invitation is None or invitation.state == InvitationState.REVOKED:
        abort(404)
    if live and invitation.state == InvitationState.HANDED_ON:
        abort(410)
    return invitation


def invitation_for_calendar_feed(token: str) -> Invitation:
    """The invitation behind a calendar feed's token: a 404 unless the token is one we made and its personal
    link still opens the person's pages (a link reissued, handed on or revoked takes its feed with it)."""
    selector = calendar_selector_from_token(token)
    invitation = (
        db.session.scalars(select(Invitation).where(Invitation.link_selector == selector)).first()
        if selector is not None
        else None
    )
    if invitation is None or invitation.state in (InvitationState.REVOKED, InvitationState.HANDED_ON):
        abort(404)
    return invitation


def calendar_token_for(invitation: Invitation) -> str:
    """The token of the person's calendar feed: read-only, and no way into their pages."""
    return calendar_feed_token(invitation.link_selector)


def token_for(invitation: Invitation) -> str:
    return link_token(invitation.link_selector)


def personal_url(invitation: Invitation) -> str:
    return external_url("invitations.home", token=token_for(invitation))


def mark_opened(invitation: Invitation, now: datetime | None = None) -> bool:
    """Record the link's first opening, once: True if this call wrote it (the caller commits), False when it had
    been opened before, which costs nothing (every later view of the page only reads)."""
    if invitation.opened_at is not None:
        return False
    db.will_write()  # the first opening is written; on SQLite it re-reads the invitation under the lock
    if invitation.opened_at is not None:
        return False
    invitation.opened_at = now or utcnow()
    return True


def reissue_link(invitation: Invitation, actor=None) -> Invitation:
    """A new link; the old one stops working at once."""
    transitions.lock(invitation)
    invitation.link_selector = new_link_selector()
    audit.record("invitation.link_reissued", actor=actor, invitation_id=invitation.id)
    db.session.flush()
    return invitation
