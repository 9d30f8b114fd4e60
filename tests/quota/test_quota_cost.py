"""benchmarks._quota_cost times what it says: every permit and success, through to Redis."""

from __future__ import annotations

import math

from redis.asyncio import Redis

from benchmarks import _quota_cost
from kore_campaign_async._quota.redis_store import RedisLimitStore


async def test_every_success_timed_is_counted_in_redis_by_the_close(redis_url: str) -> None:
    store = RedisLimitStore.from_url(redis_url, timeout=2.0)
    assert await _quota_cost.per_request_us(store, 30) > 0  # closes the store
    observer = Redis.from_url(redis_url)
    try:
        (key,) = await observer.keys("*:pace")
        assert float(await observer.hget(key, "epoch_ok")) == 30
    finally:
        await observer.aclose()


async def test_it_reports_both_stores_and_the_round_trip(redis_url: str) -> None:
    results = await _quota_cost.measure(redis_url, passes=1, rounds=20)
    assert set(results) == {"local", "redis", "ping"}
    assert all(0 < value < math.inf for value in results.values())
