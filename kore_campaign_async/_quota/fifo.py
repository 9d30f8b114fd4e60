"""Queueing for the account limiter: a FIFO semaphore whose queued waiters can be woken."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class FifoSemaphore(Generic[T]):
    """A semaphore that serves waiters strictly in arrival order and binds to no loop.

    Each waiter queues with a tag (the limiter's: the pause it accepts); :meth:`wake` picks
    queued waiters by their tag and wakes them without a unit, to re-check why they wait.
    """

    def __init__(self, value: int) -> None:
        self._free = value
        self._waiters: deque[tuple[asyncio.Future[bool], T]] = deque()

    @property
    def waiting(self) -> int:
        """Tasks queued for a unit."""
        return sum(1 for fut, _ in self._waiters if not fut.done())

    async def acquire(self, tag: T) -> bool:
        """Take a unit, queueing behind earlier waiters.

        Return False, holding nothing and out of the queue, when :meth:`wake` picked ``tag``.
        """
        # A free unit nobody is queued for. Checked in this order so the O(n) count only
        # runs in the rare free-but-queued case.
        if self._free > 0 and (not self._waiters or not self.waiting):
            self._free -= 1
            return True
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        entry = (fut, tag)
        self._waiters.append(entry)
        try:
            got = await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.result():
                # Handed a unit just as we were cancelled: pass it on.
                self.release()
            else:
                # release() may already have dropped our cancelled future.
                with contextlib.suppress(ValueError):
                    self._waiters.remove(entry)
            raise
        if not got:
            with contextlib.suppress(ValueError):
                self._waiters.remove(entry)
        return got

    def release(self) -> None:
        """Hand the unit to the first live waiter, or free it."""
        while self._waiters:
            fut, _ = self._waiters.popleft()
            if not fut.done():
                fut.set_result(True)
                return
        self._free += 1

    def wake(self, which: Callable[[T], bool]) -> None:
        """Wake every queued waiter whose tag ``which`` picks: its :meth:`acquire` says False."""
        for fut, tag in self._waiters:
            if not fut.done() and which(tag):
                fut.set_result(False)
