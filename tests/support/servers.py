"""Servers in processes of their own, for tests and benchmarks: gunicorn serving tests/support/served_app.py (or an
app built on it), and the waiting every server start needs.

Start-up is waited for robustly: any connection error, timeout or non-200 answer is retried until a
generous deadline, so a busy machine makes the test slower, not red; a server that never answers fails
with its own log.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_DEADLINE_SECONDS = 90
# How often a server that is still starting is asked again: a refused connection costs nothing, and a server up is
# used at once (a quarter of a second here was waited out by every start, often twice).
POLL_SECONDS = 0.05
_handed_out: set[int] = set()  # every port free_port() has given


def free_port() -> int:
    """A port nothing listens on, and none this process has given before: servers given their ports before any of
    them starts (serving_together) must not get the same one."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def wait_until_serving(
    url: str,
    process: subprocess.Popen,
    log_path: Path,
    deadline_seconds: float = START_DEADLINE_SECONDS,
    attempt_seconds: float = 10,
) -> None:
    """Return once `url` answers 200. Connection errors, timeouts and other answers are retried until the
    deadline; a server that exits first, or still isn't answering then, fails with what it logged."""
    deadline = time.monotonic() + deadline_seconds
    last = "nothing yet"
    while True:
        if process.poll() is not None:
            raise RuntimeError(
                f"the server exited with {process.returncode} before answering {url}:\n"
                f"{Path(log_path).read_text(errors='replace')}"
            )
        try:
            with urllib.request.urlopen(url, timeout=attempt_seconds) as response:
                if response.status == 200:
                    return
                last = f"HTTP {response.status}"
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out, an error status
            last = repr(error)
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{url} did not answer within {deadline_seconds:.0f} s (last: {last}); the server "
                f"logged:\n{Path(log_path).read_text(errors='replace')}"
            )
        time.sleep(POLL_SECONDS)


class ServedApp:
    """`with ServedApp(settings, workers=4, log_dir=tmp_path) as server:` … `server.post("/sign-in", body)`.

    `app` names another WSGI app built on tests/support/served_app.py (so it keeps /_test/hold), and `env` adds to
    the server's environment."""

    def __init__(
        self,
        settings: dict,
        *,
        log_dir: Path,
        workers: int = 1,
        threads: int = 1,
        app: str = "tests.support.served_app:app",
        env: dict | None = None,
    ):
        self.settings, self.workers, self.threads = settings, workers, threads
        self.app, self.extra_env = app, env or {}
        self.port = free_port()
        self.log_path = Path(log_dir) / f"gunicorn-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ServedApp:
        env = {**os.environ, **self.extra_env, "SERVED_APP_CONFIG": json.dumps(self.settings), "PYTHONPATH": str(ROOT)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--timeout",
                    "120",
                    # The app is made once, before the workers are forked (each worker would otherwise import and
                    # make it again: a second of CPU each). Nothing is connected then, so no worker shares a
                    # connection, and each still counts its own rate limits in memory.
                    "--preload",
                    # No control socket, and a quick exit once stopped: see tests/support/gunicorn_config.py.
                    "--config",
                    "python:tests.support.gunicorn_config",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    self.app,
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_until_every_worker_answers()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, str | None]:
        """(status, pid of the worker that answered), on a new connection, so the kernel picks the worker."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response.status, response.getheader("X-Worker-Pid")
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, str | None]:
        return self.request("GET", path)

    def post(self, path: str, body: bytes) -> tuple[int, str | None]:
        return self.request("POST", path, body)

    def _wait_until_every_worker_answers(self) -> None:
        """First any answer at all, then every worker booted: each holds a slow request (a tenth of a second) while
        the others take theirs; a worker that took two instead is seen on a later try."""
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        seen: set[str] = set()
        with ThreadPoolExecutor(max_workers=2 * self.workers) as pool:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_path.read_text()}")
                try:
                    answers = list(pool.map(lambda _: self.get("/_test/hold?seconds=0.1"), range(2 * self.workers)))
                    seen |= {pid for status, pid in answers if status == 200 and pid}
                except (OSError, http.client.HTTPException):
                    pass  # not listening yet, or a worker still booting: try again
                if len(seen) >= self.workers:
                    return
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"only {len(seen)} of {self.workers} gunicorn workers answered within "
                        f"{START_DEADLINE_SECONDS} s:\n{self.log_path.read_text()}"
                    )
                time.sleep(POLL_SECONDS)


@contextmanager
def serving_together(*servers: ServedApp) -> Iterator[tuple[ServedApp, ...]]:
    """`with serving_together(ServedApp(…), ServedApp(…)) as (first, second):` the servers start at once (each boots
    in a process of its own, so the waits overlap) and all stop at the end; if one fails to start, every one
    that did is stopped and the failure raised."""
    with ExitStack() as stack:
        for server in servers:
            stack.callback(server.stop)  # stopping one that never started, or already stopped, does nothing
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            starts = [pool.submit(server.__enter__) for server in servers]
        for start in starts:
            start.result()
        yield servers


class InThread:
    """`stop = InThread(server)`: serve a socketserver server (Werkzeug's make_server, http.server's) on a
    daemon thread until `stop()`. It looks for a shutdown every 50 ms rather than the standard 0.5 s, which
    every test would otherwise wait at its end."""

    def __init__(self, server, name: str = "test-server"):
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name)
        self.thread.daemon = True
        self.thread.start()

    def __call__(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()


def nginx_binary() -> str | None:
    """nginx, from NGINX_PATH, the PATH, or where Debian's package puts it (/usr/sbin, off a non-root PATH)."""
    import shutil

    for candidate in (os.environ.get("NGINX_PATH"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


class Nginx:
    """`with Nginx(http_block, log_dir=tmp_path) as proxy:` … nginx in the foreground (no daemon, no root needed),
    with everything it writes (pid, logs, temporary files) under `log_dir`. `http_block` is what goes inside
    `http { }`; it listens on `port` (a free_port()) and proxies to a server that answers /_test/hold."""

    def __init__(self, http_block: str, *, log_dir: Path, port: int, binary: str):
        self.port, self.binary = port, binary
        self.prefix = Path(log_dir) / f"nginx-{port}"
        self.log_path = self.prefix / "error.log"
        self.process: subprocess.Popen | None = None
        user = "user root;\n" if os.geteuid() == 0 else ""  # as root, its workers would otherwise become nobody
        temp = "\n".join(
            f"    {kind}_temp_path {self.prefix / (kind + '_temp')};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.config = (
            f"{user}daemon off;\nworker_processes 1;\npid {self.prefix / 'nginx.pid'};\nerror_log {self.log_path} info;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n{temp}\n{http_block}\n}}\n"
        )

    def __enter__(self) -> Nginx:
        self.prefix.mkdir(parents=True, exist_ok=True)
        config_path = self.prefix / "nginx.conf"
        config_path.write_text(self.config)
        with (self.prefix / "stderr.log").open("wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "-p", str(self.prefix), "-e", str(self.log_path), "-c", str(config_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_serving(f"http://127.0.0.1:{self.port}/_test/hold?seconds=0", self.process, self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: a fast shutdown of the master and its worker
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(30)


class JsonHandler(BaseHTTPRequestHandler):
    """A stand-in's request handler: quiet, and answering JSON (with any extra headers)."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict | None = None, headers: dict | None = None):
        data = json.dumps(body or {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class RecordingStandIn:
    """A stand-in for a mail provider's HTTP API on 127.0.0.1, recording what it accepted and refused. `plan`
    decides each request's status (request number -> status), by default `ACCEPTED`. A subclass gives its handler
    (`_handler()`, a BaseHTTPRequestHandler class) and its name."""

    ACCEPTED = 200
    NAME = "stand-in"

    def __init__(self):
        self.accepted: list[dict] = []
        self.rejected: list[tuple[int, str]] = []
        self.requests = 0
        self.plan = lambda n: self.ACCEPTED
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.stop = InThread(self.server, name=self.NAME)
        return self

    def _handler(self):
        raise NotImplementedError
