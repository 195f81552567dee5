"""A worker killed in the middle of a registration leaves nothing half-made (DESIGN.md, invariant 4): no registration,
no place taken, no email, nothing locked."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
from sqlalchemy import func, select

from app.core.db import db
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import journey, links
from invitations.models import Invitation, InvitationState, Registration
from tests.support import PATIENCE_SECONDS, join_all
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.servers import ServedApp


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sigkill_mid_registration_leaves_no_half_made_registration(kind, tmp_path):
    app = make_app(kind, tmp_path)
    with app.app_context():
        f.summit(capacity=5)
        inv = f.invitation()
        token = links.token_for(inv)
        url = app.config["DATABASE_URL"]
    marker = tmp_path / "inside-transaction"
    body = b"name=Ada+Lovelace&organisation=Suffolk&job_title=&dietary=Vegan&access_needs=&consent=y"
    outcome = {}
    with ServedApp(
        {"DATABASE_URL": url}, log_dir=tmp_path, app="tests.support.fault_app:app", env={"FAULT_MARKER": str(marker)}
    ) as server:

        def post():
            try:
                outcome["status"] = server.post(f"/i/{token}/register", body)[0]
            except Exception as error:
                outcome["error"] = error

        client = threading.Thread(target=post)
        client.start()
        deadline = time.monotonic() + PATIENCE_SECONDS
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"the registration never reached the pause:\n{server.log_path.read_text()}"
        os.kill(int(marker.read_text()), signal.SIGKILL)
        join_all([client])
        assert "error" in outcome and "status" not in outcome  # the delegate saw the connection drop, not a success

    with app.app_context():
        db.session.expire_all()
        assert db.session.get(Invitation, inv.id).state == InvitationState.INVITED
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
        assert db.session.scalar(select(Summit.places_taken)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        # Nothing is left locked: the delegate tries again and gets their place.
        journey.register(db.session.get(Invitation, inv.id), f.details())
        db.session.commit()
        assert db.session.scalar(select(Summit.places_taken)) == 1
        db.engine.dispose()
