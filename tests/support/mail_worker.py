"""A real `flask mail worker` in a process of its own, for the tests of what the worker writes and sends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import PATIENCE_SECONDS
from tests.support.servers import ROOT


class MailWorker:
    """`with MailWorker(app, folder, log_dir) as worker:` a `flask mail worker` process on the app's database,
    writing each email it sends as JSON into `folder`."""

    def __init__(self, app, folder: Path, log_dir: Path):
        self.folder, self.log_path = folder, log_dir / "mail-worker.log"
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SECRET_KEY": app.config["SECRET_KEY"],
            "BASE_URL": app.config["BASE_URL"],
            "MAIL_BACKEND": "file",
            "MAIL_FILE_DIR": str(folder),
            "INSTANCE_DIR": str(log_dir),
            "PYTHONPATH": str(ROOT),
        }
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> MailWorker:
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.1"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def __exit__(self, *exc) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)  # finishes the message in hand, then stops
        try:
            self.process.wait(PATIENCE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(PATIENCE_SECONDS)

    def emails(self, count: int) -> list[dict]:
        """The first `count` emails the worker has written, in the order they were queued, once it has written them."""
        deadline = time.monotonic() + PATIENCE_SECONDS
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the mail worker exited:\n{self.log_path.read_text(errors='replace')}")
            written = sorted(self.folder.glob("*.json")) if self.folder.exists() else []
            if len(written) >= count:
                return [json.loads(path.read_text()) for path in written[:count]]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the mail worker wrote {len(written)} of {count} emails in {PATIENCE_SECONDS} s:\n"
                    f"{self.log_path.read_text(errors='replace')}"
                )
            time.sleep(0.05)
