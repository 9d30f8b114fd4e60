"""Queueing for the account limiter: a FIFO semaphore whose queued waiters can be woken."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Waiter(asyncio.Future[bool], Generic[T]):
    """A queued caller: the future it awaits, carrying its tag (one object per queued call)."""

    __slots__ = ("tag",)

    def __init__(self, tag: T) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.tag = tag


class FifoSemaphore(Generic[T]):
    """A semaphore that serves waiters strictly in arrival order and binds to no loop.

    Each waiter queues with a tag (the limiter's: the pause it accepts); :meth:`wake` picks
    queued waiters by their tag and wakes them without a unit, to re-check why they wait.
    """

    __slots__ = ("_free", "_waiters")

    def __init__(self, value: int) -> None:
        self._free = value
        # Made when the first waiter queues, dropped when the queue empties: an empty deque
        # costs 600 bytes, and most accounts of a large process have nobody queued.
        self._waiters: deque[_Waiter[T]] | None = None

    @property
    def waiting(self) -> int:
        """Tasks queued for a unit."""
        if self._waiters is None:
            return 0
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self, tag: T) -> bool:
        """Take a unit, queueing behind earlier waiters.

        Return False, holding nothing and out of the queue, when :meth:`wake` picked ``tag``.
        """
        # A free unit nobody is queued for. Checked in this order so the O(n) count only
        # runs in the rare free-but-queued case.
        if self._free > 0 and (not self._waiters or not self.waiting):
            self._free -= 1
            return True
        waiter = _Waiter(tag)
        if self._waiters is None:
            self._waiters = deque()
        waiters = self._waiters
        waiters.append(waiter)
        try:
            got = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result():
                # Handed a unit just as we were cancelled: pass it on.
                self.release()
            else:
                self._leave(waiters, waiter)
            raise
        if not got:
            self._leave(waiters, waiter)
        return got

    def _leave(self, waiters: deque[_Waiter[T]], waiter: _Waiter[T]) -> None:
        # release() may already have dropped it (a cancelled future), or the whole queue.
        with contextlib.suppress(ValueError):
            waiters.remove(waiter)
        if not waiters and waiters is self._waiters:
            self._waiters = None

    def release(self) -> None:
        """Hand the unit to the first live waiter, or free it."""
        waiter = self._first_live()
        if waiter is None:
            self._free += 1
        else:
            waiter.set_result(True)

    def _first_live(self) -> _Waiter[T] | None:
        """Take the first waiter still waiting out of the queue (None: nobody waits)."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                if not waiters:
                    self._waiters = None
                return waiter
        self._waiters = None
        return None

    def wake(self, which: Callable[[T], bool]) -> None:
        """Wake every queued waiter whose tag ``which`` picks: its :meth:`acquire` says False."""
        for waiter in self._waiters or ():
            if not waiter.done() and which(waiter.tag):
                waiter.set_result(False)
