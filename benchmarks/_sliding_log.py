"""The retired pacing (a sliding log with an adaptive cut), kept as the shape matrix's baseline.

Until issue 10 this was how ``AccountLimiter`` paced an account: at most ``limit`` requests
counted in any ``per * (1 + margin)`` window, each counting from its permit until the window
after it was sent (or after its answer when that took longer than the margin); a 429 paused the
account and cut the limit to 70 % once per episode, and every ``requests // 10`` successes won
one request back. ``benchmarks/_shapes.py`` showed it replays its burst every window, which a
token-bucket server refuses. Only the matrix uses it; its concurrency queue is a plain lock.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from typing import Final

from kore_campaign_async._clock import ManualClock

_CUT_FACTOR: Final = 0.7
_RECOVERY_DIVISOR: Final = 10
_MARGIN: Final = 0.01


class SlidingLog:
    """One account's sliding-log pacer, as a shape-matrix candidate."""

    def __init__(self, clock: ManualClock, requests: int, per: float, concurrency: int) -> None:
        self._clock = clock
        self._requests = requests
        self._limit = requests
        self._window = per * (1 + _MARGIN)
        self._slack = per * _MARGIN
        self._interval = per / requests
        self._log: list[float] = []
        self._running = 0
        self._slots = asyncio.Semaphore(concurrency)
        self._turn = asyncio.Lock()
        self._finished = asyncio.Event()
        self._paused_until = -math.inf
        self._cut_at = -math.inf
        self._successes = 0

    async def acquire(self) -> float:
        await self._slots.acquire()
        async with self._turn:
            while True:
                now = self._clock()
                ready_at = self._next_permit_at(now)
                if ready_at <= now + 1e-9:
                    self._running += 1
                    return now
                if ready_at == math.inf:
                    self._finished.clear()
                    await self._finished.wait()
                else:
                    await self._clock.sleep(ready_at - now)

    def release(self, sent_at: float) -> None:
        self._running -= 1
        bisect.insort(self._log, max(sent_at, self._clock() - self._slack))
        self._finished.set()
        self._slots.release()

    def answered(self, sent_at: float, retry_after: float | None) -> None:
        if retry_after is None:
            if self._limit < self._requests:
                self._successes += 1
                if self._successes >= max(1, self._requests // _RECOVERY_DIVISOR):
                    self._successes = 0
                    self._limit += 1
            return
        now = self._clock()
        self._paused_until = max(self._paused_until, now + retry_after)
        if sent_at > self._cut_at:
            self._limit = max(1, int(self._limit * _CUT_FACTOR))
            self._successes = 0
            self._cut_at = now

    def _next_permit_at(self, now: float) -> float:
        del self._log[: bisect.bisect_right(self._log, now - self._window)]
        room = self._limit - 1 - self._running
        if room < 0:
            return math.inf
        excess = len(self._log) - room
        ready_at = self._paused_until
        if excess > 0:
            ready_at = max(ready_at, self._log[excess - 1] + self._window)
        return ready_at
