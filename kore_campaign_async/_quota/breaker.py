"""A circuit breaker for a shared store: every call bounded, one WARNING per outage."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from .._clock import Clock

T = TypeVar("T")

logger = logging.getLogger("kore_campaign_async.quota")


async def bounded(awaitable: Awaitable[T], timeout: float) -> T:
    """Await within ``timeout`` seconds, else raise TimeoutError; a cancel always propagates.

    The call runs in a task of its own and we wait on that task, not inside it: redis-py 8
    writes through ``asyncio.wait_for``, which on Python 3.11 swallows a cancellation that
    races with the write finishing, and the cancelled caller would run on (measured: a lease
    wait under ``asyncio.timeout`` never ended). Whatever the call swallows stays in its task.
    """
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
