"""Deployed as the README says: nginx in front (the README's own site, its map and log format), gunicorn with 2
workers behind it, TRUSTED_PROXY_HOPS=1, Redis counting the limits, on SQLite and on PostgreSQL. An attacker at
127.0.0.2 and everyone else at 127.0.0.3 (all of 127.0.0.0/8 is this machine): each of the four lock-outs is gone,
the attacker is still stopped, and nginx's access log holds no token."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db
from app.core.mail.models import OutboxMessage
from invitations import links
from invitations.links import calendar_token_for
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.redis_store import REDIS_URL
from tests.support.servers import ROOT, Nginx, ServedApp, free_port, nginx_binary

ATTACKER, INNOCENT = "127.0.0.2", "127.0.0.3"
# The machine that installs Chromium for the browser tests (.ci/run) installs nginx beside it.
REQUIRE_NGINX = any(os.environ.get(name) == "1" for name in ("REQUIRE_NGINX", "REQUIRE_BROWSER")) or os.environ.get(
    "CI", ""
).lower() in ("1", "true")
SCANS = 12


def readme_site(app_port: int, proxy_port: int, access_log: Path) -> str:
    """The README's nginx site, as written there, with three changes a test needs: our gunicorn's port, a plain-HTTP
    port on 127.0.0.1 instead of TLS on 443 (and no redirect from 80), and the access log in the test's folder."""
    readme = (ROOT / "README.md").read_text()
    [site] = re.findall(r"```nginx\n(.*?)```", readme, re.S)
    changes = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "    listen 443 ssl;\n": f"    listen 127.0.0.1:{proxy_port};\n",
        "    ssl_certificate /etc/letsencrypt/live/newhorizons.example.org/fullchain.pem;\n": "",
        "    ssl_certificate_key /etc/letsencrypt/live/newhorizons.example.org/privkey.pem;\n": "",
        "/var/log/nginx/newhorizons.access.log": str(access_log),
    }
    for old, new in changes.items():
        assert site.count(old) == 1, f"the README's nginx site no longer has {old!r}"
        site = site.replace(old, new)
    redirect = site.index("server {\n    listen 80;")
    return site[:redirect]


class Client:
    """Requests to nginx from one loopback address (the socket's source address is bound to it)."""

    def __init__(self, address: str, port: int, workers: set[str]):
        self.address, self.port, self.workers = address, port, workers

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60, source_address=(self.address, 0))
        try:
            sent = dict(headers or {})
            data = None
            if isinstance(body, dict) and sent.get("Content-Type") == "application/json":
                data = json.dumps(body).encode()
            elif body is not None:
                data = urlencode(body).encode()
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            self.last_body = response.read()
            self.workers.add(response.getheader("X-Worker-Pid") or "")
            return response.status
        finally:
            connection.close()

    def get(self, path: str) -> int:
        return self.request("GET", path)

    def post(self, path: str, form: dict, headers: dict | None = None) -> int:
        return self.request("POST", path, form, headers)

    def scan(self, token: str, code: str) -> tuple[int, str | None]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        status = self.request("POST", "/api/v1/checkin", {"code": code, "event": "summit", "confirmed": True}, headers)
        answer = json.loads(self.last_body) if status == 200 else {}
        return status, answer.get("status")


def made_up(page: str = "") -> str:
    return f"/i/{secrets.token_urlsafe(33)}{page}"


@dataclass
class Deployment:
    attacker: Client
    innocent: Client
    organiser_email: str
    leader_email: str
    link: str  # the delegate's personal link's token
    codes: list[str]  # registered people's badge codes
    scanner: str  # a steward's API token
    access_log: Path
    feed: str = ""  # the delegate's calendar feed's token
    emailed: set[str] = field(default_factory=set)
    workers: set[str] = field(default_factory=set)  # whom the outbox holds messages for, once the servers stop


@contextmanager
def deployed(kind: str, tmp_path: Path, prefix: str, hops: int) -> Iterator[Deployment]:
    binary = nginx_binary()
    if binary is None:
        message = "nginx is not installed (apt-get install nginx-light, or set NGINX_PATH)"
        if REQUIRE_NGINX:
            pytest.fail(f"nginx is required here (CI, REQUIRE_NGINX=1 or REQUIRE_BROWSER=1) but {message}")
        pytest.skip(message)
    app = make_app(kind, tmp_path)
    with app.app_context():
        f.summit()
        organiser = f.user(email="olive.organiser@suffolk.example.org")
        leader = f.user(Role.LEADER, email="leo.leader@council.example.org")
        ivy = f.registered(email="ivy.innocent@example.org")
        link, feed = links.token_for(ivy), calendar_token_for(ivy)
        codes = [f.registered().code for _ in range(SCANS)]
        scanner = credentials.issue_api_token(f.user(Role.STEWARD, name="Sam Steward"))
        db.session.commit()
        organiser_email, leader_email = organiser.email, leader.email
        db.engine.dispose()
    # The promised defaults, but for the windows, stretched so that a slow machine can't start a new one mid-test.
    settings = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "TRUSTED_PROXY_HOPS": hops,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"{prefix}-{kind}-{hops}",
        "SIGNIN_RATE_LIMIT": "10 per 10 minutes",
        "LINK_LOOKUP_RATE_LIMIT": "20 per 10 minutes",
    }
    access_log = tmp_path / "access.log"
    proxy_port = free_port()
    with ServedApp(settings, workers=2, log_dir=tmp_path) as server:
        site = readme_site(server.port, proxy_port, access_log)
        with Nginx(site, log_dir=tmp_path, port=proxy_port, binary=binary):
            workers: set[str] = set()  # the pids of the gunicorn workers that answered
            attacker, innocent = Client(ATTACKER, proxy_port, workers), Client(INNOCENT, proxy_port, workers)
            deployment = Deployment(attacker, innocent, organiser_email, leader_email, link, codes, scanner, access_log)
            deployment.workers = workers
            deployment.feed = feed
            yield deployment
    with app.app_context():
        deployment.emailed = set(db.session.scalars(select(OutboxMessage.to_email)))
        db.engine.dispose()


def tallied(figures: list[str]):
    def tally(label: str, statuses: list[int]) -> Counter:
        counted = Counter(statuses)
        figures.append(f"{label}: {len(statuses)} requests, {dict(sorted(counted.items()))}")
        return counted

    return tally


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_behind_nginx_nobody_is_locked_out_and_the_attacker_is_still_stopped(kind, tmp_path, redis_keys):
    _, prefix = redis_keys
    figures: list[str] = []
    tally = tallied(figures)
    with deployed(kind, tmp_path, prefix, hops=1) as site:
        attacker, innocent, link, codes, scanner = site.attacker, site.innocent, site.link, site.codes, site.scanner
        organiser_email, leader_email, access_log = site.organiser_email, site.leader_email, site.access_log
        # 1. Made-up personal links, spread over the pages under /i/, then the delegate's real link and feed.
        pages = ["", "/calendar.ics", "/fringe", "/badge.png", "/register"]
        guesses = tally("attacker, made-up /i/ links", [attacker.get(made_up(pages[n % 5])) for n in range(25)])
        own = [innocent.get(f"/i/{link}"), innocent.get(f"/i/{link}/calendar.ics")]
        own += [attacker.get(f"/i/{link}"), attacker.get(f"/i/{link}/calendar.ics")]  # the same wifi
        tally("delegate's real link and calendar feed (from 127.0.0.3, then 127.0.0.2)", own)
        assert innocent.get(f"/calendar/feed/{site.feed}.ics") == 200  # the subscribed feed's own address
        stopped = tally("attacker, more made-up links", [attacker.get(made_up()) for _ in range(3)])
        assert guesses == {404: 20, 429: 5}
        assert own == [200] * 4
        assert stopped == {429: 3}
        # Two more places a token can stand in a request line: a sign-in link, and a query string.
        logged_too = [innocent.get(f"/sign-in/link/{secrets.token_urlsafe(33)}"), innocent.get(f"/?next=/i/{link}")]
        assert logged_too == [404, 200]

        # 2. Wrong passwords for the organiser's account (naming the other address in a forged X-Forwarded-For,
        # which nginx appends to and the app doesn't believe), then the organiser from the other address.
        forged = {"X-Forwarded-For": INNOCENT}
        wrong = {"email": organiser_email, "password": "not the password"}
        passwords = tally("attacker, wrong passwords", [attacker.post("/sign-in", wrong, forged) for _ in range(15)])
        right = innocent.post("/sign-in", {"email": organiser_email, "password": f.PASSWORD})
        tally("organiser, right password (from 127.0.0.3)", [right])
        assert passwords == {401: 10, 429: 5}
        assert right == 302

        # 3. Asking for links by email, address after address, then another person asking for theirs.
        asked = {}
        for page in ("/lost-link", "/sign-in/email-link"):
            statuses = [attacker.post(page, {"email": f"made.up.{n}@example.org"}) for n in range(12)]
            asked[page] = tally(f"attacker, {page} for made-up addresses", statuses)
        theirs = [
            innocent.post("/lost-link", {"email": "ivy.innocent@example.org"}),
            innocent.post("/sign-in/email-link", {"email": leader_email}),
        ]
        tally("another person's /lost-link and /sign-in/email-link (from 127.0.0.3)", theirs)
        assert asked["/lost-link"] == asked["/sign-in/email-link"] == {200: 10, 429: 2}
        assert theirs == [200, 200]

        # 4. Made-up scanner tokens, then a real scanner, from the attacker's own address too (one venue's wifi).
        bad = [attacker.scan(f"nhs_{secrets.token_urlsafe(32)}", codes[0])[0] for _ in range(25)]
        bad_tokens = tally("attacker, made-up scanner tokens", bad)
        door = [attacker.scan(scanner, code) for code in codes[: SCANS // 2]]
        door += [innocent.scan(scanner, code) for code in codes[SCANS // 2 :]]
        tally("real scanner, 12 scans (6 from 127.0.0.2, 6 from 127.0.0.3)", [status for status, _ in door])
        still = tally("attacker, more made-up tokens", [attacker.scan("nhs_" + "x" * 43, codes[0])[0]])
        assert bad_tokens == {401: 20, 429: 5}
        assert door == [(200, "ok")] * SCANS
        assert still == {429: 1}

    print(f"\nbehind nginx, gunicorn 2 workers, Redis, {kind}:\n  " + "\n  ".join(figures))
    assert len(site.workers - {""}) == 2  # both workers answered, so the counts were shared through Redis
    assert {"ivy.innocent@example.org", leader_email} <= site.emailed  # their emails were queued
    logged = access_log.read_text()
    lines = logged.splitlines()
    print(f"  nginx access log: {len(lines)} lines, e.g. {next(line for line in lines if '/i/[token]' in line)}")
    assert len(lines) >= 25 + 4 + 3 + 2 + 16 + 24 + 2 + 25 + SCANS + 1
    assert sum(f"{ATTACKER} " in line for line in lines) and sum(f"{INNOCENT} " in line for line in lines)
    assert link not in logged and "?[redacted]" in logged
    assert not re.search(r"/i/(?!\[token\])", logged), "a personal link's token in nginx's access log"
    assert not re.search(r"/sign-in/link/(?!\[token\])", logged)
    assert site.feed not in logged and "/calendar/feed/[token]" in logged
    assert scanner not in logged


def test_control_without_trusted_proxy_hops_every_client_is_nginx(tmp_path, redis_keys):
    """What TRUSTED_PROXY_HOPS is for: with it 0 behind nginx, every client is 127.0.0.1, so one attacker's failures
    pause sign-in and link-by-email for everyone. (A real link or scanner token still works: it skips the failures.)"""
    _, prefix = redis_keys
    figures: list[str] = []
    tally = tallied(figures)
    with deployed("sqlite", tmp_path, prefix, hops=0) as site:
        wrong = {"email": site.organiser_email, "password": "not the password"}
        passwords = tally("attacker, wrong passwords", [site.attacker.post("/sign-in", wrong) for _ in range(11)])
        right = site.innocent.post("/sign-in", {"email": site.organiser_email, "password": f.PASSWORD})
        tally("organiser, right password (from 127.0.0.3)", [right])
        asked = [site.attacker.post("/lost-link", {"email": f"made.up.{n}@example.org"}) for n in range(10)]
        tally("attacker, /lost-link for made-up addresses", asked)
        theirs = site.innocent.post("/lost-link", {"email": "ivy.innocent@example.org"})
        tally("another person's /lost-link (from 127.0.0.3)", [theirs])
        guesses = tally("attacker, made-up /i/ links", [site.attacker.get(made_up()) for _ in range(21)])
        own = site.innocent.get(f"/i/{site.link}")
        tally("delegate's real link (from 127.0.0.3)", [own])
    print("\ncontrol, TRUSTED_PROXY_HOPS=0 behind nginx:\n  " + "\n  ".join(figures))
    assert passwords == {401: 10, 429: 1} and right == 429  # the organiser, elsewhere, is refused
    assert asked == [200] * 10 and theirs == 429  # one client's requests stop everyone's
    assert guesses == {404: 20, 429: 1} and own == 200  # a real link skips the failures all the same
