"""RedisLimitStore against a real redis-server: atomic permits, pauses, TTLs, breaker, leases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import pytest

from kore_campaign_async import ConfigurationError, RateLimitError
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.rate_limit import PacingSettings, RateLimit
from kore_campaign_async._quota.redis_store import RedisLimitStore
from kore_campaign_async._quota.store import AccountKey, PermitRefused
from kore_campaign_async.testing._redis import RedisServer

KEY = AccountKey("https://kore.example/api", "acct-1")
SETTINGS = PacingSettings(requests=60, per=60.0)
# Quick reconnects, so breaker tests take milliseconds of real time.
FAST = {"timeout": 0.2, "retry_every": 0.05}


@contextlib.asynccontextmanager
async def stores(url: str, count: int, **kwargs: object) -> AsyncIterator[list[RedisLimitStore]]:
    made = [RedisLimitStore.from_url(url, **{**FAST, **kwargs}) for _ in range(count)]
    try:
        yield made
    finally:
        for store in made:
            await store.aclose()


async def test_permits_are_atomic_across_clients(redis_url: str) -> None:
    # A burst of 10 and 100 s between permits: exactly 10 permits exist now, whoever asks.
    settings = PacingSettings(requests=10, per=1000.0, burst=10)
    # A generous timeout: this measures atomicity, not latency, on a possibly busy machine.
    async with stores(redis_url, 4, timeout=2.0) as many:
        # Open every client's 25 connections first: a cold connect is not what this measures.
        await asyncio.gather(*(store.bind(KEY, settings) for store in many for _ in range(25)))
        answers = await asyncio.gather(
            *(store.permit(KEY, settings) for store in many for _ in range(25))
        )
    granted = [answer for answer in answers if answer.granted]
    assert len(granted) == 10
    assert all(answer.shared for answer in answers)
    waits = [answer.wait for answer in answers if not answer.granted]
    assert min(waits) == pytest.approx(1000 / 10 * 1.02, rel=0.01)


async def test_a_pause_reaches_every_client_and_its_waiters(redis_url: str) -> None:
    async with stores(redis_url, 2) as (first, second):
        heard: asyncio.Queue[float] = asyncio.Queue()
        second.watch_pauses(KEY, heard.put_nowait)
        await second.bind(KEY, SETTINGS)
        await asyncio.wait_for(second._subscriber.listening.wait(), 2)
        # A waiter in the second client, parked until the account's pause reaches it.
        waiter = asyncio.ensure_future(asyncio.wait_for(heard.get(), 2))
        permit = await first.permit(KEY, SETTINGS)
        pause = await first.rate_limited(KEY, SETTINGS, 5.0, permit)
        assert pause == pytest.approx(5.0)
        assert await waiter == pytest.approx(5.0, abs=0.1)
        later = await second.permit(KEY, SETTINGS)
        assert not later.granted
        assert later.wait == pytest.approx(5.0, abs=0.2)


async def test_one_429_pauses_for_at_most_the_cap(redis_url: str) -> None:
    async with stores(redis_url, 1) as (store,):
        permit = await store.permit(KEY, SETTINGS)
        assert await store.rate_limited(KEY, SETTINGS, 86_400.0, permit) == pytest.approx(120.0)


async def test_every_key_has_a_ttl(redis_url: str, redis_server: RedisServer) -> None:
    async with stores(redis_url, 1) as (store,):
        permit = await store.permit(KEY, SETTINGS)
        await store.succeeded(KEY, SETTINGS, permit)
        await store.rate_limited(KEY, SETTINGS, 1.0, permit)
        async with store.lease(KEY, "sync-prune", ttl=5.0):
            client = store._client
            keys = await client.keys("*")
            assert len(keys) == 2
            for key in keys:
                assert 0 < await client.pttl(key) <= (10 * 60 + 120) * 1000
            # One hash tag per account: the host's and account's own characters are encoded.
            assert all(b"{https%3A%2F%2Fkore.example%2Fapi|acct-1}" in key for key in keys)


async def test_other_settings_for_the_same_account_are_refused(redis_url: str) -> None:
    async with stores(redis_url, 2) as (first, second):
        await first.bind(KEY, SETTINGS)
        await second.bind(KEY, SETTINGS)  # the same settings: fine
        other = PacingSettings(requests=30, per=60.0)
        with pytest.raises(ConfigurationError, match="30 per 60"):
            await second.bind(KEY, other)
        with pytest.raises(ConfigurationError):
            await second.permit(KEY, other)
        # Another account is free to differ.
        await second.bind(AccountKey(KEY.host, "acct-2"), other)


async def test_redis_down_paces_locally_with_one_warning_then_recovers(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kore_campaign_async.quota")
    async with stores(redis_server.url, 1) as (store,):
        assert (await store.permit(KEY, SETTINGS)).shared
        redis_server.kill()
        started = time.monotonic()
        first = await store.permit(KEY, SETTINGS)
        second = await store.permit(KEY, SETTINGS)
        assert time.monotonic() - started < 0.5
        # A quarter of 60/min, no burst: one now, the next 4 s later.
        assert first.granted
        assert not first.shared
        assert second.wait == pytest.approx(4 * 1.02, rel=0.01)
        await store.succeeded(KEY, SETTINGS, first)  # outcomes are kept locally
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "25%" in warnings[0].getMessage()
        redis_server.start()
        await asyncio.sleep(0.06)  # the breaker's retry_every
        assert (await store.permit(KEY, SETTINGS)).shared
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


async def test_a_stalled_redis_is_given_up_on_within_the_timeout(
    redis_server: RedisServer,
) -> None:
    async with stores(redis_server.url, 1) as (store,):
        await store.bind(KEY, SETTINGS)
        redis_server.pause()
        try:
            started = time.monotonic()
            permit = await store.permit(KEY, SETTINGS)
            assert time.monotonic() - started < 0.2 + 0.15
            assert not permit.shared
        finally:
            redis_server.resume()


async def test_strict_mode_refuses_to_send_without_redis(redis_server: RedisServer) -> None:
    async with stores(redis_server.url, 1, strict=True) as (store,):
        await store.bind(KEY, SETTINGS)
        redis_server.kill()
        with pytest.raises(PermitRefused):
            await store.permit(KEY, SETTINGS)
        # The call's turn is refused with an error naming its request: nothing sent.
        limiter = AccountLimiter(
            RateLimit(60, 60.0), 1, clock=time.monotonic, sleep=asyncio.sleep, store=store, key=KEY
        )
        with pytest.raises(RateLimitError, match="strict: not sent") as caught:
            async with limiter.slot(method="POST", url="https://kore.test/x"):
                pass
        assert (caught.value.request_sent, caught.value.method) == (False, "POST")
        assert caught.value.url == "https://kore.test/x"
        await limiter.aclose()
        redis_server.start()
        await asyncio.sleep(0.06)
        assert (await store.permit(KEY, SETTINGS)).shared


async def test_a_restarted_redis_starts_the_account_afresh(redis_server: RedisServer) -> None:
    async with stores(redis_server.url, 1) as (store,):
        await store.rate_limited(KEY, SETTINGS, 30.0, await store.permit(KEY, SETTINGS))
        redis_server.restart()
        await asyncio.sleep(0.06)
        permit = await store.permit(KEY, SETTINGS)
        while not permit.shared:  # the first call after a restart may still fall back
            await asyncio.sleep(0.06)
            permit = await store.permit(KEY, SETTINGS)
        assert permit.granted


async def test_a_lease_is_held_by_one_client_at_a_time(redis_url: str) -> None:
    async with stores(redis_url, 2) as (first, second):
        order: list[str] = []

        async def run(store: RedisLimitStore, name: str) -> None:
            async with store.lease(KEY, "sync-prune", ttl=1.0) as lease:
                order.append(f"{name} in")
                await asyncio.sleep(0.05)
                assert lease.held
                order.append(f"{name} out")

        await asyncio.gather(run(first, "a"), run(second, "b"))
        assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])


async def test_a_lease_is_renewed_while_held_and_freed_on_exit(redis_url: str) -> None:
    async with stores(redis_url, 2) as (first, second):
        async with first.lease(KEY, "sync-prune", ttl=0.15) as lease:
            await asyncio.sleep(0.4)  # well past the TTL: renewals kept it
            assert lease.held
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(enter_and_leave(second), 0.05)
        assert await asyncio.wait_for(enter_and_leave(second), 1)


async def enter_and_leave(store: RedisLimitStore) -> bool:
    async with store.lease(KEY, "sync-prune", ttl=0.15) as lease:
        return lease.held


async def test_a_client_we_were_given_is_not_closed(redis_url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    async with RedisLimitStore(client) as store:
        await store.bind(KEY, SETTINGS)
    assert await client.ping()
    await client.aclose()


async def test_a_bounded_waiter_in_another_process_is_refused_when_a_pause_arrives(
    redis_url: str,
) -> None:
    rate = RateLimit(1, per=100.0)
    async with stores(redis_url, 2) as (first, second):
        limiters = [
            AccountLimiter(rate, 4, clock=time.monotonic, sleep=asyncio.sleep, store=s, key=KEY)
            for s in (first, second)
        ]
        async with limiters[0].slot() as turn:
            pass
        await asyncio.wait_for(second._subscriber.listening.wait(), 2)

        async def wait_in_second() -> float:
            async with limiters[1].slot(max_pause=10.0) as later:
                return later.began

        # The second process's call sleeps towards its permit, about 100 s away...
        waiter = asyncio.ensure_future(wait_in_second())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        # ...until the first process's 429 pauses the account for longer than it accepts.
        turn.rate_limited(60.0)
        with pytest.raises(RateLimitError) as caught:
            await asyncio.wait_for(waiter, 2)
        assert caught.value.request_sent is False
        assert caught.value.retry_after == pytest.approx(60.0, abs=0.5)
        for limiter in limiters:
            await limiter.aclose()
