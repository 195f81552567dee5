"""The Redis the shared-limit tests use (database 15 of the one at 127.0.0.1:6379), and whether it must be there."""

from __future__ import annotations

import os

REDIS_URL = "redis://127.0.0.1:6379/15"


# CI has Redis (.ci/run makes sure): there a missing server is a failure, not a skip.
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1" or os.environ.get("CI", "").lower() in ("1", "true")
