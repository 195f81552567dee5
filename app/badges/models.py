"""Wallet passes to mark inactive at Google: written in the transaction that ended the person's place, sent by the
mail worker's scheduled steps (app/badges/wallet_updates.py)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, enum_column, utcnow


class WalletUpdateStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    DONE = "done"
    FAILED = "failed"


class WalletPassUpdate(Base):
    """One Google Wallet pass to set to a state (INACTIVE). It names no one: the object id is the issuer id and the
    pass's serial, a hash (app.badges.wallet.serial_for), so erasing a person leaves nothing here to erase."""

    __tablename__ = "wallet_pass_update"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Once per pass: a place that ended stays ended (registering again makes a new pass).
    object_id: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="INACTIVE")
    status: Mapped[WalletUpdateStatus] = mapped_column(
        enum_column(WalletUpdateStatus), default=WalletUpdateStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    # "absent" when Google had no such pass (it was never saved), the refusal when one failed.
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
