"""Places on the wire: how many requests a client sends at once through a caller's bounded pool.

A client given a ``session=`` whose connector is bounded shares one place per connection among
all its accounts, at most. A paced request takes its place before its permit, so a permitted
request never waits for a connection and leaves a pace after the one before it (see
AccountLimiter).

It keeps only the places that buy throughput. Against a remote Kore a request spends a quarter
of a second on the wire, and twice the places carry twice the requests a second, up to the
pool's size. A client whose event loop is the bottleneck (thousands of accounts' calls against a
nearby server, or your own work on the same loop) reads answers no faster for having more
requests on the wire: they wait in the loop, and their objects live long enough for the garbage
collector to promote them and walk them again at every full collection. So the client measures
what the places carry (requests ended a second, their places passed straight to queued ones)
and hill-climbs:

- it starts with FLOOR places (or the pool's size, if smaller): TCP's slow start;
- after a round (one hand-off per place held, and at least MIN_ROUND seconds) it probes: twice
  as many places are kept if they carry 1.1 times the requests a second, half as many if they
  still carry 95 % of them (PAYS); a probe that does not pay is undone;
- a probe that paid is followed by the next in the same direction; one undone waits twice as
  many rounds before the next (PROBE_EVERY at first, LONGEST_WAIT at most), in the other
  direction.

A round in which a place was freed with nobody waiting for it measures nothing: the requests,
not the places, were the bound.
"""

from __future__ import annotations

from typing import Final

import attrs

from .._clock import Clock
from .fifo import FifoSemaphore
from .pauses import Bounds

#: The first and fewest places (or the pool's size, if smaller): at a remote Kore's 0.25 s a
#: request, 32 places carry 128 requests a second.
FLOOR: Final = 32
#: A probe's size is kept if the requests a second changed by at least this share of the
#: change in places (more places) or by at most this share of it (fewer): twice the places are
#: kept if they carry 1.1 times the requests a second, half if they still carry 95 % of them.
PAYS: Final = 0.1
#: The shortest round, in seconds: long enough that one pause of the loop (a full collection)
#: is a small part of it.
MIN_ROUND: Final = 0.2
#: Rounds between probes after one that paid; doubled after each that did not.
PROBE_EVERY: Final = 8
#: The most rounds between two probes.
LONGEST_WAIT: Final = 64


@attrs.define(slots=True)
class PlaceSizing:
    """How many places to keep, from the requests a second they carry (pure: the caller tells
    the time of each hand-off, and when a place is freed with nobody waiting)."""

    ceiling: int = attrs.field(validator=attrs.validators.ge(1))
    """The pool's size: never more places."""
    limit: int = attrs.field()
    """The places kept now."""
    #: The size before the probe under way, and the requests a second it carried (0: none).
    tried_from: int = 0
    tried_rate: float = 0.0
    #: Which way the next probe goes, in how many rounds, and how many after one that fails.
    upward: bool = True
    wait: int = 0
    spacing: int = PROBE_EVERY
    #: The round under way: its start (None: not started) and its hand-offs since.
    started: float | None = None
    count: int = 0

    @limit.default
    def _the_floor(self) -> int:
        return min(FLOOR, self.ceiling)

    def idle(self) -> None:
        """A place was freed with nobody waiting: the round under way measures nothing."""
        self.started = None
        self.count = 0

    def handed(self, now: float) -> int:
        """A request ended at ``now`` and its place passed straight to a waiting one: the
        places from now on."""
        if self.started is None:
            self.started = now
            return self.limit
        self.count += 1
        elapsed = now - self.started
        if self.count >= self.limit and elapsed >= MIN_ROUND:
            self._round_ended(self.count / elapsed)
            self.started, self.count = now, 0
        return self.limit

    def _round_ended(self, rate: float) -> None:
        if self.tried_from:
            self._judge(rate)
            return
        self.wait -= 1
        if self.wait > 0:
            return
        if not (self._probe(rate, self.upward) or self._probe(rate, not self.upward)):
            self.wait = LONGEST_WAIT  # one size only: nothing to try

    def _probe(self, rate: float, upward: bool) -> bool:
        """Try the next size in that direction, if there is one; say whether there was."""
        if upward:
            size = min(self.ceiling, self.limit * 2)
        else:
            size = max(self._the_floor(), self.limit // 2)
        if size == self.limit:
            return False
        self.tried_from, self.tried_rate = self.limit, rate
        self.upward = upward
        self.limit = size
        return True

    def _judge(self, rate: float) -> None:
        """The round after a probe ended: keep its size if it paid, else go back."""
        before, self.tried_from = self.tried_from, 0
        upward = self.limit > before
        # Bound by the wire, the rate follows the places; by the loop, it stays. A tenth of the
        # way decides: a wire-bound client loses throughput to each probe wrongly undone, a
        # loop-bound one only some promotions to one wrongly kept, until a probe down.
        if rate >= self.tried_rate * (1 + PAYS * (self.limit / before - 1)):
            self.spacing = PROBE_EVERY
            if not self._probe(rate, upward):  # as far as it goes: settle there
                self._settle(upward)
            return
        self.limit = before
        self.spacing = min(self.spacing * 2, LONGEST_WAIT)
        self._settle(upward)

    def _settle(self, upward: bool) -> None:
        """Wait ``spacing`` rounds, then probe the other way first."""
        self.wait = self.spacing
        self.upward = not upward


class WirePlaces(FifoSemaphore[Bounds]):
    """The places a client's requests hold on the wire, in arrival order: the pool's size at
    most, fewer while more would not carry more requests a second (see the module)."""

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
        """A turn ended: its place goes on, and counts as a request the places carried."""
        self._pass_on(carried=True)

    def give_back(self) -> None:
        """A place taken for a permit that was refused goes on, having carried nothing."""
        self._pass_on(carried=False)

    def _pass_on(self, *, carried: bool) -> None:
        """Hand the place to the first live waiter, free it, or drop it if the places shrank."""
        if self._free < 0:  # more places out than kept: this one goes
            self._free += 1
            return
        waiter = self._first_live()
        if waiter is None:
            self._free += 1
            self.sizing.idle()
            return
        waiter.set_result(True)
        if not carried:
            return
        before = self.sizing.limit
        after = self.sizing.handed(self._clock())
        if after < before:
            self._free -= before - after
        for _ in range(after - before):  # places added: to waiters at once, or free
            self._pass_on(carried=False)
