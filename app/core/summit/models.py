"""The summit: one row holding the event's facts and the capacity counter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Summit(Base):
    __tablename__ = "summit"
    __table_args__ = (
        # The last line of defence for invariant 1; the gate is the conditional UPDATE in services.
        CheckConstraint("places_taken <= capacity", name="places_within_capacity"),
        CheckConstraint("places_taken >= 0", name="places_not_negative"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("target >= 0", name="target_not_negative"),
        CheckConstraint("offer_hold_hours > 0", name="hold_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tagline: Mapped[str] = mapped_column(Text, default="")
    venue: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(default=350)
    target: Mapped[int] = mapped_column(default=300)
    # Confirmed registrations plus live waiting-list offers.
    places_taken: Mapped[int] = mapped_column(default=0)
    offer_hold_hours: Mapped[int] = mapped_column(default=48)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    # Who signs the emails and the address they come from: empty means the MAIL_FROM_NAME / MAIL_FROM settings.
    signatory_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    signatory_role: Mapped[str] = mapped_column(String(200), default="", server_default="")
    sender_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    # Off: a leader can't nudge someone whose invitation hasn't been sent (they'd get their link from the leader).
    leaders_may_nudge_unsent: Mapped[bool] = mapped_column(default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.places_taken, 0)

    def registration_open(self, now: datetime) -> bool:
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        if self.registration_closes_at and now >= self.registration_closes_at:
            return False
        return True
