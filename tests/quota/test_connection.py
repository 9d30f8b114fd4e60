"""The store's script calls go on a connection of its own; overlapping ones through the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from kore_campaign_async._quota.connection import HeldConnection
from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.redis_store import RedisLimitStore
from kore_campaign_async._quota.store import AccountKey

KEY = AccountKey("https://kore.example/api", "acct-1")
SETTINGS = PacingSettings(requests=1_000_000, per=1.0, burst=1_000_000)
# Answers its argument: each call's reply names the call.
ECHO = "return ARGV[1]"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    made = Redis.from_url(redis_url)
    yield made
    await made.aclose()


async def _connections_made(client: Redis) -> int:
    return int((await client.info("stats"))["total_connections_received"])


async def test_calls_one_after_another_share_one_connection(client: Redis) -> None:
    echo = client.register_script(ECHO)
    await echo(args=["load"])  # loaded, and the client's own connection made
    held = HeldConnection(client)
    try:
        before = await _connections_made(client)
        answers = [await held.run_script(echo, [], [f"call {n}"]) for n in range(5)]
        assert answers == [f"call {n}".encode() for n in range(5)]
        assert await _connections_made(client) - before == 1
    finally:
        await held.aclose()


async def test_a_call_overlapping_one_in_flight_goes_through_the_client(client: Redis) -> None:
    echo = client.register_script(ECHO)
    await echo(args=["load"])
    held = HeldConnection(client)
    try:
        before = await _connections_made(client)
        first = asyncio.ensure_future(held.run_script(echo, [], ["first"]))
        await asyncio.sleep(0)  # the first call holds the connection, its reply on the way
        assert await held.run_script(echo, [], ["overlapping"]) == b"overlapping"
        assert await first == b"first"
        # Ours only: the overlapping call took the client's own, already open.
        assert await _connections_made(client) - before == 1
        assert await held.run_script(echo, [], ["free again"]) == b"free again"
        assert await _connections_made(client) - before == 1
    finally:
        await held.aclose()


async def test_a_call_cancelled_half_way_leaves_no_reply_for_the_next(client: Redis) -> None:
    echo = client.register_script(ECHO)
    await echo(args=["load"])
    held = HeldConnection(client)
    try:
        cancelled = asyncio.ensure_future(held.run_script(echo, [], ["cancelled"]))
        await asyncio.sleep(0)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        # Its reply died with its connection; the next call reconnects and reads its own.
        assert await held.run_script(echo, [], ["next"]) == b"next"
    finally:
        await held.aclose()


async def test_a_script_redis_lost_is_loaded_again(client: Redis) -> None:
    echo = client.register_script(ECHO)
    await echo(args=["load"])
    held = HeldConnection(client)
    try:
        assert await held.run_script(echo, [], ["before"]) == b"before"
        await client.script_flush()  # what a restart does
        assert await held.run_script(echo, [], ["after a flush"]) == b"after a flush"
        assert await held.run_script(echo, [], ["and on"]) == b"and on"
    finally:
        await held.aclose()


async def test_a_call_is_packed_as_redis_py_packs_it(redis_url: str) -> None:
    for encoding in ("utf-8", "latin-1"):
        client = Redis.from_url(redis_url, encoding=encoding)
        held = HeldConnection(client)
        parts = ["EVALSHA", "0" * 40, "1", "kä:{h|a}:pace", "permit", "", "1 2.5 e"]
        try:
            packed = client.connection_pool.make_connection().pack_command(*parts)
            assert held._command(*parts) == b"".join(packed)
        finally:
            await held.aclose()
            await client.aclose()


async def test_closing_the_store_closes_its_connection_and_not_our_client(
    client: Redis,
) -> None:
    async with RedisLimitStore(client) as store:
        await store.bind(KEY, SETTINGS)
        store.record_success(KEY, SETTINGS, await store.permit(KEY, SETTINGS))
        held = store._connection._held
        assert held.is_connected
    assert not held.is_connected
    assert await client.ping()


def test_a_store_from_a_url_times_no_write_of_its_own() -> None:
    # redis-py 8 gives a client a 5 s socket_timeout by default, which times each write in a
    # task of its own; the store's breaker bounds every call whole instead.
    store = RedisLimitStore.from_url("redis://127.0.0.1:1/0", timeout=0.5)
    held = store._connection._held
    assert (held.socket_timeout, held.socket_connect_timeout) == (None, 0.5)
