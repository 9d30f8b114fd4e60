"""Injected time: the clock and sleep types, their real defaults, a virtual clock, and a bound."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final, TypeVar

T = TypeVar("T")

Clock = Callable[[], float]
"""Monotonic seconds."""

Sleep = Callable[[float], Awaitable[None]]
"""Wait that many seconds."""

monotonic: Final[Clock] = time.monotonic
asyncio_sleep: Final[Sleep] = asyncio.sleep

# One loop turn per await step: enough for a woken task to hand a lock or slot on and the
# next task to park again before time moves.
_DEFAULT_SETTLE_TURNS: Final = 32


class ManualClock:
    """A virtual monotonic clock whose :meth:`sleep` jumps time instead of waiting.

    ``clock()`` (or ``clock.now``) reads virtual seconds; pass ``clock`` as a ``Clock`` and
    ``clock.sleep`` as a ``Sleep``. Each sleeper parks on a future. A driver task lets ready
    tasks run for ``settle_turns`` loop turns, then jumps time to the earliest deadline and
    wakes the sleepers due then (ties in call order), and repeats until nobody sleeps. So
    minutes of pacing take milliseconds, and concurrent sleepers wake in deadline order.

    Time never waits for real I/O: a request in flight on a real socket sees time jump
    under it whenever other tasks sleep. :meth:`advance` moves time by hand.
    """

    def __init__(self, start: float = 0.0, *, settle_turns: int = _DEFAULT_SETTLE_TURNS) -> None:
        if not math.isfinite(start):
            raise ValueError(f"start must be finite, got {start!r}")
        if settle_turns < 1:
            raise ValueError(f"settle_turns must be >= 1, got {settle_turns!r}")
        self._now = float(start)
        self._settle_turns = settle_turns
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._driver: asyncio.Task[None] | None = None

    def __call__(self) -> float:
        """Return the virtual time."""
        return self._now

    @property
    def now(self) -> float:
        """The virtual time in seconds."""
        return self._now

    @property
    def sleepers(self) -> int:
        """How many tasks are parked in :meth:`sleep`."""
        return sum(1 for _, _, fut in self._sleepers if not fut.done())

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper due by then, earliest first."""
        if not seconds >= 0:
            raise ValueError(f"seconds must be >= 0, got {seconds!r}")
        self._now += seconds
        self._wake_due()

    async def sleep(self, delay: float) -> None:
        """Park until virtual time reaches now + delay; a delay <= 0 just yields."""
        if not delay > 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._sleepers, (self._now + delay, next(self._order), fut))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await fut

    async def _drive(self) -> None:
        while True:
            for _ in range(self._settle_turns):
                await asyncio.sleep(0)
            # Cancelled sleepers must not pull time forward.
            while self._sleepers and self._sleepers[0][2].done():
                heapq.heappop(self._sleepers)
            if not self._sleepers:
                return
            self._now = max(self._now, self._sleepers[0][0])
            self._wake_due()

    def _wake_due(self) -> None:
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, fut = heapq.heappop(self._sleepers)
            if not fut.done():
                fut.set_result(None)


class Deadline:
    """One call's time limit: a stopwatch that stops while the call waits on others.

    The call's own work (attempts, backoffs, a token fetch) spends it; waiting for its
    account's turn or for a listing another call sends does not, as that is queueing behind
    other calls, bounded on its own (``RetryPolicy.max_queue_wait``).
    """

    __slots__ = ("_clock", "_ends_at", "seconds")

    def __init__(self, seconds: float | None, clock: Clock) -> None:
        self.seconds: float = math.inf if seconds is None else seconds
        """The limit; ``math.inf``: none."""
        self._clock = clock
        self._ends_at = clock() + self.seconds

    @property
    def ends_at(self) -> float:
        """The clock time it passes, were the stopwatch not stopped again."""
        return self._ends_at

    def left(self) -> float:
        """Seconds left (``math.inf``: no limit; negative: passed)."""
        return self._ends_at - self._clock()

    def stop_for(self, seconds: float) -> None:
        """Take back ``seconds`` that just passed: the stopwatch was stopped meanwhile."""
        self._ends_at += seconds

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the stopwatch while the block runs."""
        since = self._clock()
        try:
            yield
        finally:
            self.stop_for(self._clock() - since)


class Expired(Exception):
    """Raised by :func:`within` when its time ran out first; callers turn it into a KoreError."""


async def within(seconds: float, sleep: Sleep, awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``; cancel it and raise :class:`Expired` if ``sleep(seconds)`` ends first.

    Time is the injected ``sleep``'s, so a virtual clock bounds waits too (``asyncio.timeout``
    only knows the loop's clock, and Python 3.10 lacks it). A result ready when time runs out
    wins. ``math.inf``: no bound. The awaitable runs in a task of its own, cancelled with the
    caller.
    """
    if seconds == math.inf:
        return await awaitable
    task = asyncio.ensure_future(awaitable)
    task.add_done_callback(_retrieve)
    alarm = asyncio.ensure_future(sleep(max(seconds, 0.0)))
    try:
        await asyncio.wait((task, alarm), return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # the caller is cancelled: take the task down with it
        task.cancel()
        raise
    finally:
        alarm.cancel()
    if not task.done():
        task.cancel()
        await asyncio.wait((task,))  # let it unwind: a queue hands on what it was given
        if task.cancelled():
            raise Expired
    return task.result()


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a task's error as seen: whoever awaits it raises it, and nobody else must log it."""
    if not task.cancelled():
        task.exception()
