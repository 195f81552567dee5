"""Fixtures for the integration tests beyond tests/conftest.py's: a Redis key space of the test's own."""

from __future__ import annotations

import uuid

import pytest

from tests.support.redis_store import REDIS_URL, REQUIRE_REDIS


@pytest.fixture
def redis_keys():
    """(client, a key prefix of this test's own) on the Redis at 127.0.0.1:6379; its keys are removed afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=60, socket_connect_timeout=60)
    try:
        client.ping()
    except redis.RedisError as error:
        if REQUIRE_REDIS:
            pytest.fail(f"Redis is required here (CI or REQUIRE_REDIS=1) but unreachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")
    prefix = f"test-{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)
    client.close()
