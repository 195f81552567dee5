"""Browser fixtures: the app served for real on a free port, and headless Chromium at phone size."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.core.db import db
from invitations import links
from tests import factories as f
from tests.conftest import make_app
from tests.servers import InThread

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--headless=new",
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
expect.set_options(timeout=BROWSER_TIMEOUT_MS)  # assertions wait as long as actions (Playwright's own default is 5 s)


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


def _browser_or_skip() -> str:
    if not Path(CHROMIUM_PATH).is_file():
        message = f"Chromium not found at {CHROMIUM_PATH} (set CHROMIUM_PATH)"
        if REQUIRE_BROWSER:
            pytest.fail(f"REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return CHROMIUM_PATH


@pytest.fixture(scope="session")
def browser():
    executable = _browser_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture
def live_server(tmp_path):
    """A real server on a SQLite file, seeded with a summit and two invited delegates.

    CSRF stays on: the browser submits the real forms, token and all.
    """
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    server = LiveServer(url="", app=app)
    with app.app_context():
        f.summit(capacity=10, target=8)
        for key, name in (("ada", "Ada Lovelace"), ("grace", "Grace Hopper")):
            inv = f.invitation(name=name, organisation="Suffolk County Council")
            server.delegates[key] = Delegate(id=inv.id, name=name, token=links.token_for(inv))
    http = make_server("127.0.0.1", 0, app, threaded=True)
    server.url = f"http://127.0.0.1:{http.server_port}"
    stop = InThread(http, name="e2e-live-server")
    yield server
    stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def shot():
    """Save a full-page screenshot of a key step (for looking at the pages, not for asserting)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SHOTS / f"e2e-{name}.png"), full_page=True)

    return take
