"""`make bench`: every benchmark against gunicorn (4 workers), on SQLite and PostgreSQL, as one JSON document.

    .venv/bin/python -m bench.run_all [--postgres-url URL] [--skip-postgres]

(a) baseline: GET /ping, a constant answer with no database: the ceiling of this stack on this machine;
(b) check-in rush: 350 badges, each scanned twice, plus 10% forged codes, from 8 and 32 scanners;
(c) registration rush: 1,000 invitees chase 350 places from 64 clients (one "request" is one delegate's
    journey: open the link, register, and join the waiting list if told the summit is full);
(d) dashboards: the leader's page and the organisers' dashboard with 10,000 invitations and 100 leaders.
Every result has throughput, p50/p95/p99 latency, errors and its ratio to the baseline at the same
concurrency. The PostgreSQL database named is wiped first. Figures only: nothing passes or fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import urllib.parse

from bench import checkin, registration_rush
from bench.harness import Server, bench_config, fresh_database, run_load


def baseline(url: str, concurrency: int, requests: int = 3000) -> dict:
    with Server(url, workers=4) as server:
        run_load(server.url, [("GET", "/ping", None, None)] * 200, concurrency)  # warm up
        result = run_load(server.url, [("GET", "/ping", None, None)] * requests, concurrency, ok_statuses=(200,))
    return {"benchmark": "baseline GET /ping", "concurrency": concurrency, **result.summary()}


def seed_dashboards(url: str, invitations: int = 10_000, leaders: int = 100) -> None:
    from sqlalchemy import insert, select
    from werkzeug.security import generate_password_hash

    from app import create_app
    from app.auth.models import Role, User
    from app.db import db
    from bench.dashboards import ORGANISATIONS, PASSWORD, seed_invitations
    from invitations import services

    app = create_app(bench_config(url))
    with app.app_context():
        services.configure_summit(capacity=350, target=300)
        password_hash = generate_password_hash(PASSWORD)
        db.session.execute(
            insert(User),
            [
                dict(
                    email=f"leader{k}@bench.example.org",
                    name=f"Leader {k:03d}",
                    role="leader",
                    password_hash=password_hash,
                    organisation=ORGANISATIONS[k % len(ORGANISATIONS)],
                )
                for k in range(leaders)
            ]
            + [
                dict(
                    email="organiser@bench.example.org", name="Organiser", role="organiser", password_hash=password_hash
                )
            ],
        )
        leader_ids = list(db.session.scalars(select(User.id).where(User.role == Role.LEADER).order_by(User.id)))
        db.session.commit()
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


def dashboards(url: str, concurrency: int = 4, requests: int = 120) -> list[dict]:
    from bench.dashboards import PASSWORD

    seed_dashboards(url)
    results = []
    with Server(url, workers=4) as server:
        for label, email, path in (
            ("leader page", "leader7@bench.example.org", "/leader"),
            ("organisers' dashboard", "organiser@bench.example.org", "/organiser/"),
        ):
            headers = {"Cookie": session_cookie(server.url, email, PASSWORD)}
            run_load(server.url, [("GET", path, None, headers)] * 8, concurrency)  # warm up
            result = run_load(server.url, [("GET", path, None, headers)] * requests, concurrency, ok_statuses=(200,))
            results.append(
                {
                    "benchmark": f"dashboards: {label}",
                    "invitations": 10_000,
                    "leaders": 100,
                    "concurrency": concurrency,
                    **result.summary(),
                }
            )
    return results


def with_ratio(result: dict, baselines: dict[int, float], concurrency: int) -> dict:
    base = baselines.get(concurrency)
    if base:
        result["ratio_to_baseline"] = round(result["throughput_rps"] / base, 3)
        result["baseline_concurrency"] = concurrency
    return result


def run_database(kind: str, postgres_url: str | None) -> list[dict]:
    label = "postgresql" if kind == "postgres" else "sqlite"
    out = []
    url = fresh_database(kind, postgres_url)
    baselines = {}
    for concurrency in (4, 8, 32, 64):
        result = baseline(url, concurrency)
        baselines[concurrency] = result["throughput_rps"]
        out.append({"database": label, **result})
    for result in checkin.run(kind, postgres_url, [8, 32]):
        out.append(with_ratio(result, baselines, result["concurrent_scanners"]))
    rush = registration_rush.run(kind, postgres_url, clients=64)
    rush["benchmark"] = "registration rush (journeys)"
    rush["database"] = label
    out.append(with_ratio(rush, baselines, 64))
    for result in dashboards(fresh_database(kind, postgres_url)):
        out.append(with_ratio({"database": label, **result}, baselines, result["concurrency"]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    started = time.time()
    results = run_database("sqlite", None)
    if not args.skip_postgres:
        if not args.postgres_url:
            raise SystemExit("Give --postgres-url or BENCH_POSTGRES_URL (it is wiped), or --skip-postgres.")
        results += run_database("postgres", args.postgres_url)
    document = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "gunicorn_workers": 4,
            "load_generator": "Python threads with keep-alive, same machine",
        },
        "seconds": round(time.time() - started, 1),
        "results": results,
    }
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
