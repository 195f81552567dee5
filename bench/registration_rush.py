"""The morning the invitations go out: 1,000 invitees chase 350 places through gunicorn.

    .venv/bin/python -m bench.registration_rush [--database sqlite|postgres] [--postgres-url URL]

Each client opens a personal link, registers, and joins the waiting list when told the summit is full.
Prints JSON: throughput, latency percentiles, errors, and the final counts (exactly 350 registered).
"""

from __future__ import annotations

import argparse
import json
import os
import random

from bench.harness import WORKERS, Server, fresh_database

FORM = b"name=Bench+Person&organisation=Suffolk&job_title=Officer&dietary=&access_needs=&consent=y"
HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def seed(url: str, invitees: int, capacity: int) -> list[str]:
    from app.core.db import db
    from app.factory import create_app
    from bench.harness import bench_config
    from invitations import links, people, summit_changes

    app = create_app(bench_config(url))
    with app.app_context():
        summit_changes.configure_summit(capacity=capacity, target=min(capacity, 300))
        tokens = []
        for n in range(invitees):
            inv = people.create_invitation(
                people.InviteeData(email=f"rush{n}@example.org", name=f"Rush {n}", organisation="Suffolk")
            )
            tokens.append(links.token_for(inv))
        db.session.commit()
        db.engine.dispose()
    return tokens


def counts(url: str) -> dict:
    from app.core.db import db
    from app.factory import create_app
    from bench.harness import bench_config
    from invitations.dashboards import summit_status

    app = create_app(bench_config(url))
    with app.app_context():
        status = summit_status()
        db.engine.dispose()
    return status


def register_job(token: str):
    def job(conn):
        conn.request("GET", f"/i/{token}")
        conn.getresponse().read()
        conn.request("POST", f"/i/{token}/register", body=FORM, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        if response.status == 409:  # full: take the offered waiting list
            conn.request("POST", f"/i/{token}/waiting-list", body=b"", headers=HEADERS)
            follow = conn.getresponse()
            follow.read()
            return follow.status
        return response.status

    return job


def run(
    kind: str,
    postgres_url: str | None,
    invitees: int = 1000,
    capacity: int = 350,
    clients: int = 64,
    workers: int = WORKERS,
) -> dict:
    url = fresh_database(kind, postgres_url)
    tokens = seed(url, invitees, capacity)
    random.Random(1).shuffle(tokens)
    with Server(url, workers=workers) as server:
        summary = server.measure([register_job(t) for t in tokens], clients)
    final = counts(url)
    summary.pop("statuses", None)
    summary.update(
        database=kind,
        clients=clients,
        invitees=invitees,
        capacity=capacity,
        registered=final["registered"],
        waitlisted=final["waitlisted"],
        correct=final["registered"] == capacity and final["waitlisted"] == invitees - capacity,
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--clients", type=int, default=64)
    args = parser.parse_args()
    print(json.dumps(run(args.database, args.postgres_url, clients=args.clients)))


if __name__ == "__main__":
    main()
