"""Queueing primitives for the account limiter: a FIFO semaphore whose waiters can be woken."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque


class Waiter:
    """A call waiting in a limiter, with the longest account pause it accepts."""

    __slots__ = ("deadline_at", "fut", "max_pause")

    def __init__(self, max_pause: float, deadline_at: float) -> None:
        self.max_pause = max_pause
        self.deadline_at = deadline_at
        #: What the call awaits now; resolving it with False wakes the call to re-check.
        self.fut: asyncio.Future[bool] | None = None


class FifoSemaphore:
    """A semaphore that serves waiters strictly in arrival order and binds to no loop."""

    def __init__(self, value: int) -> None:
        self._free = value
        self._waiters: deque[asyncio.Future[bool]] = deque()

    @property
    def waiting(self) -> int:
        """Tasks queued for a unit."""
        return sum(1 for fut in self._waiters if not fut.done())

    async def acquire(self, waiter: Waiter | None = None) -> bool:
        """Take a unit, queueing behind earlier waiters.

        Return False, holding nothing and out of the queue, when ``waiter.fut`` was resolved
        with False (the limiter woke the call to re-check a pause).
        """
        # A free unit nobody is queued for. Checked in this order so the O(n) count only
        # runs in the rare free-but-queued case.
        if self._free > 0 and (not self._waiters or not self.waiting):
            self._free -= 1
            return True
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        if waiter is not None:
            waiter.fut = fut
        try:
            got = await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.result():
                # Handed a unit just as we were cancelled: pass it on.
                self.release()
            else:
                # release() may already have dropped our cancelled future.
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            raise
        finally:
            if waiter is not None:
                waiter.fut = None
        if not got:
            with contextlib.suppress(ValueError):
                self._waiters.remove(fut)
        return got

    def release(self) -> None:
        """Hand the unit to the first live waiter, or free it."""
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(True)
                return
        self._free += 1
