"""A delegate's mobile number and their texts: giving or changing the number, stopping texts and starting them
again, and the short stop link every text carries (/texts/stop/<token>). Services flush, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.core import audit
from app.core.db import db, utcnow
from app.core.errors import ValidationFailed
from app.core.mobile_numbers import NotAUkMobile, uk_mobile
from app.core.security import new_text_stop_selector, text_stop_selector_from_token, text_stop_token
from app.core.urls import external_url
from invitations.models import Invitation


def set_mobile(invitation: Invitation, typed: str) -> None:
    """Keep the number they typed, as E.164, or take it away when they leave it blank. A new number is a fresh
    yes to texts (they were told they can stop them at any time)."""
    typed = (typed or "").strip()
    if not typed:
        invitation.mobile = None
        return
    try:
        number = uk_mobile(typed)
    except NotAUkMobile as problem:
        raise ValidationFailed(str(problem), field="mobile") from None
    if number != invitation.mobile:
        invitation.mobile = number
        invitation.texts_stopped_at = None
    ensure_stop_selector(invitation)


def ensure_stop_selector(invitation: Invitation) -> str:
    if invitation.text_stop_selector is None:
        invitation.text_stop_selector = new_text_stop_selector()
    return invitation.text_stop_selector


def stop_url(invitation: Invitation) -> str:
    """The short link in each text that stops the person's texts."""
    return external_url("texts.stop", token=text_stop_token(ensure_stop_selector(invitation)))


def takes_texts(invitation: Invitation) -> bool:
    return bool(invitation.mobile) and invitation.texts_stopped_at is None and invitation.erased_at is None


def invitation_for_stop_token(token: str) -> Invitation | None:
    selector = text_stop_selector_from_token(token)
    if selector is None:
        return None
    return db.session.scalars(select(Invitation).where(Invitation.text_stop_selector == selector)).first()


def stop_texts(invitation: Invitation, how: str, now: datetime | None = None) -> bool:
    """No more texts to this person; False if they had stopped them already. `how`: "link" or "page"."""
    if invitation.texts_stopped_at is not None:
        return False
    invitation.texts_stopped_at = now or utcnow()
    audit.record("texts.stopped", actor_label="the delegate", invitation_id=invitation.id, how=how)
    db.session.flush()
    return True


def start_texts(invitation: Invitation) -> bool:
    """Texts again, to the number they gave; False if there is no number or texts were not stopped."""
    if invitation.texts_stopped_at is None or not invitation.mobile:
        return False
    invitation.texts_stopped_at = None
    audit.record("texts.started", actor_label="the delegate", invitation_id=invitation.id)
    db.session.flush()
    return True
