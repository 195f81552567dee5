"""Headless Chromium for the browser tests: where it is, how it starts, the phone it pretends to be, how long a
step may take, and the served app the tests drive."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.busy_summit import BusySummit

# Debian's Chromium in its headless build (package chromium-headless-shell, the build Playwright itself runs headless):
# the same engine as the full browser for half its CPU here (the browser tests took 223 s of Chromium's CPU in the
# full one, 113 s in this). CHROMIUM_PATH=/usr/bin/chromium runs them in the full browser, headless.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/lib/chromium/chromium-headless-shell")


REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)


SHOTS = Path(os.environ.get("E2E_SHOTS_DIR", "/tmp/shots"))


# How long a browser step may take before it counts as failed: a page loads in well under a second here,
# but on a loaded machine Chromium can take many seconds, which should make a test slower, not red.
BROWSER_TIMEOUT_MS = 30_000


@dataclass
class Delegate:
    id: int
    name: str
    token: str


@dataclass
class LiveServer:
    url: str
    app: object
    delegates: dict[str, Delegate] = field(default_factory=dict)

    def link(self, key: str, page: str = "") -> str:
        return f"{self.url}/i/{self.delegates[key].token}" + (f"/{page}" if page else "")


@dataclass
class BusyServer:
    """The app served for real, holding the busy summit."""

    url: str
    app: object
    summit: BusySummit


def browser_or_skip() -> str:
    if not Path(CHROMIUM_PATH).is_file():
        message = f"Chromium not found at {CHROMIUM_PATH} (set CHROMIUM_PATH)"
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return CHROMIUM_PATH
