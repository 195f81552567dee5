"""Fringe events, who signed up for them, and who attended what (the summit included)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.auth.models import User
from app.core.db import Base, UTCDateTime, enum_column, utcnow
from invitations.models import LIVE_STATES, Invitation

SUMMIT_EVENT_KEY = "summit"


class FringeStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class FringeEvent(Base):
    __tablename__ = "fringe_event"
    __table_args__ = (
        # Invariant 1 for fringe events: the conditional UPDATE is the gate, this is the last line.
        CheckConstraint("capacity IS NULL OR places_taken <= capacity", name="places_within_capacity"),
        CheckConstraint("places_taken >= 0", name="places_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str] = mapped_column(String(200), default="")
    host_organisation: Mapped[str] = mapped_column(String(200), default="")
    host_lead: Mapped[str] = mapped_column(String(200), default="")
    venue: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    # An online event's Teams or Zoom link: for the people signed up only, never in a public page or calendar file.
    joining_link: Mapped[str] = mapped_column(String(500), default="", server_default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int | None] = mapped_column()
    places_taken: Mapped[int] = mapped_column(default=0)
    status: Mapped[FringeStatus] = mapped_column(enum_column(FringeStatus), default=FringeStatus.SCHEDULED)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def event_key(self) -> str:
        return f"fringe:{self.id}"

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.places_taken >= self.capacity


class SignupState(enum.Enum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class FringeSignup(Base):
    __tablename__ = "fringe_signup"
    __table_args__ = (UniqueConstraint("invitation_id", "fringe_event_id", name="uq_fringe_signup_person_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    fringe_event_id: Mapped[int] = mapped_column(ForeignKey("fringe_event.id", ondelete="CASCADE"), index=True)
    state: Mapped[SignupState] = mapped_column(enum_column(SignupState), default=SignupState.CONFIRMED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship()
    event: Mapped[FringeEvent] = relationship()


class CheckinMethod(enum.Enum):
    CAMERA = "camera"
    HANDHELD = "handheld"
    MANUAL = "manual"  # name search at the door
    LIST = "list"  # an organiser ticking the attendance list


class Attendance(Base):
    """One person at one event: the summit (event_key 'summit') or a fringe event ('fringe:<id>')."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("invitation_id", "event_key", name="uq_attendance_person_event"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id", ondelete="CASCADE"), index=True)
    event_key: Mapped[str] = mapped_column(String(40), index=True)
    fringe_event_id: Mapped[int | None] = mapped_column(ForeignKey("fringe_event.id", ondelete="CASCADE"), index=True)
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    method: Mapped[CheckinMethod] = mapped_column(enum_column(CheckinMethod), default=CheckinMethod.MANUAL)
    walk_in: Mapped[bool] = mapped_column(default=False)

    invitation: Mapped[Invitation] = relationship()
    checked_in_by: Mapped[User | None] = relationship()


def signed_up_query(fringe_event_id: int):
    """The invitations signed up for a fringe event (confirmed sign-ups, live invitations), as a query to add
    to: the door's expected list, the attendance sheet, and everyone told of a change."""
    return (
        select(Invitation)
        .join(FringeSignup, FringeSignup.invitation_id == Invitation.id)
        .where(
            FringeSignup.fringe_event_id == fringe_event_id,
            FringeSignup.state == SignupState.CONFIRMED,
            Invitation.state.in_(LIVE_STATES),
        )
    )
