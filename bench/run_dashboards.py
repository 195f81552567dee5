"""The two dashboards at 10,000 invitations and 100 leaders, through gunicorn, for `make bench`."""

from __future__ import annotations

import urllib.parse

from bench.harness import Server, bench_config


def seed_dashboards(url: str, invitations: int = 10_000, leaders: int = 100) -> None:
    from app.core.db import db
    from app.factory import create_app
    from bench.dashboards import seed_invitations, seed_summit_and_staff

    app = create_app(bench_config(url))
    with app.app_context():
        leader_ids = seed_summit_and_staff(leaders)
        seed_invitations(invitations, leader_ids, realistic=True)
        db.engine.dispose()


def session_cookie(base_url: str, email: str, password: str) -> str:
    import http.client

    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    body = urllib.parse.urlencode({"email": email, "password": password}).encode()
    conn.request("POST", "/sign-in", body=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    response = conn.getresponse()
    response.read()
    cookie = response.getheader("Set-Cookie", "")
    conn.close()
    if response.status != 302 or not cookie:
        raise RuntimeError(f"could not sign in as {email}: {response.status}")
    return cookie.split(";", 1)[0]


def dashboards(url: str, concurrency: int = 2, requests: int = 60) -> list[dict]:
    from bench.dashboards import PASSWORD

    seed_dashboards(url)
    results = []
    with Server(url) as server:
        for label, email, path in (
            ("leader page", "leader7@bench.example.org", "/leader"),
            ("organisers' dashboard", "organiser@bench.example.org", "/organiser/"),
        ):
            headers = {"Cookie": session_cookie(server.url, email, PASSWORD)}
            server.measure([("GET", path, None, headers)] * 8, concurrency)  # warm up
            result = server.measure([("GET", path, None, headers)] * requests, concurrency, ok_statuses=(200,))
            result.pop("statuses", None)
            results.append(
                {
                    "benchmark": f"dashboards: {label}",
                    "invitations": 10_000,
                    "leaders": 100,
                    "concurrency": concurrency,
                    **result,
                }
            )
    return results
