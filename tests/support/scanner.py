"""The scanner at a door for browser tests: a fake camera filming a real badge (a .y4m made here), a served app
with a steward and the filmed delegate, a switch that makes the server hang, files a test hands the page from the
app's own origin, and the scanner page opened signed in."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from app.badges.builders import qr_png
from app.checkin.models import ScanLog
from app.core.db import db
from fringe_events.models import Attendance
from tests.support import factories as f
from tests.support.browser import BROWSER_TIMEOUT_MS, PHONE, SHOTS
from tests.support.pages import csrf_from

WIDTH, HEIGHT = 640, 480  # the fake camera's frame


def write_y4m(path: Path, image: Image.Image, frames: int = 10) -> None:
    """YUV4MPEG2, 4:2:0 (jpeg siting): a header, then each frame as FRAME and the Y, U and V planes."""
    ycbcr = image.convert("RGB").resize((WIDTH, HEIGHT)).convert("YCbCr")
    y, cb, cr = ycbcr.split()
    half = (WIDTH // 2, HEIGHT // 2)
    planes = y.tobytes() + cb.resize(half, Image.BOX).tobytes() + cr.resize(half, Image.BOX).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n")
            out.write(planes)


def badge_frame(code: str) -> Image.Image:
    """A badge held up to the camera: its QR (with the quiet zone) on a grey background."""
    import io

    qr = Image.open(io.BytesIO(qr_png(code, box_size=8))).convert("RGB")
    frame = Image.new("RGB", (WIDTH, HEIGHT), (170, 175, 180))
    frame.paste(qr, ((WIDTH - qr.width) // 2, (HEIGHT - qr.height) // 2))
    return frame


class Hang:
    """WSGI middleware: while held, the scanner's calls to the server (/checkin/…) hang, as a server does
    that has stopped answering while the wifi is fine. Released, they carry on (late, as they would)."""

    def __init__(self, app):
        self.app = app
        self.released = threading.Event()
        self.released.set()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/checkin/") and not path.startswith("/checkin/vendor/"):
            self.released.wait(timeout=60)
        return self.app(environ, start_response)


class ServedFiles:
    """WSGI middleware: bytes a test hands the page at /__served-files/<name> (frames for its decoder, say), from the
    app's own origin, the only one the scanner page's Content-Security-Policy lets it fetch from. Each is made when
    asked for, so a hundred frames needn't all be held as bytes at once."""

    PREFIX = "/__served-files/"

    def __init__(self, app):
        self.app = app
        self.files: dict[str, Callable[[], bytes]] = {}

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.PREFIX) and path[len(self.PREFIX) :] in self.files:
            body = self.files[path[len(self.PREFIX) :]]()
            response = Response(body, content_type="application/octet-stream", headers={"Cache-Control": "no-store"})
            return response(environ, start_response)
        return self.app(environ, start_response)


class Door:
    def __init__(
        self,
        url: str,
        app,
        code: str,
        ada_id: int,
        steward_email: str,
        others: list[str],
        gate: Hang,
        files: ServedFiles,
    ):
        self.url, self.app, self.code, self.ada_id, self.steward_email = url, app, code, ada_id, steward_email
        self.others = others  # the other delegates' codes
        self.gate = gate
        self.files = files.files  # name -> a function making its bytes, served at ServedFiles.PREFIX + name

    def hang(self) -> None:
        self.gate.released.clear()

    def recover(self) -> None:
        self.gate.released.set()

    def attendances(self) -> int:
        with self.app.app_context():
            return db.session.scalar(
                select(func.count()).select_from(Attendance).where(Attendance.invitation_id == self.ada_id)
            )

    def methods(self) -> list[str]:
        with self.app.app_context():
            return [a.method.value for a in db.session.scalars(select(Attendance))]

    def log(self) -> list[str]:
        with self.app.app_context():
            return list(db.session.scalars(select(ScanLog.status).order_by(ScanLog.id)))


def signed_in_cookie(app, email: str) -> tuple[str, str]:
    """The session cookie (name, value) of a sign-in through the app's own sign-in form, CSRF token and all, made
    without a browser: none of the scanner's tests is about signing in (the form is driven in a browser by
    tests/e2e/test_first_week.py; where a steward lands, by tests/integration/test_route_roles.py)."""
    client = app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    response = client.post("/sign-in", data={"csrf_token": csrf_from(form), "email": email, "password": f.PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None, "signing in set no session cookie"
    return name, cookie.value


def open_scanner(camera, door, base: str | None = None, email: str | None = None, **context_options):
    browser, _ = camera
    base = base or door.url
    context = browser.new_context(**PHONE, **context_options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    name, value = signed_in_cookie(door.app, email or door.steward_email)
    context.add_cookies([{"name": name, "value": value, "url": base}])
    page = context.new_page()
    # Straight on to the summit's scanner, signed in, so the scanner and its decoder load once.
    page.goto(f"{base}/checkin?event=summit")
    expect(page).to_have_url(re.compile(r"/checkin\?event=summit$"))  # not sent to the sign-in page
    expect(page.locator("#scanner[data-ready=true]")).to_be_attached()
    # Settled, as a steward finds it a moment after opening it: the decoder loaded (its WebAssembly compiled, the
    # slowest the first time a browser sees it) and the page saved for offline use (over plain http, at door.test,
    # there is no service worker). Keys typed while the page is still busy with those can be held up past the
    # handheld scanner's 150 ms pause, which no scanner's keys are.
    page.wait_for_function(
        "() => { const s = document.getElementById('scanner').dataset;"
        " return s.library && (!window.isSecureContext || s.offlineReady); }"
    )
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"scanner-{name}.png"), full_page=False)


# A handheld scanner's burst, sent in one go inside the page: every key's keydown in the same moment, then Enter.
# For tests about what happens to a scan (saved, synced, refused), not about telling a scanner from a person:
# on a loaded machine, keys typed one by one through the browser's remote control can arrive with gaps long
# enough to look like a person typing (tests/js/keystrokes.test.mjs and the handheld tests cover that).
BURST = """(code) => {
  const target = document.activeElement || document.body;
  for (const key of [...code, "Enter"]) {
    target.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
  }
}"""


def scan_burst(page, code: str) -> None:
    """`code` read by a handheld scanner, as one burst of keys ending with Enter."""
    page.evaluate(BURST, code)
