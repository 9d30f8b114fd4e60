"""How a limiter's waiters wake: a nap an alarm cuts short, and a weak watch of store pauses."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable

from .._clock import Sleep, asyncio_sleep
from .outcomes import AccountOutcomes
from .store import AccountKey, LimitStore

Unwatch = Callable[[], None]
"""What stops a watch of an account's pauses (a store's ``watch_pauses`` returns it)."""


def nap(delay: float, alarm: asyncio.Future[bool], sleep: Sleep) -> Awaitable[object]:
    """Return what to await to sleep ``delay`` seconds by ``sleep``, or less if ``alarm`` rings
    first."""
    if sleep is asyncio_sleep:
        # The loop's own timer rings the alarm, and the alarm itself is awaited: no task, no
        # frame and no wait() per nap, which thousands of accounts waiting for their pace would
        # keep alive for the collector to walk. A timer that outlives its nap (cut short or
        # cancelled) rings an alarm already done: nothing.
        asyncio.get_running_loop().call_later(delay, ring, alarm)
        return alarm
    return _nap_by(delay, alarm, sleep)


async def _nap_by(delay: float, alarm: asyncio.Future[bool], sleep: Sleep) -> None:
    """Sleep ``delay`` seconds by an injected ``sleep``, or less if ``alarm`` rings first."""
    napping = asyncio.ensure_future(sleep(delay))
    try:
        await asyncio.wait((napping, alarm), return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not napping.done():
            napping.cancel()
    if not napping.cancelled() and napping.done():
        napping.result()  # a failing sleep still raises


def ring(alarm: asyncio.Future[bool]) -> None:
    """Wake the nap waiting on ``alarm`` (at its time: nothing cut it short)."""
    if not alarm.done():
        alarm.set_result(True)


def watch_weakly(store: LimitStore, key: AccountKey, account: AccountOutcomes) -> Unwatch:
    """Pass each of the store's pauses of ``key`` to ``account`` (its limiter), without keeping
    it alive; stop when it goes. Return the store's unwatch function, to stop sooner."""
    watch = PauseWatch(account, _unwatch_gone)
    # The watch itself listens: no bound method per account for the store to hold.
    watch.unwatch = store.watch_pauses(key, watch)
    return watch.unwatch


class PauseWatch(weakref.ref[AccountOutcomes]):
    """A weak reference to an account's limiter that passes it the pauses it hears, without a
    cycle.

    Called with a pause, it is a pause listener (``weakref.ref.__call__`` still reads the
    referent).
    """

    __slots__ = ("unwatch",)
    unwatch: Unwatch

    def __call__(self, pause: float) -> None:  # type: ignore[override]  # a listener, see above
        alive = weakref.ref.__call__(self)
        if alive is not None:
            alive._heard_pause(pause)


def _unwatch_gone(watch: weakref.ref[AccountOutcomes]) -> None:
    """The owner is gone: stop hearing its pauses, and free the watch by reference counting.

    ``unwatch`` holds the listener, the watch itself: dropped here, that loop of
    references is not left behind for the cyclic collector, once for every account freed.
    """
    if isinstance(watch, PauseWatch):
        unwatch, watch.unwatch = watch.unwatch, _stopped
        unwatch()


def _stopped() -> None:
    """Stop a watch that was stopped already: nothing to do."""
