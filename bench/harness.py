"""Shared pieces for the benchmarks: a gunicorn server on a fresh database, and a closed-loop load generator."""

from __future__ import annotations

import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from tests.support.servers import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent


def bench_config(database_url: str) -> dict:
    """Testing settings (no CSRF, mail to memory) on the given database, with the rate limiter on as in
    production (its in-process store; limits far above what the load reaches), so its cost is measured too."""
    from config import TestingConfig, settings_of

    config = settings_of(TestingConfig)
    config.update(
        DATABASE_URL=database_url,
        TESTING=False,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        CHECKIN_RATE_LIMIT="1000000 per minute",
        SIGNIN_RATE_LIMIT="1000000 per minute",
        LINK_LOOKUP_RATE_LIMIT="1000000 per minute",
    )
    return config


WORKERS = 2  # gunicorn sync workers, the same for every server a run measures (2 cores here)


def fresh_database(kind: str, postgres_url: str | None) -> str:
    """A new empty database with the schema: a SQLite file, or a wiped PostgreSQL schema."""
    from sqlalchemy import text

    import app.models
    from app.core.db import Base, db
    from app.factory import create_app
    from config import normalise_database_url

    if kind == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    else:
        if not postgres_url:
            raise SystemExit("PostgreSQL benchmarks need --postgres-url (or BENCH_POSTGRES_URL)")
        url = normalise_database_url(postgres_url)
    app = create_app(bench_config(url))
    with app.app_context():
        if kind == "postgres":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        Base.metadata.create_all(db.engine)
        db.engine.dispose()
    return url


def cpu_seconds(pids) -> float | None:
    """User + system CPU time used so far by these processes (Linux /proc); one that has ended counts nothing, and
    None if one can't be read (another machine's, or not ours)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        except PermissionError:
            return None
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


class Server:
    """gunicorn running bench/bench_app.py (or `app`, e.g. the floor) against DATABASE_URL, with N sync workers."""

    def __init__(self, database_url: str, workers: int = WORKERS, app: str = "bench.bench_app:app"):
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # On PostgreSQL the server's connections carry a name of their own, so that the database's own work for
        # this server (its backends' CPU) can be told apart from another server's on the same database.
        self.application_name = f"bench-{self.port}"
        self.database_url = database_url
        if database_url.startswith("postgresql"):
            joiner = "&" if "?" in database_url else "?"
            database_url = f"{database_url}{joiner}application_name={self.application_name}"
        env = {**os.environ, "BENCH_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
        self.log_path = Path(tempfile.mkdtemp()) / "gunicorn.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--backlog",
                    "2048",
                    "--timeout",
                    "120",
                    "--log-level",
                    "warning",
                    app,
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        try:
            wait_until_serving(self.url + "/ping", self.process, self.log_path)
        except BaseException:
            self.stop()
            raise

    def worker_cpu_seconds(self) -> float:
        """User + system CPU time used so far by the server's worker processes (Linux /proc)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return cpu_seconds(children) or 0.0

    def database_cpu_seconds(self) -> float | None:
        """User + system CPU time used so far by the PostgreSQL backends serving this server's connections, when
        the database runs on this machine (its processes readable in /proc); None on SQLite (the database's work
        is inside the workers, and counted there) or where it can't be read. A backend that ends between two
        readings takes its time with it: the app keeps its connections open in a pool, so few do."""
        if not self.database_url.startswith("postgresql"):
            return None
        import psycopg

        conninfo = self.database_url.replace("postgresql+psycopg://", "postgresql://")
        try:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                pids = [
                    row[0]
                    for row in connection.execute(
                        "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (self.application_name,)
                    )
                ]
        except psycopg.Error:
            return None
        return cpu_seconds(pids)

    def measure(self, jobs: list, concurrency: int, ok_statuses=(200, 302)) -> dict:
        """Run the jobs and sum them up, with the workers' CPU per request and, on PostgreSQL, the database's."""
        before, database_before = self.worker_cpu_seconds(), self.database_cpu_seconds()
        result = run_load(self.url, jobs, concurrency, ok_statuses=ok_statuses)
        cpu = self.worker_cpu_seconds() - before
        database_after = self.database_cpu_seconds()
        summary = result.summary()
        requests = max(result.requests, 1)
        summary["server_cpu_ms_per_request"] = round(cpu * 1000 / requests, 2)
        if database_before is not None and database_after is not None:
            database = max(database_after - database_before, 0.0)
            summary["database_cpu_ms_per_request"] = round(database * 1000 / requests, 2)
            summary["app_and_database_cpu_ms_per_request"] = round((cpu + database) * 1000 / requests, 2)
        return summary

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


@dataclass
class Result:
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def summary(self, baseline_rps: float | None = None) -> dict:
        lat = sorted(self.latencies)

        def pct(p: float) -> float:
            return round(lat[min(int(len(lat) * p), len(lat) - 1)] * 1000, 2) if lat else 0.0

        rps = self.requests / self.seconds if self.seconds else 0.0
        out = {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "throughput_rps": round(rps, 1),
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }
        if baseline_rps:
            out["ratio_to_baseline"] = round(rps / baseline_rps, 3)
        return out


def run_load(base_url: str, jobs: list, concurrency: int, ok_statuses=(200, 302)) -> Result:
    """Each job is (method, path, body bytes | None, headers dict) or a callable(conn) -> status.
    `concurrency` threads with keep-alive connections take jobs from a shared queue until it is empty."""
    parts = urlsplit(base_url)
    result = Result()
    lock = threading.Lock()
    queue = list(reversed(jobs))

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while True:
            with lock:
                if not queue:
                    break
                job = queue.pop()
            started = time.perf_counter()
            try:
                if callable(job):
                    status = job(conn)
                else:
                    method, path, body, headers = job
                    conn.request(method, path, body=body, headers=headers or {})
                    response = conn.getresponse()
                    response.read()
                    status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            elapsed = time.perf_counter() - started
            with lock:
                result.requests += 1
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status not in ok_statuses:
                    result.errors += 1
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result
