"""``--redis-url`` / ``KORE_REDIS_URL``: the CLI paces the account through a real Redis."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from tests.helpers.cli import ACCOUNT, Cli


async def test_commands_pace_the_account_through_redis(cli: Cli, redis_url: str) -> None:
    made = await cli("create", "Shared", "--json", "--redis-url", redis_url)
    assert made.code == 0, made.err
    listed = await cli("lists", "--json", env={"KORE_REDIS_URL": redis_url})
    assert listed.code == 0, listed.err
    assert [doc["name"] for doc in json.loads(listed.out)] == ["Shared"]
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        keys = [str(key) for key in await client.keys("*")]
    finally:
        await client.aclose()
    assert len(keys) == 1
    assert keys[0].endswith(f"|{ACCOUNT}}}:pace")


async def test_a_redis_url_that_is_not_one_is_a_usage_error(cli: Cli) -> None:
    run = await cli("lists", "--redis-url", "localhost:6379")
    assert run.code == 2
    assert "--redis-url or KORE_REDIS_URL" in run.err
