"""The store's commands go on one connection it holds; overlapping ones take the pool's."""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from kore_campaign_async._quota.connection import HeldConnection
from kore_campaign_async._quota.pacing import PacingSettings
from kore_campaign_async._quota.redis_store import RedisLimitStore
from kore_campaign_async._quota.store import AccountKey

KEY = AccountKey("https://kore.example/api", "acct-1")
SETTINGS = PacingSettings(requests=1_000_000, per=1.0, burst=1_000_000)


async def _client_id(client: Any) -> int:
    return int(await client.execute_command("CLIENT", "ID"))


async def test_commands_one_after_another_share_one_connection(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    held = HeldConnection(client)
    try:
        ids = {await held.run(_client_id) for _ in range(5)}
        assert len(ids) == 1
    finally:
        await held.aclose()
        await client.aclose()


async def test_a_command_overlapping_one_in_flight_takes_a_pool_connection(
    redis_url: str,
) -> None:
    client = Redis.from_url(redis_url)
    held = HeldConnection(client)
    first_in = asyncio.Event()
    go_on = asyncio.Event()

    async def slow(db: Any) -> int:
        connection = await _client_id(db)
        first_in.set()
        await go_on.wait()
        return connection

    try:
        first = asyncio.ensure_future(held.run(slow))
        await first_in.wait()
        overlapping = await held.run(_client_id)
        go_on.set()
        assert overlapping != await first
        # Free again: the next command is back on the held connection.
        assert await held.run(_client_id) == await first
    finally:
        await held.aclose()
        await client.aclose()


async def test_closing_gives_the_connection_back_to_a_client_we_were_given(
    redis_url: str,
) -> None:
    # Two connections: the store's pause subscription and its held connection take both.
    client = Redis.from_url(redis_url, max_connections=2)
    try:
        async with RedisLimitStore(client) as store:
            await store.bind(KEY, SETTINGS)
            await store.succeeded(KEY, SETTINGS, await store.permit(KEY, SETTINGS))
        # Both are back in the pool: two commands can be in flight at once (the first waits
        # for the second's push), which a connection the store kept would refuse.
        popped, pushed = await asyncio.gather(
            client.blpop(["handover"], timeout=5), client.lpush("handover", "x")
        )
        assert (list(popped), pushed) == ([b"handover", b"x"], 1)
    finally:
        await client.aclose()
