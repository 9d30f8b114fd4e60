"""A pause heard over Redis is capped like a local 429's, and a malformed one is ignored with a
WARNING: one PUBLISH must not block an account in every process, nor stop the listening."""

from __future__ import annotations

import asyncio
import logging

import pytest

from kore_campaign_async._quota.pubsub import read_pause
from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.redis_store import RedisLimitStore
from kore_campaign_async._quota.store import AccountKey

redis_asyncio = pytest.importorskip("redis.asyncio")

KEY = AccountKey("https://kore.example", "acct-1")
SETTINGS = PacingSettings(requests=60, per=60.0)  # a 429 pauses for at most 120 s
MALFORMED: list[bytes] = [
    b"nan",
    b"inf",
    b"-inf",
    b"-5",
    b"1_0",
    b"soon",
    b"",
    b"9" * 400,  # overflows to infinity
    b"\xff\xfe\x00garbage",
    "\u0661\u0662".encode(),  # Arabic-Indic 12
    b"0x10",
]


@pytest.mark.parametrize("data", MALFORMED, ids=repr)
def test_read_pause_refuses_what_no_store_publishes(data: bytes) -> None:
    assert read_pause(data) is None
    assert read_pause(data.decode("utf-8", errors="replace")) is None


@pytest.mark.parametrize(
    ("data", "seconds"),
    [
        (b"5", 5.0),
        (b"0", 0.0),
        (b" 2.5 ", 2.5),
        (b"1.0000000000000001e-05", 1e-05),
        (b"1e12", 1e12),
    ],
)
def test_read_pause_takes_what_the_pacing_script_publishes(data: bytes, seconds: float) -> None:
    assert read_pause(data) == seconds


async def test_a_published_pause_is_capped_and_garbage_ignored(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisLimitStore.from_url(redis_url, timeout=2.0, retry_every=0.05)
    publisher = redis_asyncio.Redis.from_url(redis_url)
    try:
        heard: asyncio.Queue[float] = asyncio.Queue()
        store.watch_pauses(KEY, heard.put_nowait)
        await store.bind(KEY, SETTINGS)
        await asyncio.wait_for(store._subscriber.listening.wait(), 5)
        channel = f"{store._tag(KEY)}:pause"
        with caplog.at_level(logging.WARNING, logger="kore_campaign_async.quota"):
            # The last but one: the cap as float rounding may publish it, capped without a word.
            for data in [*MALFORMED, b"1e12", b"120.00000000000001", b"3.5"]:
                await publisher.publish(channel, data)
            # In order on one connection: the garbage is ignored, the huge pause capped, and
            # the listening survives it all to hear the last one.
            assert await asyncio.wait_for(heard.get(), 5) == SETTINGS.pause_cap
            assert await asyncio.wait_for(heard.get(), 5) == SETTINGS.pause_cap
            assert await asyncio.wait_for(heard.get(), 5) == 3.5
        assert heard.empty()
        warnings = [r for r in caplog.records if r.name == "kore_campaign_async.quota"]
        assert sum("malformed pause" in r.getMessage() for r in warnings) == len(MALFORMED)
        assert sum("capped a pause" in r.getMessage() for r in warnings) == 1
        # Redis itself holds no pause: nothing but the script writes one there.
        assert (await store.permit(KEY, SETTINGS)).granted
    finally:
        await publisher.aclose()
        await store.aclose()


async def test_a_pause_for_an_account_not_paced_here_is_not_applied(redis_url: str) -> None:
    store = RedisLimitStore.from_url(redis_url, timeout=2.0, retry_every=0.05)
    publisher = redis_asyncio.Redis.from_url(redis_url)
    try:
        heard: asyncio.Queue[float] = asyncio.Queue()
        other = AccountKey(KEY.host, "acct-2")
        store.watch_pauses(other, heard.put_nowait)  # watched, but no permit asked yet
        await store.bind(KEY, SETTINGS)
        store.watch_pauses(KEY, heard.put_nowait)
        await asyncio.wait_for(store._subscriber.listening.wait(), 5)
        await publisher.publish(f"{store._tag(other)}:pause", b"30")
        await publisher.publish(f"{store._tag(KEY)}:pause", b"4")
        assert await asyncio.wait_for(heard.get(), 5) == 4.0
        assert heard.empty()
    finally:
        await publisher.aclose()
        await store.aclose()
