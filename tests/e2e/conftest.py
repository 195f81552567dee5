"""Browser fixtures: the app served for real on a free port, and headless Chromium at phone size."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.security import new_badge_code
from invitations import links
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.browser import (
    BROWSER_TIMEOUT_MS,
    CHROMIUM_ARGS,
    PHONE,
    SHOTS,
    BusyServer,
    Delegate,
    LiveServer,
    browser_or_skip,
)
from tests.support.busy_summit import busy_summit
from tests.support.scanner import Door, Hang, ServedFiles, badge_frame, open_scanner, write_y4m
from tests.support.servers import InThread

expect.set_options(timeout=BROWSER_TIMEOUT_MS)  # assertions wait as long as actions (Playwright's own default is 5 s)


@pytest.fixture(scope="session")
def browser():
    executable = browser_or_skip()
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
def busy_server(tmp_path):
    """A real server (CSRF on) on a SQLite file holding the busy summit (tests/support/busy_summit.py)."""
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        busy = busy_summit()
    http = make_server("127.0.0.1", 0, app, threaded=True)
    stop = InThread(http, name="e2e-busy-server")
    yield BusyServer(url=f"http://127.0.0.1:{http.server_port}", app=app, summit=busy)
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


@pytest.fixture(scope="session")
def camera(browser, tmp_path_factory):
    """Chromium whose camera films a badge. The code is made first, then given to the delegate in each test.
    One for the whole run (in each test process): the tests of several files use it, in any order."""
    code = new_badge_code()
    video = tmp_path_factory.mktemp("camera") / "badge.y4m"
    write_y4m(video, badge_frame(code))
    args = CHROMIUM_ARGS + [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
        # A name that is not localhost, so the page is not a secure context (as plain http at a venue).
        "--host-resolver-rules=MAP door.test 127.0.0.1",
    ]
    # A second browser from the session's Playwright (two Playwright instances can't run in one thread).
    filming = browser.browser_type.launch(executable_path=browser_or_skip(), headless=True, args=args)
    yield filming, code
    filming.close()


@pytest.fixture
def door(tmp_path, camera):
    """A real server (CSRF on) with a summit, a steward, and Ada, whose badge the camera is filming."""
    _, code = camera
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        # The summit is on now: the door is at it (other days are the event tests' business).
        f.summit(capacity=50, starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(hours=8))
        steward = f.user(role=Role.STEWARD, name="Sam Steward", email="sam@staff.example.org")
        ada = f.registered(name="Ada Lovelace")
        ada.organisation = "Analytical Engines"
        ada.code = code
        ada.registration.dietary = "Vegan"
        ada.registration.access_needs = "Step-free access"
        others = [f.registered(name=f"Other Delegate {i}").code for i in range(3)]
        db.session.commit()
        ada_id, email = ada.id, steward.email
    gate = Hang(app)
    files = ServedFiles(gate)
    http = make_server("127.0.0.1", 0, files, threaded=True)
    stop = InThread(http, name="door")
    yield Door(f"http://127.0.0.1:{http.server_port}", app, code, ada_id, email, others, gate, files)
    gate.released.set()
    stop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def phone(camera, door):
    page = open_scanner(camera, door, permissions=["camera"])
    yield page
    page.context.close()
