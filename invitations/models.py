"""Invitations, registrations and the waiting list."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.auth.models import User
from app.core.db import Base, UTCDateTime, enum_column, utcnow


class InvitationState(enum.Enum):
    INVITED = "invited"  # not answered yet
    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    OFFERED = "offered"  # holds a time-limited offer of a freed place
    DECLINED = "declined"
    CANCELLED = "cancelled"  # registered, then gave the place back
    HANDED_ON = "handed_on"  # sent a colleague instead
    REVOKED = "revoked"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def tone(self) -> str:
        return STATE_TONES[self]


STATE_LABELS = {
    InvitationState.INVITED: "Invited",
    InvitationState.REGISTERED: "Registered",
    InvitationState.WAITLISTED: "Waiting list",
    InvitationState.OFFERED: "Place offered",
    InvitationState.DECLINED: "Declined",
    InvitationState.CANCELLED: "Cancelled",
    InvitationState.HANDED_ON: "Handed on",
    InvitationState.REVOKED: "Revoked",
}
STATE_TONES = {
    InvitationState.INVITED: "neutral",
    InvitationState.REGISTERED: "ok",
    InvitationState.WAITLISTED: "warning",
    InvitationState.OFFERED: "warning",
    InvitationState.DECLINED: "neutral",
    InvitationState.CANCELLED: "neutral",
    InvitationState.HANDED_ON: "neutral",
    InvitationState.REVOKED: "error",
}

# A link in one of these states still opens a page the delegate can act on.
LIVE_STATES = frozenset(
    {
        InvitationState.INVITED,
        InvitationState.REGISTERED,
        InvitationState.WAITLISTED,
        InvitationState.OFFERED,
        InvitationState.DECLINED,
        InvitationState.CANCELLED,
    }
)


class Invitation(Base):
    __tablename__ = "invitation"
    __table_args__ = (
        # The dashboard's tally reads this index alone, already in the order it groups by: no table rows, no
        # sort (app/dashboards/organiser_page.py, tally).
        Index(
            "ix_invitation_tally",
            "champion_id",
            "organisation",
            "sector",
            "state",
            "sent_at",
            "opened_at",
            "responded_at",
            "dont_chase",
            "bounced_at",
            "id",
        ),
        # The dashboard's latest bounces, newest first, without reading the invitations that never bounced.
        Index(
            "ix_invitation_bounced_at",
            "bounced_at",
            sqlite_where=text("bounced_at IS NOT NULL"),
            postgresql_where=text("bounced_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique constraint is case-insensitive (invariant 2).
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    job_title: Mapped[str] = mapped_column(String(200), default="")
    sector: Mapped[str] = mapped_column(String(100), default="")
    champion_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    state: Mapped[InvitationState] = mapped_column(
        enum_column(InvitationState), default=InvitationState.INVITED, index=True
    )
    # The public half of the personal link; the other half is an HMAC of it under SECRET_KEY.
    link_selector: Mapped[str] = mapped_column(String(32), unique=True)
    # What the QR badge carries: opaque, unguessable, no look-alike characters.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # Indexed: a handed-on person's page and an erasure find the colleague by it, and deleting an invitation sets
    # it to NULL wherever it points there; without the index each of those reads every invitation.
    substitute_for_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Chasing: organisers' reminders, leaders' nudges, and what the mail provider told us.
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_nudged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dont_chase: Mapped[bool] = mapped_column(default=False, server_default=false())
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The colour band on the badge: delegate, leader, speaker or organiser.
    badge_role: Mapped[str] = mapped_column(String(20), default="delegate", server_default="delegate")
    # When the person's data was erased (on request, or anonymised after the event): a fact, not a name.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Texts on the day (app/texts): the person's UK mobile number in E.164, given by them, and when they stopped texts.
    mobile: Mapped[str | None] = mapped_column(String(16))
    texts_stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The public half of the stop link in their texts (/texts/stop/<token>); the other half is a MAC, as a link's.
    text_stop_selector: Mapped[str | None] = mapped_column(String(16), unique=True)

    champion: Mapped[User | None] = relationship(foreign_keys=[champion_id])
    substitute_for: Mapped[Invitation | None] = relationship(remote_side=[id], foreign_keys=[substitute_for_id])
    registration: Mapped[Registration | None] = relationship(back_populates="invitation", uselist=False)
    waitlist_entry: Mapped[WaitlistEntry | None] = relationship(back_populates="invitation", uselist=False)

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else self.name


class RegistrationState(enum.Enum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"  # passed to a colleague


class Registration(Base):
    __tablename__ = "registration"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), unique=True)
    state: Mapped[RegistrationState] = mapped_column(
        enum_column(RegistrationState), default=RegistrationState.CONFIRMED
    )
    dietary: Mapped[str] = mapped_column(Text, default="")
    access_needs: Mapped[str] = mapped_column(Text, default="")
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    invitation: Mapped[Invitation] = relationship(back_populates="registration")


class WaitlistState(enum.Enum):
    WAITING = "waiting"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    LEFT = "left"


class WaitlistEntry(Base):
    __tablename__ = "waitlist_entry"
    __table_args__ = (Index("ix_waitlist_entry_state_joined", "state", "joined_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), unique=True)
    state: Mapped[WaitlistState] = mapped_column(enum_column(WaitlistState), default=WaitlistState.WAITING)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship(back_populates="waitlist_entry")


class NoteKind(enum.Enum):
    NOTE = "note"
    NUDGE = "nudge"
    DONT_CHASE = "dont_chase"
    CHASE_AGAIN = "chase_again"


class LeaderNote(Base):
    """A leader's conversation with, nudge to, or decision about one of their invitees."""

    __tablename__ = "leader_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    kind: Mapped[NoteKind] = mapped_column(enum_column(NoteKind), default=NoteKind.NOTE)
    text: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    leader: Mapped[User | None] = relationship()


class ImportPreview(Base):
    """An invitee CSV an organiser has checked, kept between the preview and their confirming it (an hour at
    most), so the confirm form carries only this row's random id, never the file."""

    __tablename__ = "import_preview"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The organiser's choice of which column is which, for this file (import_columns.FIELDS or "ignore" each).
    columns: Mapped[list | None] = mapped_column(JSON, default=None)


class ImportLayout(Base):
    """Which column is which in an invitee list with these headings, as an organiser last chose: used for every
    later file with the same headings, whoever uploads it."""

    __tablename__ = "import_layout"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the headings, normalised
    headings: Mapped[list] = mapped_column(JSON, default=list)
    columns: Mapped[list] = mapped_column(JSON, default=list)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ScheduledKind(enum.Enum):
    INVITATION = "invitation"
    REMINDER = "reminder"


class ScheduledStatus(enum.Enum):
    WAITING = "waiting"
    SENT = "sent"
    CANCELLED = "cancelled"


class ScheduledSend(Base):
    """Invitations or reminders an organiser asked to go at a later time, to a group as it will be then: the
    mail worker turns a due row into outbox messages, once (app.core.mail's round signal)."""

    __tablename__ = "scheduled_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[ScheduledKind] = mapped_column(enum_column(ScheduledKind))
    # The group's filter (invitations.audiences.Audience as a dict), applied when it goes.
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[ScheduledStatus] = mapped_column(
        enum_column(ScheduledStatus), default=ScheduledStatus.WAITING, index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # sent or cancelled
    sent_count: Mapped[int | None] = mapped_column()
    sent_by: Mapped[str | None] = mapped_column(String(100))  # the worker that sent it
    # Invitations only: the one-off covering note the organiser typed (their markup), put above each invitation
    # when it goes.
    covering_note: Mapped[str | None] = mapped_column(Text)

    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
