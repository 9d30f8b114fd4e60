"""Where an account's pacing lives: the LimitStore protocol and the in-process default.

A store holds, per account (host and account id), what every process using the account must
share: the rate permits, the pause after a 429 (with its cap), the learned limit and burst, the
rate-limit settings (all processes must agree on them), and leases that let one process at a
time run a job such as ``sync(prune=True)``. The pacing rules are pure (``pacing.step``); a
store only keeps the state and applies them atomically.

Concurrency slots stay per process, outside any store: they bound what one process holds open
(connections, memory, tasks) rather than what the account may spend, and a slot counted in a
shared store would leak for good when its process dies mid-request. The server limits the rate,
and that is what the store shares.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Final, Protocol

import attrs

from .._clock import Clock, monotonic
from .._exceptions import ConfigurationError
from . import pacing
from .pacing import PacingSettings, PacingState

#: How long a lease outlives its holder's last renewal (renewed every third of it).
LEASE_TTL: Final = 30.0

PauseListener = Callable[[float], None]
"""Told the seconds an account stays paused, whenever any process's 429 paused it."""


@attrs.frozen
class AccountKey:
    """One account on one Kore host."""

    host: str
    account_id: str


@attrs.frozen
class Permit:
    """A store's answer to "may this account send now?"."""

    #: 0.0 when granted; else the seconds until a permit may be free (nothing was taken).
    wait: float
    #: The store's clock when it answered: give it back with the request's outcome.
    at: float
    #: Whether a shared store answered (False: the in-process store, or a fallback to it).
    shared: bool = False
    #: Seconds the account stays paused by a 429 (0.0: not paused).
    pause: float = 0.0

    @property
    def granted(self) -> bool:
        """Whether the permit was taken."""
        return self.wait <= 0


class Lease(Protocol):
    """Held by one process at a time; ``held`` turns False if it was lost (store lost it)."""

    @property
    def held(self) -> bool: ...

    @property
    def waited(self) -> bool:
        """Whether another holder had it first (what it guarded may have changed since)."""
        ...


class LimitStore(Protocol):
    """Shared per-account pacing state. Every method is bounded in time."""

    async def bind(self, key: AccountKey, settings: PacingSettings) -> None:
        """Register ``settings`` for ``key``; ConfigurationError if others use different ones."""
        ...

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        """Take a rate permit now, or say how long until one may be free."""
        ...

    async def succeeded(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        """Count a success of a request sent on ``permit``."""
        ...

    async def rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        """Pause the account after a 429 (told to every watcher); return the pause left."""
        ...

    def watch_pauses(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        """Call ``listener`` whenever the account is paused; return the unsubscribe function."""
        ...

    def lease(
        self, key: AccountKey, name: str, ttl: float = ...
    ) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Wait for, hold and give back the account's lease called ``name``."""
        ...

    async def aclose(self) -> None:
        """Release what the store opened."""
        ...


class PauseListeners:
    """Listeners per account, told of every pause."""

    def __init__(self) -> None:
        self._listeners: dict[AccountKey, set[PauseListener]] = {}

    def add(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        """Add ``listener``; return the function that removes it."""
        self._listeners.setdefault(key, set()).add(listener)
        return lambda: self._listeners.get(key, set()).discard(listener)

    def tell(self, key: AccountKey, pause: float) -> None:
        """Tell every listener of ``key`` that it is paused for ``pause`` seconds."""
        for listener in list(self._listeners.get(key, ())):
            listener(pause)


@attrs.define
class _HeldLock:
    waited: bool
    held: bool = True


class LocalLimitStore:
    """The default store: one process's accounts, in memory, on the local monotonic clock."""

    def __init__(self, *, clock: Clock = monotonic) -> None:
        self._clock = clock
        self._accounts: dict[AccountKey, tuple[str, PacingState | None]] = {}
        self._listeners = PauseListeners()
        self._leases: dict[tuple[AccountKey, str], asyncio.Lock] = {}

    async def __aenter__(self) -> LocalLimitStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def apply(
        self,
        key: AccountKey,
        settings: PacingSettings,
        op: pacing.Op,
        permit: Permit | None = None,
        retry_after: float | None = None,
    ) -> Permit:
        """Apply one operation at once (no await): a Permit whose ``wait`` is step's number."""
        fingerprint = settings.fingerprint()
        stored, state = self._accounts.get(key, (fingerprint, None))
        if stored != fingerprint:
            raise settings_conflict(key, stored, fingerprint)
        now = self._clock()
        # A permit from another clock (a shared store's) is neither stale nor of this epoch.
        sent_at = permit.at if permit is not None and not permit.shared else now
        state, number = pacing.step(state, settings, now, op, sent_at, retry_after)
        self._accounts[key] = (fingerprint, state)
        if op == "429":
            self._listeners.tell(key, number)
        return Permit(number, now, pause=max(0.0, state.paused_until - now))

    async def bind(self, key: AccountKey, settings: PacingSettings) -> None:
        self.apply(key, settings, "bind")

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        return self.apply(key, settings, "permit")

    async def succeeded(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        self.apply(key, settings, "ok", permit)

    async def rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        return self.apply(key, settings, "429", permit, retry_after).wait

    def watch_pauses(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        return self._listeners.add(key, listener)

    @contextlib.asynccontextmanager
    async def lease(
        self, key: AccountKey, name: str, ttl: float = LEASE_TTL
    ) -> AsyncIterator[Lease]:
        """Hold the lease ``name`` of ``key`` in this process (a lock: ``ttl`` is unused)."""
        lock = self._leases.setdefault((key, name), asyncio.Lock())
        waited = lock.locked()
        async with lock:
            yield _HeldLock(waited)

    def state(self, key: AccountKey) -> PacingState | None:
        """What the store holds for ``key`` (None: nothing yet)."""
        return self._accounts.get(key, ("", None))[1]

    async def aclose(self) -> None:
        """Nothing to release: kept for the LimitStore protocol."""


def settings_conflict(key: AccountKey, stored: str, asked: str) -> ConfigurationError:
    """The error for a process asking for other settings than the account is paced with."""
    return ConfigurationError(
        f"account {key.account_id!r} on {key.host} is already paced with rate-limit settings "
        f"{stored} (by this or another process); this one asks for {asked}: use the same "
        "RateLimit everywhere"
    )
