"""The check-in against its floor, alone and quickly: the ratio the check-in's aim is set in.

    .venv/bin/python -m bench.checkin_floor [--database sqlite|postgres] [--postgres-url URL] [--clients 8] [--rounds 2]

The same servers, seeding and scans as `make bench` (bench/run_all.py), without the rest: gunicorn with the same
sync workers serving bench/floor_app.py (one `INSERT … ON CONFLICT DO NOTHING` through the driver) and the product,
on one fresh database; after a warm-up, rounds of the floor then the check-in (every badge twice plus 10 % forged
codes, a nonce each), interleaved; medians. Prints one JSON object: both rates, both servers' CPU per request, the
check-in's rate as a share of the floor's and its CPU as a multiple of the floor's, and whether each round ended with
exactly one `ok` per delegate. Figures only: nothing passes or fails on time. The PostgreSQL database named is wiped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import threading
from collections import Counter

from bench import checkin
from bench.harness import WORKERS, Server, fresh_database
from bench.run_all import floor_jobs


def run(kind: str, postgres_url: str | None, clients: int, rounds: int) -> dict:
    url = fresh_database(kind, postgres_url)
    codes, token = checkin.seed(url, checkin.DELEGATES)
    floors, scans, correct = [], [], True
    with Server(url, app="bench.floor_app:app") as floor, Server(url) as product:
        logs = (floor.log_path, product.log_path)
        floor.measure([("GET", "/ping", None, None)] * 100, 4)
        checkin.reset(url)
        warm = checkin.scan_jobs(codes[:100], token, Counter(), threading.Lock(), seed_value=7)
        product.measure(warm, 4, ok_statuses=(200,))
        for r in range(rounds):
            jobs = floor_jobs(f"r{r}", len(codes) * 2 + len(codes) // 10)
            floors.append(floor.measure(jobs, clients, ok_statuses=(200,)))
            checkin.reset(url)
            answers: Counter = Counter()
            jobs = checkin.scan_jobs(codes, token, answers, threading.Lock(), seed_value=1000 * r + clients)
            scans.append(product.measure(jobs, clients, ok_statuses=(200,)))
            correct &= answers["ok"] == len(codes) and checkin.attendance_count(url) == len(codes)

    server_errors = [line for path in logs for line in path.read_text().splitlines() if "Error" in line][:5]

    def median(results: list[dict], key: str) -> float:
        return round(statistics.median(r[key] for r in results), 2)

    floor_rps, scan_rps = median(floors, "throughput_rps"), median(scans, "throughput_rps")
    floor_cpu, scan_cpu = median(floors, "server_cpu_ms_per_request"), median(scans, "server_cpu_ms_per_request")
    return {
        "database": "postgresql" if kind == "postgres" else "sqlite",
        "clients": clients,
        "rounds": rounds,
        "gunicorn_workers": WORKERS,
        "load_average": round(os.getloadavg()[0], 2),
        "floor_rps": floor_rps,
        "checkin_rps": scan_rps,
        "ratio_to_floor": round(scan_rps / floor_rps, 3),
        "floor_cpu_ms": floor_cpu,
        "checkin_cpu_ms": scan_cpu,
        "cpu_times_floor": round(scan_cpu / floor_cpu, 2) if floor_cpu else None,
        "checkin_rps_by_round": [r["throughput_rps"] for r in scans],
        "floor_rps_by_round": [r["throughput_rps"] for r in floors],
        "errors": sum(r["errors"] for r in floors + scans),
        "statuses_not_200": [
            {"round": n, "of": kind, **{k: v for k, v in r["statuses"].items() if k != "200"}}
            for kind, results in (("floor", floors), ("check-in", scans))
            for n, r in enumerate(results)
            if set(r["statuses"]) - {"200"}
        ],
        "exactly_one_ok_each": correct,
        "server_errors": server_errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if args.database == "postgres" and not args.postgres_url:
        raise SystemExit("Give --postgres-url or BENCH_POSTGRES_URL (it is wiped).")
    print(json.dumps(run(args.database, args.postgres_url, args.clients, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
