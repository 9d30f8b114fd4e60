"""The bounded worker pool: lazy pulling, error handling and a clean-up that always finishes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from kore_campaign_async._bulk.pool import aiterate, cancel_and_wait, drain


@pytest.mark.parametrize("kind", ["plain", "async"])
async def test_drain_pulls_at_most_concurrency_items_ahead(kind: str) -> None:
    pulled = handled = 0
    ahead: list[int] = []

    def numbers() -> Iterator[int]:
        nonlocal pulled
        for number in range(200):
            ahead.append(pulled - handled)
            pulled += 1
            yield number

    seen: list[int] = []

    async def handle(number: int) -> None:
        nonlocal handled
        for _ in range(number % 3):
            await asyncio.sleep(0)
        seen.append(number)
        handled += 1

    source = numbers() if kind == "plain" else aiterate(numbers())
    await drain(source, handle, concurrency=4, name="test-pool")
    assert sorted(seen) == list(range(200))
    assert seen != list(range(200))  # handled out of order: really concurrent
    assert max(ahead) <= 4


@pytest.mark.parametrize("kind", ["plain", "async"])
async def test_a_failing_source_lets_items_in_flight_finish_then_raises(kind: str) -> None:
    finished: list[str] = []

    def items() -> Iterator[str]:
        yield "slow"
        yield "quick"
        raise OSError("input vanished")

    async def handle(item: str) -> None:
        for _ in range(20 if item == "slow" else 1):
            await asyncio.sleep(0)
        finished.append(item)

    source: Iterator[str] | AsyncIterator[str] = items() if kind == "plain" else aiterate(items())
    with pytest.raises(OSError, match="vanished"):
        await drain(source, handle, concurrency=3, name="test-pool")
    assert finished == ["quick", "slow"]
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("test-pool")] == []


async def test_cancel_and_wait_finishes_its_clean_up_when_cancelled_again() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await release.wait()  # slow clean-up after the first cancel
            raise

    child = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    cleaner = asyncio.create_task(cancel_and_wait([child]))
    await asyncio.sleep(0)
    cleaner.cancel()  # a second cancellation arrives during the clean-up
    for _ in range(5):
        await asyncio.sleep(0)
    assert not cleaner.done()  # still waiting for the child
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await cleaner
    assert child.cancelled()
