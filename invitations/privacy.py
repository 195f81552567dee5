"""UK GDPR for delegates: a copy of their data, erasure on request, and anonymisation after the event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.core import audit
from app.core.db import db, utcnow
from app.core.errors import Conflict, InvalidState
from app.core.mail.links import masked
from app.core.mail.models import Channel, OutboxMessage
from app.core.summit import settings as summit_settings
from invitations import answers, erasure, signals, transitions, waitlist
from invitations.models import LIVE_STATES, Invitation, InvitationState, LeaderNote

S = InvitationState


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_personal_data(invitation: Invitation) -> dict:
    """Everything we hold about one person, as they would ask for it (a subject access request). The layers
    above add their own sections (fringe sign-ups, attendance) through `personal_data_requested`."""
    registration = invitation.registration
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == invitation.id).order_by(OutboxMessage.id)
    ).all()
    notes = db.session.scalars(
        select(LeaderNote).where(LeaderNote.invitation_id == invitation.id).order_by(LeaderNote.at)
    ).all()
    data = {
        "about": f"The personal data {summit_settings.summit_name()} holds about you.",
        "exported_at": utcnow().isoformat(),
        "invitation": {
            "email": invitation.email,
            "name": invitation.name,
            "organisation": invitation.organisation,
            "job_title": invitation.job_title,
            "state": invitation.state.value,
            "champion": invitation.champion.name if invitation.champion else None,
            "sent_at": iso(invitation.sent_at),
            "opened_at": iso(invitation.opened_at),
            "responded_at": iso(invitation.responded_at),
            "decline_reason": invitation.decline_reason or None,
            "in_place_of": invitation.substitute_for.name if invitation.substitute_for else None,
            "mobile": invitation.mobile,
            "texts_stopped_at": iso(invitation.texts_stopped_at),
        },
        "registration": None
        if registration is None
        else {
            "state": registration.state.value,
            "dietary": registration.dietary,
            "access_needs": registration.access_needs,
            "consent_at": iso(registration.consent_at),
            "registered_at": iso(registration.registered_at),
            "cancelled_at": iso(registration.cancelled_at),
        },
        "waiting_list": None
        if invitation.waitlist_entry is None
        else {
            "state": invitation.waitlist_entry.state.value,
            "joined_at": iso(invitation.waitlist_entry.joined_at),
            "offer_expires_at": iso(invitation.waitlist_entry.offer_expires_at),
        },
        "emails": [
            {"subject": m.subject, "written_at": iso(m.created_at), "status": m.status.value}
            for m in messages
            if m.channel == Channel.EMAIL
        ],
        "texts": [
            {
                "to": m.to_phone,
                "text": masked(m.body_text or ""),
                "written_at": iso(m.created_at),
                "status": m.status.value,
            }
            for m in messages
            if m.channel == Channel.SMS
        ],
        "champion_notes": [{"at": iso(n.at), "kind": n.kind.value, "text": n.text} for n in notes],
        "answers": [
            {
                "question": a.question.label,
                "answer": a.option.label if a.option is not None else a.text,
                "answered_at": iso(a.answered_at),
            }
            for a in answers.answers_of(invitation.id)
        ],
    }
    for _receiver, sections in signals.personal_data_requested.send(invitation):
        data.update(sections)
    return data


def erase_on_request(invitation: Invitation, now: datetime | None = None) -> None:
    """The delegate asked us to erase their data: give up anything they hold, then strip it. Someone who
    handed their invitation on holds nothing, but we still hold their name: they can erase it too."""
    now = now or utcnow()
    nothing = "There is nothing left to erase for this invitation."
    transitions.begin(invitation, allowed=LIVE_STATES | {S.HANDED_ON}, refusals={S.REVOKED: nothing})
    if invitation.erased_at is not None:
        raise Conflict(nothing)
    if invitation.state != S.HANDED_ON:
        waitlist.give_up_place(invitation, now)  # the same release every path uses
        invitation.state = S.REVOKED
        signals.person_left.send(invitation, now=now)  # the same release revoking uses
    audit.record("privacy.erased_on_request", actor_label="the delegate", invitation_id=invitation.id)
    erasure.strip(invitation, now)
    db.session.flush()


def anonymise_older_than(days: int, now: datetime | None = None) -> int:
    """After the summit: strip personal data from invitations untouched for `days` days. Counts survive."""
    now = now or utcnow()
    summit = summit_settings.find_summit()
    if summit is not None and summit.ends_at > now:
        raise InvalidState("The summit hasn't happened yet: personal data is kept until it's over.")
    cutoff = now - timedelta(days=days)
    untouched = select(Invitation.id).where(Invitation.updated_at < cutoff, Invitation.erased_at.is_(None))
    transitions.lock_many(db.session.scalars(untouched).all())
    invitations = db.session.scalars(
        select(Invitation).where(Invitation.updated_at < cutoff, Invitation.erased_at.is_(None))
    ).all()
    for invitation in invitations:
        erasure.strip(invitation, now)
    db.session.flush()
    audit.record("privacy.anonymised", actor_label="retention", count=len(invitations), older_than_days=days)
    return len(invitations)
