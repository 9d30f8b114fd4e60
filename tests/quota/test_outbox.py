"""A request paced through Redis makes one round trip: its success rides with the next call."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from redis.asyncio import Redis

from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.redis_store import RedisLimitStore
from kore_campaign_async._quota.store import AccountKey
from kore_campaign_async.testing._redis import RedisServer

KEY = AccountKey("https://kore.example/api", "acct-1")
OTHER = AccountKey("https://kore.example/api", "acct-2")
# Never paced: only the round trips are counted.
SETTINGS = PacingSettings(requests=1_000_000, per=1.0, burst=1_000_000)
HASH = "kca:{https%3A%2F%2Fkore.example%2Fapi|acct-1}:pace"


async def _script_calls(client: Redis) -> int:
    stats = await client.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("evalsha", "eval"))


async def _counted(client: Any, key: str = HASH) -> float:
    """Successes Redis counted on the account (since its last 429)."""
    stored = await client.hgetall(key)
    return float(stored.get(b"epoch_ok", 0.0))


async def test_each_request_makes_one_round_trip_and_every_success_is_counted(
    redis_url: str,
) -> None:
    observer = Redis.from_url(redis_url)
    store = RedisLimitStore.from_url(redis_url, timeout=2.0)
    try:
        await store.bind(KEY, SETTINGS)
        before = await _script_calls(observer)
        for _ in range(50):
            permit = await store.permit(KEY, SETTINGS)
            await store.succeeded(KEY, SETTINGS, permit)
        await store.aclose()  # sends what is still held
        # 50 permits, each carrying the success before it; the last one sent at close.
        assert await _script_calls(observer) - before <= 51
        assert await _counted(observer) == 50
    finally:
        await store.aclose()
        await observer.aclose()


async def test_a_success_no_call_takes_along_is_sent_soon_without_being_awaited(
    redis_url: str,
) -> None:
    observer = Redis.from_url(redis_url)
    async with RedisLimitStore.from_url(redis_url, timeout=2.0) as store:
        try:
            permits = [await store.permit(key, SETTINGS) for key in (KEY, OTHER)]
            await store.succeeded(KEY, SETTINGS, permits[0])
            await store.succeeded(OTHER, SETTINGS, permits[1])
            assert len(store._outbox) == 2  # held: nothing was awaited for them
            for _ in range(200):  # the flush runs on its own, one pass for both accounts
                if len(store._outbox) == 0 and await _counted(observer) == 1:
                    break
                await asyncio.sleep(0.01)
            assert await _counted(observer) == 1
            assert await _counted(observer, HASH.replace("acct-1", "acct-2")) == 1
            assert store._outbox._flush is None  # the flush ended: no task left behind
        finally:
            await observer.aclose()


async def test_successes_held_while_redis_is_down_are_counted_by_the_fallback(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kore_campaign_async.quota")
    store = RedisLimitStore.from_url(redis_server.url, timeout=0.2, retry_every=60.0)
    try:
        first = await store.permit(KEY, SETTINGS)
        redis_server.kill()
        await store.succeeded(KEY, SETTINGS, first)
        await store.succeeded(KEY, SETTINGS, first)
        second = await store.permit(KEY, SETTINGS)  # carries both: Redis down, kept locally
        assert second.granted
        assert not second.shared
        state = store._local.state(KEY)
        assert state is not None
        assert state.epoch_ok == 2  # counted since the (fresh) fallback began
        await store.succeeded(KEY, SETTINGS, second)
    finally:
        await store.aclose()  # the last one too: the fallback, not lost
    state = store._local.state(KEY)
    assert state is not None
    assert state.epoch_ok == 3
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1
