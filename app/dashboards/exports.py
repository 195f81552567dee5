"""The organisers' CSV exports for caterers and the venue: delegates, needs, attendance and follow-ups."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import aliased

from app.core.auth.models import User
from app.core.db import db
from app.core.timefmt import local
from app.dashboards.measures import LIVE, S, warmed_up_query
from fringe_events.models import SUMMIT_EVENT_KEY, Attendance, FringeEvent
from invitations import answers
from invitations.models import Invitation, LeaderNote, NoteKind, Registration, RegistrationState


def _stamp(value: datetime | None) -> str:
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def delegates_rows():
    champion = aliased(User)
    warmed = warmed_up_query()
    questions, answered = answers.answers_by_person()
    rows = db.session.execute(
        select(
            Invitation.id,
            Invitation.name,
            Invitation.email,
            Invitation.organisation,
            Invitation.job_title,
            Invitation.sector,
            func.coalesce(champion.name, ""),
            Registration.registered_at,
            case((warmed.c.invitation_id.is_not(None), literal("yes")), else_=literal("no")),
        )
        .join(
            Registration,
            and_(Registration.invitation_id == Invitation.id, Registration.state == RegistrationState.CONFIRMED),
        )
        .outerjoin(champion, champion.id == Invitation.champion_id)
        .outerjoin(warmed, warmed.c.invitation_id == Invitation.id)
        .where(Invitation.state == S.REGISTERED)
        .order_by(Invitation.name, Invitation.id)
    )
    header = [
        "name",
        "email",
        "organisation",
        "job_title",
        "sector",
        "champion",
        "registered_at",
        "attended_a_fringe_event",
        *(q.label for q in questions),  # a column per registration question, headed by its wording
    ]
    return header, (
        [n, e, o, j, s, c, _stamp(r), w, *(answered.get(i, {}).get(q.id, "") for q in questions)]
        for i, n, e, o, j, s, c, r, w in rows
    )


def needs_rows():
    """For the caterer and the venue: names, organisations and needs; no contact details."""
    rows = db.session.execute(
        select(Invitation.name, Invitation.organisation, Registration.dietary, Registration.access_needs)
        .join(
            Registration,
            and_(Registration.invitation_id == Invitation.id, Registration.state == RegistrationState.CONFIRMED),
        )
        .where(Invitation.state == S.REGISTERED, or_(Registration.dietary != "", Registration.access_needs != ""))
        .order_by(Invitation.name, Invitation.id)
    )
    return ["name", "organisation", "dietary", "access"], (list(row) for row in rows)


def attendance_rows():
    steward = aliased(User)
    rows = db.session.execute(
        select(
            Attendance.event_key,
            func.coalesce(FringeEvent.title, ""),
            Invitation.name,
            Invitation.organisation,
            Attendance.checked_in_at,
            Attendance.method,
            Attendance.walk_in,
            func.coalesce(steward.name, ""),
        )
        .join(Invitation, Invitation.id == Attendance.invitation_id)
        .outerjoin(FringeEvent, FringeEvent.id == Attendance.fringe_event_id)
        .outerjoin(steward, steward.id == Attendance.checked_in_by_id)
        .order_by(
            FringeEvent.starts_at.is_(None), FringeEvent.starts_at, Attendance.event_key, Invitation.name, Invitation.id
        )
    )
    header = ["event", "event_title", "name", "organisation", "checked_in_at", "method", "walk_in", "checked_in_by"]
    return header, (
        [
            key,
            title or ("The summit" if key == SUMMIT_EVENT_KEY else ""),
            name,
            org,
            _stamp(at),
            method.value,
            "yes" if walk_in else "no",
            by,
        ]
        for key, title, name, org, at, method, walk_in, by in rows
    )


NOTE_WORDS = {
    NoteKind.NOTE: "note",
    NoteKind.NUDGE: "nudged",
    NoteKind.DONT_CHASE: "don't chase",
    NoteKind.CHASE_AGAIN: "chase again",
}


def follow_up_rows():
    """Per leader, each invitee: state, last contact, and the leader's notes (two queries)."""
    leader = aliased(User)
    invitees = db.session.execute(
        select(
            Invitation.id,
            leader.name,
            leader.email,
            Invitation.name,
            Invitation.email,
            Invitation.organisation,
            Invitation.state,
            Invitation.sent_at,
            Invitation.last_contact_at,
            Invitation.last_nudged_at,
            Invitation.dont_chase,
        )
        .join(leader, leader.id == Invitation.champion_id)
        .where(LIVE)
        .order_by(leader.name, leader.id, Invitation.name, Invitation.id)
    ).all()
    notes: dict[int, list[str]] = defaultdict(list)
    for invitation_id, kind, text, at in db.session.execute(
        select(LeaderNote.invitation_id, LeaderNote.kind, LeaderNote.text, LeaderNote.at)
        .join(Invitation, Invitation.id == LeaderNote.invitation_id)
        .where(Invitation.champion_id.is_not(None), LIVE)
        .order_by(LeaderNote.at, LeaderNote.id)
    ):
        # A nudge's full message is in the outbox; the follow-up list only says it was sent.
        words = NOTE_WORDS[kind] if kind == NoteKind.NUDGE or not text else f"{NOTE_WORDS[kind]}: {text}"
        notes[invitation_id].append(f"{local(at):%Y-%m-%d} {words}")
    header = [
        "leader",
        "leader_email",
        "invitee",
        "invitee_email",
        "organisation",
        "state",
        "invited_at",
        "last_contact_at",
        "last_nudged_at",
        "dont_chase",
        "notes",
    ]
    return header, (
        [
            ln,
            le,
            name,
            email,
            org,
            state.value,
            _stamp(sent),
            _stamp(contact),
            _stamp(nudged),
            "yes" if dont else "no",
            " | ".join(notes.get(id_, [])),
        ]
        for id_, ln, le, name, email, org, state, sent, contact, nudged, dont in invitees
    )
