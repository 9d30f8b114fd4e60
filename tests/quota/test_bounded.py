"""Every call to a shared store is bounded, and a cancel always reaches its caller."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable

import pytest

from kore_campaign_async._quota import breaker

Bound = Callable[[Awaitable[str], float], Awaitable[str]]
# The bound for this Python, and the one Python 3.10 uses (it has no Task.cancelling).
BOUNDS = [
    pytest.param(breaker.bounded, id="bounded"),
    pytest.param(breaker._in_own_task, id="3.10"),
]


async def _swallows_a_cancel(started: asyncio.Event, wait: float = 10.0) -> str:
    """What redis-py's write through wait_for does on Python 3.11 when a cancel races its end."""
    started.set()
    try:
        await asyncio.sleep(wait)  # only a broken bound lets this run out
    except asyncio.CancelledError:
        return "swallowed"
    return "not cancelled"


@pytest.mark.parametrize("bound", BOUNDS)
async def test_a_call_that_takes_too_long_raises_timeout_error(bound: Bound) -> None:
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        await bound(asyncio.Event().wait(), 0.05)  # type: ignore[arg-type]
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("bound", BOUNDS)
async def test_an_answer_in_time_is_returned(bound: Bound) -> None:
    async def answer() -> str:
        await asyncio.sleep(0)
        return "PONG"

    assert await bound(answer(), 1.0) == "PONG"


@pytest.mark.parametrize("bound", BOUNDS)
async def test_a_cancel_the_call_swallows_still_reaches_the_caller(bound: Bound) -> None:
    started = asyncio.Event()
    caller = asyncio.ensure_future(bound(_swallows_a_cancel(started), 10.0))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller


if sys.version_info >= (3, 11):  # asyncio.timeout is Python 3.11's

    async def test_an_outer_timeout_ends_a_call_that_swallows_its_cancel() -> None:
        # The lease wait that never ended: a loop of bounded calls under asyncio.timeout. Bounded
        # here too: should the cancel be lost, each call runs out after 0.5 s and the test fails.
        async def keep_calling() -> None:
            for _ in range(3):
                await breaker.bounded(_swallows_a_cancel(asyncio.Event(), 0.5), 10.0)

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await keep_calling()
