"""The door at nine o'clock: stewards' scanners hammering POST /api/v1/checkin through gunicorn (4 workers).

    .venv/bin/python -m bench.checkin [--database sqlite|postgres|both] [--postgres-url URL] [--clients 8,32]

Seeds ~350 registered delegates and a steward's API token, then for each database and each number of
concurrent scanners (threads with keep-alive connections, like phones at several doors) sends every
badge twice (an `ok`, then an `already_checked_in`) plus 10% forged codes, each scan with its own nonce.
Prints one JSON object per case: throughput, p50/p95/p99 latency, and the answers, which must hold exactly
one `ok` per delegate. PostgreSQL comes from --postgres-url, else BENCH_POSTGRES_URL (never DATABASE_URL: the benchmark wipes its schema);
its public schema is wiped first, as in the other benchmarks. Figures only: nothing here passes or fails on time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

from bench.harness import Server, bench_config, fresh_database

DELEGATES = 350
FORGED_SHARE = 0.1


def seed(url: str, delegates: int) -> tuple[list[str], str]:
    from app.core.auth import credentials
    from app.core.auth.models import Role
    from app.core.db import db
    from app.factory import create_app
    from invitations import journey, people, summit_changes

    app = create_app(bench_config(url))
    with app.app_context():
        # The summit day, as at the door: the check-in API refuses an event that isn't on today.
        now = datetime.now(UTC)
        summit_changes.configure_summit(
            capacity=max(delegates, 350),
            target=300,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=8),
        )
        details = journey.RegistrationDetails(
            name="Bench Delegate", organisation="Suffolk", job_title="Officer", dietary="Vegetarian", access_needs=""
        )
        codes = []
        for n in range(delegates):
            inv = people.create_invitation(
                people.InviteeData(email=f"door{n}@example.org", name=f"Door Delegate {n}", organisation="Suffolk")
            )
            journey.register(inv, details)
            codes.append(inv.code)
        steward = credentials.create_user(
            "steward@bench.example.org", name="Bench Steward", role=Role.STEWARD, password=None
        )
        token = credentials.issue_api_token(steward)
        db.session.commit()
        db.engine.dispose()
    return codes, token


def reset(url: str) -> None:
    """Everyone back outside: no attendance, an empty scan log."""
    from sqlalchemy import delete

    from app.checkin.models import ScanLog
    from app.core.db import db
    from app.factory import create_app
    from fringe_events.models import Attendance

    app = create_app(bench_config(url))
    with app.app_context():
        db.session.execute(delete(Attendance))
        db.session.execute(delete(ScanLog))
        db.session.commit()
        db.engine.dispose()


def attendance_count(url: str) -> int:
    from sqlalchemy import func, select

    from app.core.db import db
    from app.factory import create_app
    from fringe_events.models import Attendance

    app = create_app(bench_config(url))
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Attendance))
        db.engine.dispose()
    return n


def scan_jobs(codes: list[str], token: str, answers: Counter, lock: threading.Lock, seed_value: int) -> list:
    rng = random.Random(seed_value)
    forged = [
        f"NH1-{''.join(rng.choice('23456789ABCDEFGHJKMNPQRSTVWXYZ') for _ in range(27))}"
        for _ in range(int(len(codes) * FORGED_SHARE))
    ]
    first, second = codes[:], codes[:]
    rng.shuffle(first)
    rng.shuffle(second)
    scans = first + second + forged
    rng.shuffle(scans)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def job_for(code: str, n: int):
        body = json.dumps(
            {"code": code, "event": "summit", "nonce": f"bench-{seed_value}-{n}", "method": "camera"}
        ).encode()

        def job(conn):
            conn.request("POST", "/api/v1/checkin", body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            status = json.loads(data)["status"] if response.status == 200 else f"http {response.status}"
            with lock:
                answers[status] += 1
            return response.status

        return job

    return [job_for(code, n) for n, code in enumerate(scans)]


def run(kind: str, postgres_url: str | None, clients: list[int]) -> list[dict]:
    url = fresh_database(kind, postgres_url)
    codes, token = seed(url, DELEGATES)
    results = []
    with Server(url) as server:
        for concurrency in clients:
            reset(url)
            answers: Counter = Counter()
            jobs = scan_jobs(codes, token, answers, threading.Lock(), seed_value=concurrency)
            summary = server.measure(jobs, concurrency, ok_statuses=(200,))
            summary.pop("statuses", None)
            results.append(
                {
                    "benchmark": "check-in API",
                    "database": "postgresql" if kind == "postgres" else "sqlite",
                    "gunicorn_workers": server.workers,
                    "concurrent_scanners": concurrency,
                    "delegates": len(codes),
                    **summary,
                    "answers": dict(sorted(answers.items())),
                    "exactly_one_ok_each": answers["ok"] == len(codes) and attendance_count(url) == len(codes),
                }
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--clients", default="8,32", help="comma-separated numbers of concurrent scanners")
    args = parser.parse_args()
    clients = [int(n) for n in args.clients.split(",") if n.strip()]
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    for kind in kinds:
        if kind == "postgres" and not args.postgres_url:
            print(
                json.dumps(
                    {
                        "benchmark": "check-in API",
                        "database": "postgresql",
                        "skipped": "give --postgres-url or BENCH_POSTGRES_URL",
                    }
                )
            )
            continue
        for result in run(kind, args.postgres_url, clients):
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
