"""A real redis-server per test (no persistence), killed and restarted at will."""

from tests.redis_server import redis_server, redis_url

__all__ = ["redis_server", "redis_url"]
