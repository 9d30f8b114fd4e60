"""Pace one account: a FIFO concurrency slot first, then a place on the wire and a rate permit
from the limit store."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Coroutine
from typing import Any, Final

from .._clock import Clock, Expired, Sleep, within
from .._config import require_positive_int
from .._exceptions import ConfigurationError, RateLimitError
from .alarms import nap, watch_weakly
from .background import Background
from .fifo import FifoSemaphore
from .legacy_store import current_store
from .outcomes import NO_PERMIT, AccountOutcomes, Turn
from .pacing import EPSILON
from .pauses import Bounds, outlasts, refuse_long_pause
from .places import WirePlaces
from .rate_limit import DEFAULT_MARGIN, RateLimit, pacing_settings
from .store import LEASE_TTL, AccountKey, Lease, LimitStore, LocalLimitStore, Permit, PermitRefused

# No pause yet (one float shared by every limiter, not one each).
_NEVER: Final = -math.inf


class AccountLimiter(AccountOutcomes):
    """Concurrency and rate limits for one account (keep backoff sleeps outside ``slot()``).

    ``async with limiter.slot() as turn:`` waits, in FIFO order, for a concurrency slot,
    then for a rate permit, and yields the :class:`Turn`. The permits, the pause after a 429
    and what the pacing learned live in a :class:`LimitStore` (by default one of this process;
    a ``RedisLimitStore`` shares them with every process on the account), which applies the
    rules of ``_quota.pacing``: GCRA pacing at ``1 / (1 + safety_margin)`` of the limit after
    a burst of ``RateLimit.burst``, a pause after each 429 (at most ``RateLimit.max_pause``)
    for every task and process of the account, and, when ``adaptive``, a limit learned from
    what the server admitted before its 429s. Concurrency slots stay here, per process (see
    ``_quota.store`` for why). Report every outcome through the turn: ``turn.succeeded()``
    or ``turn.rate_limited(retry_after)``.

    A pause is never waited out silently past what the caller accepts: ``slot()`` raises
    :class:`RateLimitError` (``retry_after`` = the pause left, ``request_sent`` False) rather
    than wait for a pause longer than ``max_pause`` or ending after ``deadline_at``, when it
    arrives or when a 429 (of any process sharing the store) pauses the account while it
    waits. Pacing is queueing, not a server-directed delay: ``slot(max_wait=)`` bounds the
    whole wait for the turn and raises the same way, with an estimate of when a turn comes.

    A client whose connection pool is bounded also gives its accounts' limiters its places on
    the wire (``_send_through``).
    """

    # Slots: a process may hold one limiter for each of thousands of accounts.
    __slots__ = (
        "__weakref__",
        "_bound",
        "_clock",
        "_max_concurrency",
        "_napping",
        "_paused_until",
        "_permit_turn",
        "_permit_waiting",
        "_places",
        "_running",
        "_sending",
        "_sleep",
        "_slots",
        "_unwatch",
    )

    def __init__(
        self,
        rate_limit: RateLimit | None,
        max_concurrency: int,
        *,
        clock: Clock,
        sleep: Sleep,
        adaptive: bool = True,
        safety_margin: float = DEFAULT_MARGIN,
        store: LimitStore | None = None,
        key: AccountKey | None = None,
    ) -> None:
        require_positive_int("AccountLimiter.max_concurrency", max_concurrency)
        if not (0 <= safety_margin < 1):
            raise ConfigurationError(
                f"AccountLimiter.safety_margin must be in [0, 1), got {safety_margin!r}"
            )
        self._max_concurrency = max_concurrency
        self._clock = clock
        self._sleep = sleep
        settings = (
            None if rate_limit is None else pacing_settings(rate_limit, safety_margin, adaptive)
        )
        # Outcomes on their way to a 0.1 store (None: the store records them at once).
        self._sending: Background | None = None
        if store is None:
            store = LocalLimitStore(clock=clock)
        else:
            store, self._sending = current_store(store)
        super().__init__(
            store,
            key if key is not None else AccountKey("", f"limiter-{id(self)}"),
            rate_limit,
            settings,
        )
        # Hear every pause of the account (this process's or another's) while alive.
        self._unwatch = watch_weakly(self._store, self._key, self)
        self._bound = False
        # Queued callers are tagged with the pause they accept: woken when a pause outlasts it.
        self._slots: FifoSemaphore[Bounds] = FifoSemaphore(max_concurrency)
        # One task at a time asks the store (and sleeps until) the next permit: FIFO here.
        self._permit_turn: FifoSemaphore[Bounds] = FifoSemaphore(1)
        self._permit_waiting = 0
        # The client's places on the wire (None: unbounded): see _send_through.
        self._places: WirePlaces | None = None
        # The permit turn's holder while it sleeps: its alarm, and the pause it accepts.
        self._napping: tuple[asyncio.Future[bool], Bounds] | None = None
        self._running = 0
        # This process's view of the account's pause (the store's is the truth).
        self._paused_until = _NEVER

    def _send_through(self, places: WirePlaces) -> None:
        """Hold one of ``places`` for every turn (before any turn is taken): the client's places
        on the wire, as many as its connection pool sends at once, shared by all its accounts.

        A turn takes its place before its permit and frees it when it ends, so a request is
        never permitted only to wait for a connection: when the pool is the bottleneck,
        requests permitted a pace apart would queue there and reach Kore together (a backlog
        of a window's worth draws 429s from a paced account).
        """
        self._places = places

    @property
    def rate_limit(self) -> RateLimit | None:
        """The configured rate limit; None means concurrency only."""
        return self._rate

    @property
    def max_concurrency(self) -> int:
        """Most requests of this account in flight at once."""
        return self._max_concurrency

    @property
    def in_flight(self) -> int:
        """Requests holding a slot and a permit, i.e. inside ``slot()``."""
        return self._running

    @property
    def waiting(self) -> int:
        """Tasks waiting for a slot or for a permit."""
        return self._slots.waiting + self._permit_waiting

    @property
    def idle(self) -> bool:
        """Nothing in flight or waiting, no pause running, no outcome on its way to the store."""
        sending = self._sending is not None and self._sending.pending
        busy = self._running or self.waiting or sending
        return not busy and self.paused_until is None

    @property
    def paused_until(self) -> float | None:
        """The clock time a 429 paused the account until, while that is in the future."""
        return self._paused_until if self._paused_until > self._clock() else None

    def slot(
        self,
        *,
        max_pause: float = math.inf,
        deadline_at: float = math.inf,
        max_wait: float | None = None,
        method: str = "",
        url: str = "",
    ) -> contextlib.AbstractAsyncContextManager[Turn]:
        """Hold a concurrency slot and a rate permit: the account's turn, to send one request.

        Raise :class:`RateLimitError` (``request_sent`` False, naming ``method`` and ``url``)
        rather than wait for an account pause (after a 429) longer than ``max_pause`` seconds
        or ending after ``deadline_at`` (clock time), or longer than ``max_wait`` seconds in
        all for the turn. Report the request's outcome through the yielded :class:`Turn`.
        """
        return _Slot(self, Bounds(max_pause, deadline_at, method, url), max_wait)

    def take_turn(
        self,
        *,
        max_pause: float = math.inf,
        deadline_at: float = math.inf,
        max_wait: float | None = None,
        method: str = "",
        url: str = "",
    ) -> Coroutine[Any, Any, Turn]:
        """Wait for the account's turn as ``slot()`` does, and return it; ``turn.end()`` frees
        its slot (no context manager: nothing of it stays alive while the request is out)."""
        return self._take(Bounds(max_pause, deadline_at, method, url), max_wait)

    def _take(self, bounds: Bounds, max_wait: float | None) -> Coroutine[Any, Any, Turn]:
        # The entering coroutine itself, not one more around it.
        if max_wait is None:
            return self._enter(bounds)
        return self._enter_within(bounds, max_wait)

    async def _enter_within(self, bounds: Bounds, max_wait: float) -> Turn:
        """Enter the account's turn within ``max_wait`` seconds."""
        # Entered in a task that within() cancels after max_wait.
        entering = asyncio.ensure_future(self._enter(bounds))
        try:
            return await within(max_wait, self._sleep, entering)
        except Expired:
            raise self._no_turn(max_wait, bounds) from None
        except BaseException:
            if entering.done() and not entering.cancelled() and entering.exception() is None:
                self._leave()  # won as we were cancelled: pass it on (slot and place)
            raise

    async def _enter(self, bounds: Bounds) -> Turn:
        """In FIFO order, take a slot, then the permit turn, and as its holder a permit; without
        a rate the permit is the end of any pause (with no pause and nobody waiting for a
        permit ahead, nothing to wait for). One frame while queued: thousands of accounts'
        queued calls are what the garbage collector walks."""
        asked = self._clock()
        if self._paused_until - asked > EPSILON:
            refuse_long_pause(self._paused_until, asked, bounds)
        while not await self._slots.acquire(bounds):
            refuse_long_pause(self._paused_until, self._clock(), bounds)  # woken: it grew
        permit = NO_PERMIT
        free = self._settings is None and not self._permit_waiting
        try:
            if not (free and self._paused_until - self._clock() <= EPSILON):
                self._permit_waiting += 1
                try:
                    refuse_long_pause(self._paused_until, self._clock(), bounds)
                    while not await self._permit_turn.acquire(bounds):
                        refuse_long_pause(self._paused_until, self._clock(), bounds)  # it grew
                    try:
                        permit = await self._permit(bounds)
                    finally:
                        self._napping = None
                        self._permit_turn.release()
                finally:
                    self._permit_waiting -= 1
            if self._settings is None and self._places is not None:
                # Unpaced: a place once any pause is over (a paced turn took one in _permit).
                await self._places.acquire(bounds)  # never woken: nothing wakes places
        except BaseException:
            self._slots.release()
            raise
        self._running += 1
        return Turn(self, permit, asked, self._clock())

    def _leave(self) -> None:
        self._running -= 1
        self._slots.release()
        if self._places is not None:
            self._places.release()

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Pause the whole account after a 429 heard outside a turn (every process sharing the
        store, too); a turn's own 429 is ``turn.rate_limited()``."""
        self._record_rate_limited(retry_after, NO_PERMIT)

    def on_success(self) -> None:
        """Count a success heard outside a turn; a turn's own is ``turn.succeeded()``."""
        self._record_success(NO_PERMIT)

    def lease(
        self, name: str, ttl: float = LEASE_TTL
    ) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Hold the account's lease ``name`` in the store: one holder across its processes."""
        return self._store.lease(self._key, name, ttl)

    async def aclose(self) -> None:
        """Wait for outcomes still on their way to a 0.1 store; stop hearing its pauses."""
        if self._sending is not None:
            await self._sending.drain()
        self._unwatch()

    def _heard_pause(self, pause: float) -> None:
        """The account is paused for ``pause`` seconds from now (by this or another process)."""
        now = self._clock()
        until = now + pause
        if until > self._paused_until:
            self._paused_until = until
            self._wake_outlasted(now)

    async def _permit(self, bounds: Bounds) -> Permit:
        """As the permit turn's holder: take a place on the wire, then ask the store for a
        permit, until it grants one; never while a pause heard here runs (the store may not
        have it yet); without a rate, wait out any pause (``_enter`` then takes the place).
        Granted, it goes at once: the permit holds its place in the pace, and one held through
        a pause heard meanwhile (or a wait for a connection) would start beside the next
        permit. Refused, the place is given back while the call naps: an account waiting for
        its pace holds none of the pool."""
        if self._settings is None:
            await self._wait_out_pause(bounds)
            return NO_PERMIT
        places = self._places
        while True:
            await self._wait_out_pause(bounds)
            if places is not None:
                await places.acquire(bounds)
            try:
                permit = await self._ask_store(bounds)
            except BaseException:
                if places is not None:
                    places.give_back()
                raise
            if permit.granted:
                return permit
            if places is not None:
                places.give_back()
            if permit.pause > 0:
                self._heard_pause(permit.pause)
                refuse_long_pause(self._paused_until, self._clock(), bounds)
            await self._nap(permit.wait, bounds)

    async def _ask_store(self, bounds: Bounds) -> Permit:
        """Ask the store for a permit (registering the settings on first use)."""
        assert self._settings is not None
        try:
            if not self._bound:
                await self._store.bind(self._key, self._settings)
                self._bound = True
            return await self._store.permit(self._key, self._settings)
        except PermitRefused as refused:
            raise bounds.refusal(f"{refused}: not sent", None) from refused

    async def _wait_out_pause(self, bounds: Bounds) -> None:
        """Sleep until the account's pause is over; refuse if it outlasts ``bounds``."""
        while True:
            now = self._clock()
            refuse_long_pause(self._paused_until, now, bounds)
            if self._paused_until - now <= EPSILON:
                return
            # Re-check after waking: a 429 may have moved the time.
            await self._nap(self._paused_until - now, bounds)

    def _no_turn(self, waited: float, bounds: Bounds) -> RateLimitError:
        """Return the error of a call that gave up on its turn: when would one come? The
        pause, or every call queued served first at the current pace; None: no rate, no pause.
        """
        now = self._clock()
        estimate = max(0.0, self._paused_until - now)
        if self._rate is not None:
            per_request = self._rate.per / (self.effective_limit or self._rate.requests)
            estimate = max(estimate, (self.waiting + 1) * per_request)
        why = f"no turn within max_queue_wait ({waited:g}s), {self.waiting} other calls queued"
        return bounds.refusal(f"{why}: not sent", estimate or None)

    def _wake_outlasted(self, now: float) -> None:
        """Wake every waiter the (grown) pause outlasts, wherever it waits, to refuse."""

        def outlasted(bounds: Bounds) -> bool:
            return outlasts(self._paused_until, now, bounds)

        self._slots.wake(outlasted)
        self._permit_turn.wake(outlasted)
        if self._napping is not None:
            alarm, bounds = self._napping
            if not alarm.done() and outlasted(bounds):
                alarm.set_result(False)

    def _nap(self, delay: float, bounds: Bounds) -> Awaitable[object]:
        """What to await to sleep ``delay``, or less when a pause this call will not wait out
        arrives (the permit turn's holder naps; ``_enter`` forgets the nap with the turn)."""
        alarm: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._napping = (alarm, bounds)
        return nap(delay, alarm, self._sleep)


class _Slot:
    """What ``slot()`` returns: entered, the account's turn; left, the turn ends
    (``Turn.end()``, which frees the slot once however often it is called)."""

    __slots__ = ("_bounds", "_limiter", "_max_wait", "_turn")

    def __init__(self, limiter: AccountLimiter, bounds: Bounds, max_wait: float | None) -> None:
        self._limiter = limiter
        self._bounds = bounds
        self._max_wait = max_wait
        self._turn: Turn | None = None

    async def __aenter__(self) -> Turn:
        self._turn = await self._limiter._take(self._bounds, self._max_wait)
        return self._turn

    async def __aexit__(self, *exc_info: object) -> None:
        if self._turn is not None:
            self._turn.end()
