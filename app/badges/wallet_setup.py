"""What organisers are told about the wallet passes' set-up (the dashboard and `summit check`): an Apple certificate
running out within 30 days or already out, and files that can't sign."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from app.badges import apple_wallet, google_wallet


def setup_warnings(config: Mapping, now: datetime | None = None) -> list[str]:
    return apple_wallet.certificate_warnings(config, now) + google_wallet.warnings(config)
