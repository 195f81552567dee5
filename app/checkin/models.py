"""The scan log: every scan, accepted or refused, kept for the organisers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class ScanLog(Base):
    __tablename__ = "scan_log"
    # A scanner's retry carries the same nonce: the first answer is replayed, never a second check-in.
    __table_args__ = (UniqueConstraint("user_id", "nonce", name="uq_scan_log_user_nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"), index=True)
    event_key: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(80))  # as scanned, truncated: forged codes are kept too
    status: Mapped[str] = mapped_column(String(30), index=True)
    invitation_id: Mapped[int | None] = mapped_column(ForeignKey("invitation.id", ondelete="SET NULL"), index=True)
    method: Mapped[str] = mapped_column(String(20), default="camera")
    nonce: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[str] = mapped_column(String(2000), default="")  # the JSON answered, for nonce replays
