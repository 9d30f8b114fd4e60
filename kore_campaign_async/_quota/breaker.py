"""A circuit breaker for a shared store: every call bounded, one WARNING per outage."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._clock import Clock

T = TypeVar("T")

logger = logging.getLogger("kore_campaign_async.quota")


async def bounded(awaitable: Awaitable[T], timeout: float) -> T:
    """Await within ``timeout`` seconds, else raise TimeoutError; a cancel always propagates.

    redis-py writes through ``asyncio.wait_for`` when its client has a ``socket_timeout``,
    and on Python 3.11 that swallows a cancellation racing with the write's end: the
    cancelled caller would run on (measured: a lease wait under ``asyncio.timeout`` never
    ended). So a cancel asked for while the call ran, and not raised by it, is raised here.
    Python 3.10 has no ``Task.cancelling``: there the call runs in a task of its own and we
    wait on that task, so whatever the call swallows stays in its task.
    """
    if sys.version_info < (3, 11):
        return await _in_own_task(awaitable, timeout)
    task = asyncio.current_task()
    assert task is not None
    cancels = task.cancelling()
    async with asyncio.timeout(timeout):
        result = await awaitable
    if task.cancelling() > cancels:
        raise asyncio.CancelledError
    return result


async def _in_own_task(awaitable: Awaitable[T], timeout: float) -> T:
    call = asyncio.ensure_future(awaitable)
    try:
        done, _ = await asyncio.wait((call,), timeout=timeout)
    except BaseException:
        call.cancel()
        raise
    if not done:
        call.cancel()
        raise asyncio.TimeoutError(f"no answer within {timeout:g}s")
    return call.result()


class StoreUnavailable(Exception):
    """The shared store did not answer in time (or the breaker is open): use the fallback."""


class CircuitBreaker:
    """Bound every call to ``timeout``; after a failure skip the store for ``retry_every``.

    Closed: calls go to the store. A call that fails or takes longer than ``timeout`` opens the
    breaker (one WARNING for the whole outage) and raises :class:`StoreUnavailable`; so does
    every call while it is open. After ``retry_every`` the next calls try the store again; the
    first that succeeds closes it (one INFO line).
    """

    def __init__(
        self,
        *,
        timeout: float,
        retry_every: float,
        clock: Clock,
        failures: tuple[type[BaseException], ...],
        what: str,
        fallback: str,
    ) -> None:
        self._timeout = timeout
        self._retry_every = retry_every
        self._clock = clock
        self._failures: tuple[type[BaseException], ...] = (
            *failures,
            OSError,
            asyncio.TimeoutError,
        )
        self._what = what
        self._fallback = fallback
        self._retry_at: float | None = None

    @property
    def is_open(self) -> bool:
        """Whether the store is considered down (calls go to the fallback)."""
        return self._retry_at is not None

    async def call(self, make: Callable[[], Awaitable[T]]) -> T:
        """Return ``await make()`` within the timeout, or raise StoreUnavailable."""
        if self._retry_at is not None and self._clock() < self._retry_at:
            raise StoreUnavailable(f"{self._what} skipped: the circuit is open")
        try:
            result = await bounded(make(), self._timeout)
        except self._failures as exc:
            self._trip(exc)
            raise StoreUnavailable(f"{self._what} unavailable: {exc!r}") from exc
        if self._retry_at is not None:
            self._retry_at = None
            logger.info("%s answers again: shared pacing resumes", self._what)
        return result

    def _trip(self, exc: BaseException) -> None:
        if self._retry_at is None:
            logger.warning(
                "%s unavailable (%s): %s until it answers again",
                self._what,
                type(exc).__name__ if isinstance(exc, asyncio.TimeoutError) else exc,
                self._fallback,
            )
        self._retry_at = self._clock() + self._retry_every
