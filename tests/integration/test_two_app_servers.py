"""Scale out: two app servers (two gunicorn processes, on two ports, 4 workers each) on one PostgreSQL and
one Redis behave as one: a registration race spread over both grants exactly the capacity, and the sign-in
limit counts attempts made at either."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from urllib.parse import urlencode

from sqlalchemy import func, select

from app.core.db import db
from invitations.links import token_for
from invitations.models import Invitation, Registration, RegistrationState, WaitlistEntry
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.checks import assert_summit_check_clean
from tests.support.factories import bulk_invitations
from tests.support.pages import REGISTRATION_FORM
from tests.support.redis_store import REDIS_URL
from tests.support.servers import ServedApp, serving_together

CAPACITY, REGISTRANTS, WORKERS_EACH = 25, 80, 4
SIGNIN_LIMIT, ATTEMPTS = 10, 30


def test_two_app_servers_grant_exactly_the_capacity_and_share_the_sign_in_limit(tmp_path, redis_keys):
    _, prefix = redis_keys
    app = make_app("postgres", tmp_path)
    with app.app_context():
        f.summit(capacity=CAPACITY)
        organiser = f.user().email
        tokens = [token_for(db.session.get(Invitation, i)) for i in bulk_invitations(REGISTRANTS)]
        db.session.commit()
        db.engine.dispose()
    settings = {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": prefix,
        "SIGNIN_RATE_LIMIT": f"{SIGNIN_LIMIT} per 10 minutes",
        "LINK_LOOKUP_RATE_LIMIT": "1000 per 10 minutes",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    with serving_together(
        ServedApp(settings, workers=WORKERS_EACH, log_dir=logs), ServedApp(settings, workers=WORKERS_EACH, log_dir=logs)
    ) as (first, second):
        servers = [first, second]
        form = urlencode(REGISTRATION_FORM).encode()

        def register(job: tuple[str, ServedApp]) -> tuple[int, int, str | None]:
            token, server = job
            status, pid = server.post(f"/i/{token}/register", form)
            return status, server.port, pid

        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(register, zip(tokens, cycle(servers), strict=False)))

        body = urlencode({"email": organiser, "password": "not the password"}).encode()
        with ThreadPoolExecutor(max_workers=8) as pool:
            sign_ins = list(pool.map(lambda n: servers[n % 2].post("/sign-in", body), range(ATTEMPTS)))

    statuses = Counter(status for status, _, _ in answers)
    print(f"\nregistration race over two servers: {dict(statuses)}; sign-ins: {Counter(s for s, _ in sign_ins)}")
    # Both servers, and several workers of each, really took part.
    assert {port for _, port, _ in answers} == {first.port, second.port}
    assert len({pid for _, _, pid in answers}) >= 4
    # 302: registered (to their page); 409: the summit is full (with the waiting list offered).
    assert statuses == {302: CAPACITY, 409: REGISTRANTS - CAPACITY}
    with app.app_context():
        confirmed = select(func.count()).where(Registration.state == RegistrationState.CONFIRMED)
        assert db.session.scalar(confirmed) == CAPACITY
        assert db.session.scalar(select(func.count()).select_from(WaitlistEntry)) == 0
        assert_summit_check_clean(app)
        db.engine.dispose()
    # The sign-in limit is one count across both servers: the attempts alternated between them.
    assert Counter(status for status, _ in sign_ins) == {401: SIGNIN_LIMIT, 429: ATTEMPTS - SIGNIN_LIMIT}
