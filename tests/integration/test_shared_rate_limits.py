"""Rate limits hold across gunicorn workers when the counters live in Redis; the per-process memory:// store
holds with one worker process (threads are fine) and, the control, does not with several."""

from __future__ import annotations

import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from app.core.db import db
from tests.support import factories as f
from tests.support.apps import make_app
from tests.support.redis_store import REDIS_URL
from tests.support.servers import ServedApp

SIGNIN_LIMIT, LINK_LIMIT = 10, 20  # the promised defaults, as in config.py
ATTEMPTS = 40


def served_settings(tmp_path, storage_uri: str, prefix: str) -> tuple[dict, str]:
    """The settings for a server with rate limits on, over a database with one organiser (and their address)."""
    app = make_app("sqlite", tmp_path)
    with app.app_context():
        f.summit()
        organiser_email = f.user().email
        db.engine.dispose()
    # The amounts are the defaults; the window is stretched so a slow machine can't start a new one mid-test.
    return {
        "DATABASE_URL": app.config["DATABASE_URL"],
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": storage_uri,
        "RATELIMIT_KEY_PREFIX": prefix,
        "SIGNIN_RATE_LIMIT": f"{SIGNIN_LIMIT} per 10 minutes",
        "LINK_LOOKUP_RATE_LIMIT": f"{LINK_LIMIT} per 10 minutes",
    }, organiser_email


def wrong_sign_ins(server: ServedApp, email: str) -> tuple[Counter, set]:
    """ATTEMPTS wrong passwords, 8 at a time, so that every worker takes some."""
    body = urlencode({"email": email, "password": "not the password"}).encode()
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: server.post("/sign-in", body), range(ATTEMPTS)))
    return Counter(status for status, _ in answers), {pid for _, pid in answers}


def bad_link_lookups(server: ServedApp) -> tuple[Counter, set]:
    """ATTEMPTS look-ups of links that don't exist. The first few go 4 at a time, to reach every worker; the
    rest one at a time, because a miss is counted after its answer: look-ups in flight together at the limit
    each see room for one more (a small overshoot, bounded by the requests in flight)."""

    def lookup(_):
        return server.get(f"/i/{secrets.token_urlsafe(33)}")

    spread = LINK_LIMIT // 2
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lookup, range(spread)))
    answers += [lookup(n) for n in range(ATTEMPTS - spread)]
    return Counter(status for status, _ in answers), {pid for _, pid in answers[:spread]}


def test_with_redis_four_workers_share_one_count(tmp_path, redis_keys):
    client, prefix = redis_keys
    settings, email = served_settings(tmp_path, REDIS_URL, prefix)
    with ServedApp(settings, workers=4, log_dir=tmp_path) as server:
        sign_ins, sign_in_workers = wrong_sign_ins(server, email)
        lookups, lookup_workers = bad_link_lookups(server)

    assert any(client.scan_iter(match=f"*{prefix}*"))  # the counters are in Redis

    assert len(sign_in_workers) >= 2 and len(lookup_workers) >= 2  # the requests really were spread
    assert sign_ins == {401: SIGNIN_LIMIT, 429: ATTEMPTS - SIGNIN_LIMIT}
    assert lookups == {404: LINK_LIMIT, 429: ATTEMPTS - LINK_LIMIT}


def test_with_memory_one_worker_with_threads_holds_the_limit(tmp_path):
    """`make run`'s shape (one process, several threads): the in-process store is shared by its threads."""
    settings, email = served_settings(tmp_path, "memory://", "one-process")
    with ServedApp(settings, workers=1, threads=4, log_dir=tmp_path) as server:
        sign_ins, _ = wrong_sign_ins(server, email)
        lookups, _ = bad_link_lookups(server)

    assert sign_ins == {401: SIGNIN_LIMIT, 429: ATTEMPTS - SIGNIN_LIMIT}
    assert lookups == {404: LINK_LIMIT, 429: ATTEMPTS - LINK_LIMIT}


def test_control_with_memory_four_workers_each_count_alone(tmp_path):
    """Why production refuses memory:// with several workers: each worker lets through the whole limit."""
    settings, email = served_settings(tmp_path, "memory://", "per-process")
    with ServedApp(settings, workers=4, log_dir=tmp_path) as server:
        sign_ins, sign_in_workers = wrong_sign_ins(server, email)
        lookups, _ = bad_link_lookups(server)

    assert len(sign_in_workers) >= 2
    print(
        f"memory:// with 4 workers: {sign_ins[401]} of {ATTEMPTS} wrong passwords answered 401 (limit {SIGNIN_LIMIT}), "
        f"{lookups[404]} of {ATTEMPTS} bad links 404 (limit {LINK_LIMIT})"
    )
    assert sign_ins[401] > SIGNIN_LIMIT
    assert lookups[404] > LINK_LIMIT
