"""The two dashboards as the summit grows: 1,000, 10,000 and 50,000 invitations, through gunicorn.

    .venv/bin/python -m bench.run_dashboards [--sizes 1000,10000,50000] [--postgres-url URL] [--rounds 3]
        [--dashboard-cache-seconds N] [--every-view-after-a-write]

For each size: a fresh database seeded with bulk inserts (100 leaders, so leader7's list is a hundredth of
the invitations: 10, 100, 500 invitees), the constant route (`GET /ping` of bench/floor_app.py) and the
product served side by side by gunicorn with the same sync workers, then interleaved rounds of the
constant route, a leader's page (`/leader`) and the organisers' dashboard (`/organiser/`), medians
reported. The steady figure is the server's CPU per request (its workers' user + system time ÷ requests)
and its ratio to the constant route's in the same run; on PostgreSQL also the database's own CPU for the
product's connections (its backends', read from /proc when the database runs on this machine) and the two
added up ("app + database"); rates and latencies are printed too. JSON on
stdout, a Markdown table on stderr. Figures only: nothing passes or fails on time. `make bench` runs it
on both databases; `make bench-dashboards` on SQLite alone.

The dashboard's figures are kept between views while nothing they come from changes (DASHBOARD_CACHE_SECONDS),
so a plain run measures mostly views that read them. Two ways to measure the view that works them out:
`--dashboard-cache-seconds 0` (nothing kept: what any view cost before they were kept), and
`--every-view-after-a-write` (each dashboard request makes a write first, in a transaction of its own, and so
works the figures out and stores them, the write's cost included: a view after a change).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import urllib.parse

from bench.harness import WORKERS, Server, bench_config, fresh_database

SIZES = (1_000, 10_000, 50_000)
LEADERS = 100
LEADER_EMAIL = "leader7@bench.example.org"
PAGES = (
    ("leader page", LEADER_EMAIL, "/leader"),
    ("organisers' dashboard", "organiser@bench.example.org", "/organiser/"),
)


def seed_dashboards(url: str, invitations: int = 10_000, leaders: int = LEADERS) -> float:
    """Seed `invitations` (realistic states) and `leaders` leaders; returns the seconds it took. On PostgreSQL the
    tables are then vacuumed and analysed, as autovacuum does for a real database soon after such a load: the
    planner then plans with the rows' true numbers (a plan that is cheap only for a table it thinks is empty
    would flatter the figures)."""
    from sqlalchemy import text

    from app.core.db import db
    from app.factory import create_app
    from bench.dashboards import seed_invitations, seed_summit_and_staff

    started = time.perf_counter()
    app = create_app(bench_config(url))
    with app.app_context():
        leader_ids = seed_summit_and_staff(leaders)
        for start in range(0, invitations, 10_000):
            seed_invitations(min(10_000, invitations - start), leader_ids, start=start, realistic=True)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        db.engine.dispose()
    return time.perf_counter() - started


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


def page_bytes(base_url: str, path: str, cookie: str) -> int:
    import http.client

    parts = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    conn.request("GET", path, headers={"Cookie": cookie})
    body = conn.getresponse().read()
    conn.close()
    return len(body)


def _median(rounds: list[dict]) -> dict:
    out = {key: round(statistics.median(r[key] for r in rounds), 2) for key in ("throughput_rps", "p50_ms", "p99_ms")}
    out["server_cpu_ms_per_request"] = round(statistics.median(r["server_cpu_ms_per_request"] for r in rounds), 2)
    for key in ("database_cpu_ms_per_request", "app_and_database_cpu_ms_per_request"):  # PostgreSQL only
        if all(key in r for r in rounds):
            out[key] = round(statistics.median(r[key] for r in rounds), 2)
    out["requests"] = sum(r["requests"] for r in rounds)
    out["errors"] = sum(r["errors"] for r in rounds)
    out["rounds"] = len(rounds)
    return out


def dashboards(
    kind: str = "sqlite",
    postgres_url: str | None = None,
    sizes=SIZES,
    rounds: int = 3,
    requests: int = 20,
    concurrency: int = 2,
) -> list[dict]:
    """Each page at each size, with its CPU per request as a multiple of the constant route's."""
    from bench.dashboards import PASSWORD

    label = "postgresql" if kind == "postgres" else "sqlite"
    out = []
    for size in sizes:
        url = fresh_database(kind, postgres_url)
        seeded = seed_dashboards(url, size)
        with Server(url, app="bench.floor_app:app") as floor, Server(url) as product:
            floor.measure([("GET", "/ping", None, None)] * 200, concurrency)  # imports and connections
            cookies = {email: session_cookie(product.url, email, PASSWORD) for _, email, _ in PAGES}
            for _, email, path in PAGES:
                product.measure([("GET", path, None, {"Cookie": cookies[email]})] * 4, concurrency)
            collected: dict[str, list[dict]] = {}
            for _ in range(rounds):
                ping = floor.measure([("GET", "/ping", None, None)] * 1000, concurrency, ok_statuses=(200,))
                collected.setdefault("constant", []).append(ping)
                for name, email, path in PAGES:
                    jobs = [("GET", path, None, {"Cookie": cookies[email]})] * requests
                    collected.setdefault(name, []).append(product.measure(jobs, concurrency, ok_statuses=(200,)))
            sizes_in_bytes = {name: page_bytes(product.url, path, cookies[email]) for name, email, path in PAGES}
        constant = _median(collected["constant"])
        out.append(
            {"database": label, "benchmark": "constant route GET /ping", "invitations": size, **constant}
            | {"concurrency": concurrency, "workers": WORKERS, "seed_seconds": round(seeded, 1)}
        )
        for name, _, _ in PAGES:
            result = _median(collected[name])
            result["cpu_times_constant"] = round(
                result["server_cpu_ms_per_request"] / max(constant["server_cpu_ms_per_request"], 0.01), 1
            )
            result["bytes"] = sizes_in_bytes[name]
            result["leader_invitees"] = size // LEADERS if name == "leader page" else None
            out.append(
                {"database": label, "benchmark": f"dashboards: {name}", "invitations": size, **result}
                | {"concurrency": concurrency, "workers": WORKERS}
            )
    return out


def markdown(results: list[dict]) -> str:
    rows = [
        "| database | page | invitations | server CPU ms/req | CPU × constant | app + database CPU ms/req "
        "| req/s | p50 ms | p99 ms | bytes | errors |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        rows.append(
            f"| {r['database']} | {r['benchmark']} | {r['invitations']:,} | {r['server_cpu_ms_per_request']} "
            f"| {r.get('cpu_times_constant', '—')} | {r.get('app_and_database_cpu_ms_per_request', '—')} "
            f"| {r['throughput_rps']} | {r['p50_ms']} | {r['p99_ms']} "
            f"| {r.get('bytes', '—')} | {r['errors']} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="invitations, comma-separated")
    parser.add_argument("--postgres-url", default=None, help="also on this PostgreSQL database (it is wiped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=20, help="requests per page per round")
    parser.add_argument(
        "--dashboard-cache-seconds", type=int, default=None, help="the servers' DASHBOARD_CACHE_SECONDS (0: none kept)"
    )
    parser.add_argument(
        "--every-view-after-a-write",
        action="store_true",
        help="each dashboard request makes a write first (no-change UPDATE of the summit), so none reads kept figures",
    )
    args = parser.parse_args()
    # The servers (and this process's configuration) read these from the environment.
    if args.dashboard_cache_seconds is not None:
        os.environ["DASHBOARD_CACHE_SECONDS"] = str(args.dashboard_cache_seconds)
    if args.every_view_after_a_write:
        os.environ["BENCH_WRITE_BEFORE_DASHBOARD"] = "1"
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    started = time.time()
    results = [] if args.skip_sqlite else dashboards("sqlite", None, sizes, args.rounds, args.requests)
    if args.postgres_url:
        results += dashboards("postgres", args.postgres_url, sizes, args.rounds, args.requests)
    document = {
        "dashboard_cache_seconds": os.environ.get("DASHBOARD_CACHE_SECONDS", "default"),
        "every_view_after_a_write": args.every_view_after_a_write,
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg(), "gunicorn_sync_workers": WORKERS},
        "seconds": round(time.time() - started, 1),
        "results": results,
    }
    print(json.dumps(document, indent=2))
    print(markdown(results), file=sys.stderr)


if __name__ == "__main__":
    main()
