"""Staff access taken back across 4 gunicorn workers, on SQLite and PostgreSQL: a remember cookie copied before
sign-out, before "sign out everywhere", before a password change and before deactivation is refused afterwards
by every worker (each of which let it in just before), and a deactivated steward's API token is refused on its
very next request, though every worker had just accepted it."""

from __future__ import annotations

import http.client
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.servers import ServedApp

WORKERS = 4
BATCH = 8  # requests at once: enough that every worker takes some
MOST_BATCHES = 30


@dataclass
class Answer:
    status: int
    location: str
    pid: str | None


@dataclass
class Browser:
    """A browser of its own: it keeps the cookies the server sets (and forgets those it deletes)."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def open(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
            body = urlencode(form).encode() if form is not None else None
            if body is not None:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "0" or not morsel.value:
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
            return Answer(response.status, response.getheader("Location") or "", response.getheader("X-Worker-Pid"))
        finally:
            connection.close()

    def get(self, path: str, **kwargs) -> Answer:
        return self.open("GET", path, **kwargs)

    def post(self, path: str, form: dict | None = None) -> Answer:
        return self.open("POST", path, form=form or {})

    def sign_in(self, email: str, password: str = f.PASSWORD) -> Browser:
        answer = self.post("/sign-in", {"email": email, "password": password, "remember": "y"})
        assert answer.status == 302, answer
        assert "remember_token" in self.cookies and "session" in self.cookies
        return self


def on_every_worker(ask) -> list[Answer]:
    """`ask()` (a fresh request each time) sent in batches at once until every worker has answered some."""
    answers: list[Answer] = []
    with ThreadPoolExecutor(max_workers=BATCH) as pool:
        for _ in range(MOST_BATCHES):
            answers += list(pool.map(lambda _: ask(), range(BATCH)))
            if len({a.pid for a in answers}) >= WORKERS:
                break
    assert len({a.pid for a in answers}) == WORKERS, f"only {len({a.pid for a in answers})} workers answered"
    return answers


def replay(port: int, path: str, **cookies: str):
    """A fresh client holding only these copied cookies, asking for `path`."""
    return lambda: Browser(port, dict(cookies)).get(path)


def refused_by_all(answers: list[Answer]) -> bool:
    return all(a.status == 302 and "/sign-in" in a.location for a in answers)


def let_in_by_all(answers: list[Answer]) -> bool:
    return all(a.status == 200 for a in answers)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_copied_remember_cookies_and_api_tokens_are_refused_by_every_worker_once_access_is_taken_back(kind, tmp_path):
    app = make_app(kind, tmp_path)
    with app.app_context():
        f.summit()
        olive = f.user(Role.ORGANISER, name="Olive Organiser").email
        leo = f.user(Role.LEADER, name="Leo Leader").email
        lena = f.user(Role.LEADER, name="Lena Leader").email
        sam_user = f.user(Role.STEWARD, name="Sam Steward")
        sam, sam_id = sam_user.email, sam_user.id
        token = credentials.issue_api_token(sam_user)
        db.session.commit()
        db.engine.dispose()
    bearer = {"Authorization": f"Bearer {token}"}
    logs = tmp_path / "logs"
    logs.mkdir()
    with ServedApp({"DATABASE_URL": app.config["DATABASE_URL"]}, workers=WORKERS, log_dir=logs) as server:
        port = server.port

        # 1. Sign-out: the copy of the laptop's remember cookie stops working everywhere; the phone goes on.
        laptop, phone = Browser(port).sign_in(leo), Browser(port).sign_in(leo)
        copied = laptop.cookies["remember_token"]
        assert let_in_by_all(on_every_worker(replay(port, "/leader", remember_token=copied)))
        assert laptop.post("/sign-out").status == 302
        after_sign_out = on_every_worker(replay(port, "/leader", remember_token=copied))
        assert refused_by_all(after_sign_out)
        assert let_in_by_all(on_every_worker(lambda: Browser(port, dict(phone.cookies)).get("/leader")))

        # 2. Sign out everywhere, from the laptop: the phone's cookies, and copies of them, stop working.
        laptop = Browser(port).sign_in(leo)
        phones_cookie = phone.cookies["remember_token"]
        assert laptop.post("/account/sign-out-everywhere").status == 303
        after_everywhere = on_every_worker(replay(port, "/leader", remember_token=phones_cookie))
        assert refused_by_all(after_everywhere)
        assert refused_by_all(on_every_worker(lambda: Browser(port, dict(phone.cookies)).get("/leader")))

        # 3. A password change: this browser stays signed in, on every worker; the other one doesn't.
        laptop, phone = Browser(port).sign_in(lena), Browser(port).sign_in(lena)
        phones_cookie = phone.cookies["remember_token"]
        new = "a different password"
        changed = laptop.post(
            "/account/password", {"current_password": f.PASSWORD, "new_password": new, "repeat_password": new}
        )
        assert changed.status == 303
        after_password = on_every_worker(replay(port, "/leader", remember_token=phones_cookie))
        assert refused_by_all(after_password)
        assert let_in_by_all(on_every_worker(replay(port, "/leader", **laptop.cookies)))

        # 4. Deactivation: every worker has just let the steward's cookie and token in...
        door = Browser(port).sign_in(sam)
        copied = door.cookies["remember_token"]
        assert let_in_by_all(on_every_worker(replay(port, "/checkin", remember_token=copied)))
        assert let_in_by_all(on_every_worker(lambda: Browser(port).get("/api/v1/checkin/events", headers=bearer)))
        organiser = Browser(port).sign_in(olive)
        assert organiser.post(f"/organiser/team/{sam_id}/deactivate").status == 303
        # ...and the token's very next request is refused, and so is every one after it, on every worker.
        very_next = Browser(port).get("/api/v1/checkin/events", headers=bearer)
        assert very_next.status == 401
        tokens_after = on_every_worker(lambda: Browser(port).get("/api/v1/checkin/events", headers=bearer))
        assert all(a.status == 401 for a in tokens_after)
        after_deactivation = on_every_worker(replay(port, "/checkin", remember_token=copied))
        assert refused_by_all(after_deactivation)
        assert refused_by_all(on_every_worker(lambda: Browser(port, dict(door.cookies)).get("/checkin")))

    print(
        f"\n{kind}, {WORKERS} workers: a copied remember cookie refused {len(after_sign_out)}/{len(after_sign_out)} "
        f"times after sign-out, {len(after_everywhere)}/{len(after_everywhere)} after sign out everywhere, "
        f"{len(after_password)}/{len(after_password)} after a password change, {len(after_deactivation)}/"
        f"{len(after_deactivation)} after deactivation; the API token refused on its very next request and "
        f"{len(tokens_after)}/{len(tokens_after)} times after, by {len({a.pid for a in tokens_after})} workers"
    )
