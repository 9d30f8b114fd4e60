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
from .pacing import PacingState
from .rate_limit import PacingSettings

# Fewest states before the in-process store sweeps idle ones.
_MIN_SWEEP: Final = 64
#: How long a lease outlives its holder's last renewal (renewed every third of it).
LEASE_TTL: Final = 30.0


class PermitRefused(Exception):
    """The store grants no permit at all now (a strict store without its backend): the
    limiter refuses the turn with a RateLimitError naming the request, nothing sent."""


PauseListener = Callable[[float], None]
"""Told the seconds an account stays paused, whenever any process's 429 paused it."""


@attrs.frozen(weakref_slot=False)
class AccountKey:
    """One account on one Kore host."""

    host: str
    """The host's origin, ``scheme://host[:port]`` as the client normalises it (lower case, no
    default port, no path), so every spelling of one host names one account."""
    account_id: str


@attrs.frozen(weakref_slot=False)
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
    """Shared per-account pacing state. Every method is bounded in time.

    A request's outcome is recorded without an await (``record_success``,
    ``record_rate_limited``): the account is paused before the next permit is asked for, and a
    store that must tell a backend sends it in the background (``aclose`` sends the rest).
    """

    async def bind(self, key: AccountKey, settings: PacingSettings) -> None:
        """Register ``settings`` for ``key``; ConfigurationError if others use different ones."""
        ...

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        """Take a rate permit now, or say how long until one may be free; raise
        :class:`PermitRefused` when none can be granted at all."""
        ...

    def record_success(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        """Count a success of a request sent on ``permit`` (no await: send it later if need be)."""
        ...

    def record_rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        """Pause the account after a 429 at once and return the pause left, in seconds (no
        await: a shared store tells the other processes in the background); when unsure, at
        least ``min(retry_after, settings.pause_cap)``, or one interval without a Retry-After."""
        ...

    def learned_limit(self, key: AccountKey) -> float | None:
        """The limit the pacing learned for ``key``, if this process knows it (None: no)."""
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
    """Listeners per account, told of every pause.

    Thousands of accounts each have one listener: it is stored alone, a list only for a second
    one, and its unsubscribe function is one small object (no partial, no bound method).
    """

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: dict[AccountKey, PauseListener | list[PauseListener]] = {}

    def add(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        """Add ``listener``; return the function that removes it."""
        had = self._listeners.get(key)
        if had is None:
            self._listeners[key] = listener
        elif isinstance(had, list):
            had.append(listener)
        else:
            self._listeners[key] = [had, listener]
        return _Unwatch(self, key, listener)

    def remove(self, key: AccountKey, listener: PauseListener) -> None:
        """Remove ``listener`` of ``key`` if it is there."""
        had = self._listeners.get(key)
        if had == listener:
            del self._listeners[key]
        elif isinstance(had, list) and listener in had:
            had.remove(listener)
            if len(had) == 1:
                self._listeners[key] = had[0]

    def compact(self) -> None:
        """Size the table for the accounts watched now (a dict never shrinks on deletion)."""
        self._listeners = dict(self._listeners)

    def tell(self, key: AccountKey, pause: float) -> None:
        """Tell every listener of ``key`` that it is paused for ``pause`` seconds."""
        had = self._listeners.get(key)
        if had is None:
            return
        for listener in list(had) if isinstance(had, list) else (had,):
            listener(pause)


class _Unwatch:
    """Remove one pause listener when called (what ``PauseListeners.add`` returns)."""

    __slots__ = ("_key", "_listener", "_listeners")

    def __init__(self, listeners: PauseListeners, key: AccountKey, listener: PauseListener):
        self._listeners = listeners
        self._key = key
        self._listener = listener

    def __call__(self) -> None:
        self._listeners.remove(self._key, self._listener)


@attrs.define
class _HeldLock:
    waited: bool
    held: bool = True


class LocalLimitStore:
    """The default store: one process's accounts, in memory, on the local monotonic clock.

    An account's pacing state is dropped once it is idle, i.e. equivalent to a fresh one (see
    :func:`reclaimable`); its settings stay, one shared object per distinct settings, so the
    account keeps refusing other settings. Idle states are swept whenever the number of states
    has doubled since the last sweep (and by :meth:`forget_idle`): no timer, no task.
    """

    def __init__(self, *, clock: Clock = monotonic) -> None:
        self._clock = clock
        # Each account's settings, kept for good: per host, by account id (no key object kept
        # per idle account), one shared object per distinct settings (by fingerprint).
        self._settings: dict[str, dict[str, PacingSettings]] = {}
        self._distinct: dict[str, PacingSettings] = {}
        # Each account's pacing, while it differs from a fresh one's.
        self._states: dict[AccountKey, PacingState] = {}
        self._sweep_at = _MIN_SWEEP
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
        self._check_settings(key, settings)
        now = self._clock()
        # A permit from another clock (a shared store's) is neither stale nor of this epoch.
        sent_at = permit.at if permit is not None and not permit.shared else now
        had = self._states.get(key)
        state, number = pacing.step(had, settings, now, op, sent_at, retry_after)
        if state is not had:  # new, or idle long enough to start afresh
            if had is None and len(self._states) >= self._sweep_at:
                self.forget_idle()
                self._sweep_at = max(_MIN_SWEEP, 2 * len(self._states))
            self._states[key] = state
        if op == "429":
            self._listeners.tell(key, number)
        return Permit(number, now, pause=max(0.0, state.paused_until - now))

    def _check_settings(self, key: AccountKey, settings: PacingSettings) -> None:
        """Fix the account's settings at its first use; refuse other ones after that."""
        accounts = self._settings.get(key.host)
        if accounts is None:
            accounts = self._settings[key.host] = {}
        stored = accounts.get(key.account_id)
        if stored is settings:  # the usual case: every limiter shares its settings object
            return
        fingerprint = settings.fingerprint()
        if stored is None:
            accounts[key.account_id] = self._distinct.setdefault(fingerprint, settings)
        elif stored.fingerprint() != fingerprint:
            raise settings_conflict(key, stored.fingerprint(), fingerprint)

    async def bind(self, key: AccountKey, settings: PacingSettings) -> None:
        # Settings only: the first permit starts the pacing state, on its own clock reading.
        self._check_settings(key, settings)

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        return self.apply(key, settings, "permit")

    def record_success(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        self.apply(key, settings, "ok", permit)

    def record_rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        return self.apply(key, settings, "429", permit, retry_after).wait

    def learned_limit(self, key: AccountKey) -> float | None:
        state = self._states.get(key)
        return None if state is None else state.limit

    async def succeeded(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        """``record_success``, awaitable (as the 0.1 protocol asked)."""
        self.record_success(key, settings, permit)

    async def rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        """``record_rate_limited``, awaitable (as the 0.1 protocol asked)."""
        return self.record_rate_limited(key, settings, retry_after, permit)

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
        return self._states.get(key)

    def forget_idle(self) -> int:
        """Drop every state equivalent to a fresh one (settings stay); return how many."""
        now = self._clock()
        before = len(self._states)
        # A new dict, not deletions: a dict never shrinks its table on deletion.
        self._states = {
            key: state
            for key, state in self._states.items()
            if not reclaimable(state, self._settings[key.host][key.account_id], now)
        }
        self._listeners.compact()
        return before - len(self._states)

    async def aclose(self) -> None:
        """Nothing to release: kept for the LimitStore protocol."""


def reclaimable(state: PacingState, settings: PacingSettings, now: float) -> bool:
    """Return whether ``state`` paces exactly as a fresh one would: then it may be dropped.

    True when no pause runs and either the pacing would forget the state anyway (idle
    ``FORGET_WINDOWS`` windows) or it owes nothing and learned nothing: the next permit is
    free now (the GCRA's theoretical arrival time is past) at the configured limit and burst.
    """
    if now < state.paused_until:
        return False
    if now - state.touched > pacing.FORGET_WINDOWS * settings.per:
        return True
    return (
        state.tat <= now
        and state.limit >= settings.requests
        and state.burst >= settings.start_burst
    )


def settings_conflict(key: AccountKey, stored: str, asked: str) -> ConfigurationError:
    """The error for a process asking for other settings than the account is paced with."""
    return ConfigurationError(
        f"account {key.account_id!r} on {key.host} is already paced with rate-limit settings "
        f"{stored} (by this or another process); this one asks for {asked}: use the same "
        "RateLimit everywhere"
    )
