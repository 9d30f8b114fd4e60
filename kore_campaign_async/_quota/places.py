"""Places on the wire: how many requests a client sends at once through a caller's bounded pool.

A client given a ``session=`` whose connector is bounded shares one place per connection among
all its accounts, at most. A paced request takes its place before its permit, so a permitted
request never waits for a connection and leaves a pace after the one before it (see
AccountLimiter).

It keeps fewer places while the event loop falls behind. Each time a place passes to a queued
request, the time from its release to that request running again is how far behind the loop
is: the callbacks queued ahead of it, mostly answers that arrived and wait to be read. A loop
that far behind reads no more answers for having more requests on the wire. Their answers
would only wait longer, keeping their objects alive until the collector promotes them to its
old generation and then walks them at every full collection. So:

- a hand-off later than BEHIND halves the places, not below FLOOR (nor the pool), and not
  again before the answers then on the wire are read (one lag on);
- hand-offs sooner than KEEPING_UP give one place back per round (one such hand-off for each
  place held), up to the pool's size.

Against a remote Kore the loop idles between answers and the places stay at the pool's size.
"""

from __future__ import annotations

import math
from typing import Final

import attrs

from .._clock import Clock
from .fifo import FifoSemaphore, _Waiter
from .pauses import Bounds

#: A hand-off this late (seconds) means the loop is behind its answers.
BEHIND: Final = 0.005
#: A hand-off this soon means the loop keeps up.
KEEPING_UP: Final = 0.001
#: The fewest places kept (or the pool's size, if smaller): at a remote Kore's 0.25 s a
#: request, 32 places still carry 128 requests a second.
FLOOR: Final = 32


@attrs.define(slots=True)
class PlaceSizing:
    """How many places to keep, from how late hand-offs run (pure: no clock, no queue).

    Like TCP's congestion window: halve at once when the loop is behind, grow back by one
    place a round (one keeping-up hand-off per place held), so a burst of quick hand-offs
    between two late ones does not undo the cut.
    """

    ceiling: int
    limit: int = attrs.field()
    #: Keeping-up hand-offs since the last change: a round's worth grows one place.
    calm: int = 0
    #: No cut before this time: the answers on the wire at the last cut are read by then.
    cut_settles: float = -math.inf

    @limit.default
    def _all_of_the_pool(self) -> int:
        return self.ceiling

    def heard(self, lag: float, now: float) -> int:
        """A hand-off ran ``lag`` seconds late at ``now``: the new number of places."""
        if lag > BEHIND:
            floor = min(FLOOR, self.ceiling)
            if now >= self.cut_settles and self.limit > floor:
                self.limit = max(floor, self.limit // 2)
                self.calm = 0
                self.cut_settles = now + lag
        elif lag < KEEPING_UP and self.limit < self.ceiling:
            self.calm += 1
            if self.calm >= self.limit:
                self.limit += 1
                self.calm = 0
        return self.limit


class WirePlaces(FifoSemaphore[Bounds]):
    """The places a client's requests hold on the wire, in arrival order: the pool's size at
    most, fewer while the event loop falls behind (see the module)."""

    __slots__ = ("_clock", "sizing")

    def __init__(self, ceiling: int, *, clock: Clock) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, got {ceiling!r}")
        super().__init__(ceiling)
        self.sizing = PlaceSizing(ceiling)
        self._clock = clock

    @property
    def limit(self) -> int:
        """The places kept now."""
        return self.sizing.limit

    def release(self) -> None:
        """Hand the place to the first live waiter (stamped, to measure the hand-off), free it,
        or drop it if a cut took it away."""
        if self._free < 0:  # more places out than the limit: this one goes with the cut
            self._free += 1
            return
        waiter = self._first_live()
        if waiter is None:
            self._free += 1
        else:
            waiter.handed = self._clock()
            waiter.set_result(True)

    def _served(self, waiter: _Waiter[Bounds]) -> None:
        now = self._clock()
        before = self.sizing.limit
        after = self.sizing.heard(now - waiter.handed, now)
        if after < before:
            self._free -= before - after
        elif after > before:
            self.release()  # the place given back: to a waiter, or to repay a cut
