"""`make bench`: the product beside the floor of its own stack, on SQLite and PostgreSQL, in one run.

    .venv/bin/python -m bench.run_all [--postgres-url URL] [--skip-postgres] [--rounds 3]

Every server is gunicorn with the same sync workers (bench.harness.WORKERS), every load comes from the same
closed-loop client (Python threads with keep-alive connections, on the same machine). In each round, at each
concurrency, it measures:

- the constant route: `GET /ping` of bench/floor_app.py, a constant JSON answer (the ceiling);
- the floor: `POST /floor/checkin` of the same tiny app, one `INSERT … ON CONFLICT DO NOTHING` through the
  driver (the least a check-in can cost);
- the product's check-in API: 350 registered delegates, every badge scanned twice plus 10% forged codes.

Then the registration rush (1,000 invitees chase 350 places: open the link, register, join the waiting list
if full) and the two dashboards at 1,000, 10,000 and 50,000 invitations (bench/run_dashboards.py). Each figure is reported as a ratio of the constant
route and of the floor measured in the same run at the same concurrency, with the server's CPU per request
(its workers' user + system time ÷ requests), which is steadier than a rate on a shared machine. Rounds are
interleaved and medians reported. JSON on stdout; a Markdown table on stderr. Figures only: nothing passes
or fails on time. The PostgreSQL database named is wiped first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections import Counter

from bench import checkin, registration_rush
from bench.harness import WORKERS, Server, fresh_database

CONCURRENCIES = (8, 32, 64)
CHECKIN_CONCURRENCIES = (8, 32)
FLOOR_REQUESTS = 1500
FIGURES = ("throughput_rps", "p50_ms", "p95_ms", "p99_ms", "server_cpu_ms_per_request")


def median_of(rounds: list[dict]) -> dict:
    out = dict(rounds[-1])
    for key in FIGURES:
        out[key] = round(statistics.median(r[key] for r in rounds), 2)
    out["errors"] = sum(r["errors"] for r in rounds)
    out["requests"] = sum(r["requests"] for r in rounds)
    out["rounds"] = len(rounds)
    out.pop("statuses", None)
    out.pop("seconds", None)
    out.pop("mean_ms", None)
    return out


def floor_jobs(tag: str, n: int) -> list:
    headers = {"Content-Type": "application/json"}
    return [
        ("POST", "/floor/checkin", json.dumps({"code": f"{tag}-{k}", "event": "summit"}).encode(), headers)
        for k in range(n)
    ]


def ratios(result: dict, references: dict[str, dict]) -> dict:
    for name, ref in references.items():
        result[f"ratio_to_{name}"] = round(result["throughput_rps"] / ref["throughput_rps"], 3)
        if ref["server_cpu_ms_per_request"]:
            result[f"cpu_times_{name}"] = round(
                result["server_cpu_ms_per_request"] / ref["server_cpu_ms_per_request"], 1
            )
    return result


def run_database(kind: str, postgres_url: str | None, rounds: int) -> list[dict]:
    label = "postgresql" if kind == "postgres" else "sqlite"
    url = fresh_database(kind, postgres_url)
    codes, token = checkin.seed(url, checkin.DELEGATES)
    collected: dict[tuple[str, int], list[dict]] = {}
    answers_ok = True
    with Server(url, app="bench.floor_app:app") as floor, Server(url) as product:
        for warm in (floor, product):  # first requests import and connect: not part of any figure
            warm.measure([("GET", "/ping", None, None)] * 100, 4)
        for r in range(rounds):
            for c in CONCURRENCIES:
                ping = floor.measure([("GET", "/ping", None, None)] * FLOOR_REQUESTS, c, ok_statuses=(200,))
                collected.setdefault(("constant", c), []).append(ping)
                insert = floor.measure(floor_jobs(f"r{r}c{c}", FLOOR_REQUESTS), c, ok_statuses=(200,))
                collected.setdefault(("floor", c), []).append(insert)
            for c in CHECKIN_CONCURRENCIES:
                checkin.reset(url)
                answers: Counter = Counter()
                jobs = checkin.scan_jobs(codes, token, answers, threading.Lock(), seed_value=1000 * r + c)
                scans = product.measure(jobs, c, ok_statuses=(200,))
                answers_ok &= answers["ok"] == len(codes) and checkin.attendance_count(url) == len(codes)
                collected.setdefault(("check-in", c), []).append(scans)

    def reference(c: int) -> dict[str, dict]:
        return {"constant": median_of(collected[("constant", c)]), "floor": median_of(collected[("floor", c)])}

    out = []
    for c in CONCURRENCIES:
        for name, title in (("constant", "constant route GET /ping"), ("floor", "floor: one INSERT … ON CONFLICT")):
            out.append({"database": label, "benchmark": title, "concurrency": c, **median_of(collected[(name, c)])})
    for c in CHECKIN_CONCURRENCIES:
        result = {"database": label, "benchmark": "check-in API", "concurrency": c}
        result.update(median_of(collected[("check-in", c)]), correct=answers_ok)
        out.append(ratios(result, reference(c)))

    rush = registration_rush.run(kind, postgres_url, clients=64, workers=WORKERS)
    rush_result = {**rush, "database": label, "benchmark": "registration rush (journeys)", "concurrency": 64}
    out.append(ratios(rush_result, reference(64)))

    from bench.run_dashboards import dashboards

    out.extend(dashboards(kind, postgres_url))
    return out


def markdown(results: list[dict]) -> str:
    head = (
        "| database | benchmark | clients | req/s | p50 ms | p99 ms | server CPU ms/req | × constant | × floor "
        "| CPU × floor | errors | correct |\n|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    rows = [head]
    for r in results:
        rows.append(
            f"| {r['database']} | {r['benchmark']} | {r['concurrency']} | {r['throughput_rps']} | {r['p50_ms']} "
            f"| {r['p99_ms']} | {r['server_cpu_ms_per_request']} | {r.get('ratio_to_constant', '—')} "
            f"| {r.get('ratio_to_floor', '—')} | {r.get('cpu_times_floor', '—')} | {r['errors']} "
            f"| {({True: 'yes', False: 'NO'}).get(r.get('correct'), '—')} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL"))
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    random.seed(1)
    started = time.time()
    results = run_database("sqlite", None, args.rounds)
    if not args.skip_postgres:
        if not args.postgres_url:
            raise SystemExit("Give --postgres-url or BENCH_POSTGRES_URL (it is wiped), or --skip-postgres.")
        results += run_database("postgres", args.postgres_url, args.rounds)
    document = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "gunicorn_sync_workers": WORKERS,
            "load_generator": "Python threads with keep-alive, same machine",
        },
        "seconds": round(time.time() - started, 1),
        "results": results,
    }
    print(json.dumps(document, indent=2))
    print(markdown(results), file=sys.stderr)


if __name__ == "__main__":
    main()
