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

- it starts with FLOOR places (or the pool's size, if smaller);
- a round of hand-offs (one for each place held) of which nine in ten or more ran sooner than
  KEEPING_UP doubles them, up to the pool's size;
- a hand-off later than BEHIND halves them, not below FLOOR, and not again before the answers
  then on the wire are read (one lag on).

Against a remote Kore the loop idles between answers: the places reach the pool's size within a
few rounds (about a second at 0.25 s a request) and stay there. A pause of the whole loop (a
full collection at a large heap, a slow callback) costs a round at half of them.
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
#: A round with this share of calm hand-offs (or more) doubles the places.
CALM_ROUND: Final = 0.9
#: The fewest places kept (or the pool's size, if smaller): at a remote Kore's 0.25 s a
#: request, 32 places still carry 128 requests a second.
FLOOR: Final = 32


@attrs.define(slots=True)
class PlaceSizing:
    """How many places to keep, from how late hand-offs run (pure: no clock, no queue).

    Like TCP's congestion window, it starts small (FLOOR) and grows by rounds, a round being
    one hand-off for each place held: a round of calm hand-offs (nine in ten at least) doubles
    the places, up to the pool. A late hand-off halves them at once, and not again before the
    answers then on the wire are read. So a pause of the whole loop (a full collection, a slow
    callback of yours) costs about a round at half the places, while a loop kept behind sees
    no calm round.
    """

    ceiling: int = attrs.field(validator=attrs.validators.ge(1))
    limit: int = attrs.field()
    #: Hand-offs so far in this round, and how many of them were calm.
    count: int = 0
    calm: int = 0
    #: No cut before this time: the answers on the wire at the last cut are read by then.
    cut_settles: float = -math.inf

    @limit.default
    def _the_floor(self) -> int:
        return min(FLOOR, self.ceiling)

    def heard(self, lag: float, now: float) -> int:
        """A hand-off ran ``lag`` seconds late at ``now``: the number of places from now on."""
        floor = min(FLOOR, self.ceiling)
        if lag > BEHIND and now >= self.cut_settles and self.limit > floor:
            self.limit = max(floor, self.limit // 2)
            self.cut_settles = now + lag
            self.count = self.calm = 0
            return self.limit
        self.count += 1
        self.calm += lag < KEEPING_UP
        if self.count >= self.limit:
            if self.calm >= self.count * CALM_ROUND:
                self.limit = min(self.ceiling, self.limit * 2)
            self.count = self.calm = 0
        return self.limit


class WirePlaces(FifoSemaphore[Bounds]):
    """The places a client's requests hold on the wire, in arrival order: the pool's size at
    most, fewer while the event loop falls behind (see the module)."""

    __slots__ = ("_clock", "sizing")

    def __init__(self, sizing: PlaceSizing, *, clock: Clock) -> None:
        super().__init__(sizing.limit)
        self.sizing = sizing
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
        for _ in range(after - before):  # places given back: to waiters, or to repay a cut
            self.release()
