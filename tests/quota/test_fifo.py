"""FifoSemaphore: strict arrival order, cancellation, and waking queued waiters by their tag."""

from __future__ import annotations

import asyncio

from kore_campaign_async._quota.fifo import FifoSemaphore


async def settle() -> None:
    for _ in range(4):
        await asyncio.sleep(0)


async def test_woken_waiters_leave_the_queue_and_the_others_keep_their_order() -> None:
    semaphore: FifoSemaphore[str] = FifoSemaphore(1)
    assert await semaphore.acquire("holder")
    order: list[str] = []

    async def wait(tag: str) -> bool:
        got = await semaphore.acquire(tag)
        order.append(tag)
        return got

    tasks = {tag: asyncio.ensure_future(wait(tag)) for tag in ("a", "impatient", "b")}
    await settle()
    assert semaphore.waiting == 3
    semaphore.wake(lambda tag: tag == "impatient")
    assert await tasks["impatient"] is False  # woken without a unit
    assert semaphore.waiting == 2
    semaphore.release()
    assert await tasks["a"] is True
    assert not tasks["b"].done()
    semaphore.release()
    assert await tasks["b"] is True
    assert order == ["impatient", "a", "b"]


async def test_a_unit_handed_to_a_cancelled_waiter_is_passed_on() -> None:
    semaphore: FifoSemaphore[None] = FifoSemaphore(1)
    assert await semaphore.acquire(None)
    unlucky = asyncio.ensure_future(semaphore.acquire(None))
    next_in_line = asyncio.ensure_future(semaphore.acquire(None))
    await settle()
    semaphore.release()  # handed to the first waiter...
    unlucky.cancel()  # ...cancelled before it runs
    await asyncio.gather(unlucky, return_exceptions=True)
    assert await next_in_line is True
    assert semaphore.waiting == 0
    semaphore.release()
    assert await semaphore.acquire(None) is True  # one unit, neither lost...
    extra = asyncio.ensure_future(semaphore.acquire(None))
    await settle()
    assert not extra.done()  # ...nor doubled
    extra.cancel()
    await asyncio.gather(extra, return_exceptions=True)


async def test_a_queued_caller_is_one_object_carrying_its_tag() -> None:
    semaphore: FifoSemaphore[str] = FifoSemaphore(1)
    assert await semaphore.acquire("holder")
    waiting = asyncio.ensure_future(semaphore.acquire("queued"))
    await settle()
    assert semaphore._waiters is not None
    [waiter] = semaphore._waiters
    assert isinstance(waiter, asyncio.Future)
    assert waiter.tag == "queued"
    semaphore.release()
    assert await waiting is True
    assert semaphore._waiters is None
