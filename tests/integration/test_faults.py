"""Faults: a worker killed mid-registration leaves nothing half-made; the app serves while mail is down."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db import db
from app.mail.models import OutboxMessage
from app.summit.models import Summit
from invitations import services
from invitations.models import Invitation, InvitationState, Registration
from tests import factories as f
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkill_mid_registration_leaves_no_half_made_registration(kind, tmp_path):
    app = make_app(kind, tmp_path)
    with app.app_context():
        f.summit(capacity=5)
        inv = f.invitation()
        token = services.token_for(inv)
        url = app.config["DATABASE_URL"]
    marker = tmp_path / "inside-transaction"
    port = free_port()
    env = {**os.environ, "FAULT_DATABASE_URL": url, "FAULT_MARKER": str(marker), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--timeout", "120", "--bind", f"127.0.0.1:{port}",
         "tests.fault_app:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        body = b"name=Ada+Lovelace&organisation=Suffolk&job_title=&dietary=Vegan&access_needs=&consent=y"
        outcome = {}

        def post():
            try:
                outcome["status"] = urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{port}/i/{token}/register", data=body, method="POST"), timeout=60).status
            except Exception as error:  # noqa: BLE001  (the connection dies with the worker)
                outcome["error"] = error

        client = threading.Thread(target=post)
        client.start()
        deadline = time.time() + 30
        while not marker.exists() and time.time() < deadline:
            time.sleep(0.05)
        assert marker.exists(), "the registration never reached the pause"
        os.kill(int(marker.read_text()), signal.SIGKILL)
        client.join(30)
        assert "status" not in outcome  # the delegate saw the connection drop, not a success
    finally:
        server.terminate()
        server.wait(30)

    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Invitation, inv.id).state == InvitationState.INVITED
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
        assert db.session.scalar(select(Summit.places_taken)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        # Nothing is left locked: the delegate tries again and gets their place.
        services.register(db.session.get(Invitation, inv.id), f.details())
        db.session.commit()
        assert db.session.scalar(select(Summit.places_taken)) == 1
        db.engine.dispose()
