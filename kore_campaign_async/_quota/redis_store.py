"""RedisLimitStore: one account's pacing shared by every process and host using it.

Each account has one hash, ``<prefix>:{<host>|<account>}:pace`` (the braces are its cluster hash
tag, so an account's keys share a slot; host and account id are percent-encoded, so no brace or
bar of theirs can split it), updated only by the Lua twin of ``pacing.step`` and expiring
``FORGET_WINDOWS`` windows plus one capped pause after its last use. Leases live beside it
(``...:lease:<name>``). A 429 is published on ``...:pause``; every store listens on one pattern
subscription and tells its watchers, so processes waiting for a permit hear the pause at once.

Redis down, slow or restarted: every call is bounded by ``timeout`` (redis-py's own retries are
switched off on the clients we make). By default the store then logs one WARNING and paces each
account locally at ``fallback_share`` of its limit until Redis answers again (retried every
``retry_every`` seconds); with ``strict=True`` a permit fails with :class:`PermitRefused`
instead (the call then fails with ``RateLimitError(request_sent=False)``). Outcomes are never
lost: a success or a 429 that Redis cannot take is applied to the local fallback.

A request makes one round trip: its success is not sent on its own but held (``outbox``) and
counted by the account's next permit or 429 in the same script call, or by a background flush
when no call comes first; ``aclose`` sends what is still held. Script calls go on a connection
the store makes for itself like the client's own (``connection``), the client's pool taking
those that overlap one in flight; leases go through the client.

Requires the ``redis`` extra (``pip install 'kore_campaign_async[redis]'``); redis is imported
only when a RedisLimitStore is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import quote

from .._clock import Clock, Sleep, asyncio_sleep, monotonic
from .._exceptions import ConfigurationError
from . import _lua
from .background import Background
from .breaker import CircuitBreaker, StoreUnavailable, logger
from .connection import HeldConnection
from .outbox import Held, Outbox
from .pacing import first_pause
from .pubsub import PauseSubscriber
from .rate_limit import PacingSettings
from .redis_lease import RedisLeases
from .redis_url import bad_url, import_redis
from .store import (
    LEASE_TTL,
    AccountKey,
    Lease,
    LocalLimitStore,
    PauseListener,
    PauseListeners,
    Permit,
    PermitRefused,
    settings_conflict,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")

DEFAULT_TIMEOUT: Final = 0.25
DEFAULT_RETRY_EVERY: Final = 1.0
DEFAULT_FALLBACK_SHARE: Final = 0.25
DEFAULT_PREFIX: Final = "kca"


class RedisLimitStore:
    """A LimitStore in Redis: pacing, pauses, settings and leases shared across hosts."""

    def __init__(
        self,
        client: Redis,
        *,
        strict: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        retry_every: float = DEFAULT_RETRY_EVERY,
        fallback_share: float = DEFAULT_FALLBACK_SHARE,
        prefix: str = DEFAULT_PREFIX,
        clock: Clock = monotonic,
        sleep: Sleep = asyncio_sleep,
    ) -> None:
        """Use ``client`` (never closed by this store: you made it, you close it).

        The store also makes one connection like the client's for its script calls, and closes
        it in ``aclose``.
        """
        if not (0 < timeout < math.inf):
            raise ConfigurationError(f"timeout must be finite and > 0, got {timeout!r}")
        if not (0 < fallback_share <= 1):
            raise ConfigurationError(f"fallback_share must be in (0, 1], got {fallback_share!r}")
        exceptions = importlib.import_module("redis.exceptions")
        self._client = client
        self._connection = HeldConnection(client)
        self._owns_client = False
        self._strict = strict
        self._timeout = timeout
        self._share = fallback_share
        self._prefix = prefix
        self._sleep = sleep
        self._pace = client.register_script(_lua.PACE)
        fallback = (
            "failing permits with RateLimitError(request_sent=False)"
            if strict
            else f"pacing each account locally at {fallback_share:.0%} of its limit"
        )
        self._breaker = CircuitBreaker(
            timeout=timeout,
            retry_every=retry_every,
            clock=clock,
            failures=(exceptions.RedisError,),
            what="Redis limit store",
            fallback=fallback,
        )
        self._local = LocalLimitStore(clock=clock)
        self._listeners = PauseListeners()
        self._subscriber = PauseSubscriber(
            client,
            pattern=f"{prefix}:*:pause",
            on_pause=self._heard,
            failures=(exceptions.RedisError, OSError, asyncio.TimeoutError),
            timeout=timeout,
            retry_every=retry_every,
            sleep=sleep,
        )
        self._channels: dict[str, AccountKey] = {}
        #: The longest pause a 429 imposes on the account of a channel (its settings').
        self._pause_caps: dict[str, float] = {}
        self._tags: dict[AccountKey, str] = {}
        self._outbox = Outbox(self._send_held)
        self._leases = RedisLeases(client, self._call, sleep)
        self._sending = Background()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisLimitStore:
        """Connect to ``url`` (``redis://host:port/db``); the store owns and closes the client.

        Connecting is bounded by ``timeout`` and redis-py's retries are off: a call that fails
        fails at once, and the store's circuit breaker decides what happens next. Each call is
        bounded by the breaker as a whole, so the client's ``socket_timeout`` is None (redis-py
        would wrap every write in a task to time it).
        """
        if not isinstance(url, str):
            raise ConfigurationError(f"RedisLimitStore.from_url: url must be a str, got {url!r}")
        redis = import_redis()
        retry_module = importlib.import_module("redis.asyncio.retry")
        backoff = importlib.import_module("redis.backoff")
        timeout = kwargs.get("timeout", DEFAULT_TIMEOUT)
        try:
            client = redis.Redis.from_url(
                url,
                # None, not redis-py 8's default of 5 s: the breaker bounds each call whole.
                socket_timeout=None,
                socket_connect_timeout=timeout,
                retry=retry_module.Retry(backoff.NoBackoff(), 0),
                retry_on_error=[],
                health_check_interval=0,
            )
        except (ValueError, TypeError) as exc:
            raise bad_url(url, exc) from None
        store = cls(client, **kwargs)
        store._owns_client = True
        return store

    async def __aenter__(self) -> RedisLimitStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def degraded(self) -> bool:
        """Whether Redis is considered down (pacing is local until it answers)."""
        return self._breaker.is_open

    def _tag(self, key: AccountKey) -> str:
        tag = self._tags.get(key)
        if tag is None:
            host, account = quote(key.host, safe=""), quote(key.account_id, safe="")
            tag = self._tags[key] = f"{self._prefix}:{{{host}|{account}}}"
            self._channels[f"{tag}:pause"] = key
        return tag

    def _fallback_settings(self, settings: PacingSettings) -> PacingSettings:
        return PacingSettings(
            requests=max(1, math.floor(settings.requests * self._share)),
            per=settings.per,
            burst=1,
            max_pause=settings.pause_cap,
            margin=settings.margin,
            adaptive=settings.adaptive,
        )

    async def _run(
        self,
        key: AccountKey,
        settings: PacingSettings,
        op: str,
        sent_at: float | None = None,
        retry_after: float | None = None,
        carried: Sequence[Permit] = (),
    ) -> Permit:
        """Run ``op`` in Redis, counting the ``carried`` successes first."""
        tag = self._tag(key)
        channel = f"{tag}:pause"
        self._pause_caps[channel] = settings.pause_cap
        args = _lua.pace_args(
            settings, op, channel, sent_at, retry_after, carried=map(_sent_at, carried)
        )
        keys = [f"{tag}:pace"]
        answer = await self._breaker.call(
            lambda: self._connection.run_script(self._pace, keys, args)
        )
        status, *rest = (part.decode() if isinstance(part, bytes) else str(part) for part in answer)
        if status == "conflict":
            raise settings_conflict(key, rest[0], settings.fingerprint())
        return Permit(float(rest[0]), float(rest[1]), shared=True, pause=float(rest[2]))

    async def _call(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        """Run ``command`` on the client, through the breaker."""
        return await self._breaker.call(lambda: command(self._client))

    async def bind(self, key: AccountKey, settings: PacingSettings) -> None:
        """Register ``settings`` (ConfigurationError if the account is paced otherwise)."""
        self._subscriber.start()
        with contextlib.suppress(StoreUnavailable):
            await self._run(key, settings, "bind")

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        """Take a permit in Redis; when Redis is down, locally (or fail, when strict)."""
        self._subscriber.start()
        carried = self._outbox.take(key)
        try:
            return await self._run(key, settings, "permit", carried=carried)
        except StoreUnavailable as exc:
            self._count_locally(key, settings, carried)
            if self._strict:
                raise PermitRefused(
                    "the shared limit store (Redis) is unavailable and the store is strict"
                ) from exc
            return self._local.apply(key, self._fallback_settings(settings), "permit")

    async def succeeded(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        """``record_success``, awaitable (as the 0.1 protocol asked)."""
        self.record_success(key, settings, permit)

    def record_success(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        """Count a success: sent with the account's next permit or 429, or by a flush soon."""
        self._outbox.add(key, settings, permit)

    def record_rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        """Pause the account here at once (``first_pause``); every process once Redis has it
        (sent in the background: ``rate_limited``, which tells the shared pause when done)."""
        pause = first_pause(settings, retry_after)
        self._listeners.tell(key, pause)
        self._sending.start(self.rate_limited(key, settings, retry_after, permit))
        return pause

    def learned_limit(self, key: AccountKey) -> float | None:
        """None: what the account learned lives in Redis, and is not asked for."""
        return None

    async def _send_held(self, held: Held) -> None:
        """Send successes no call took along (to the fallback while Redis is down)."""
        for key, (settings, permits) in held.items():
            try:
                await self._run(key, settings, "ok", _sent_at(permits[-1]), carried=permits[:-1])
            except StoreUnavailable:
                self._count_locally(key, settings, permits)
            except ConfigurationError:  # other settings now: nothing to count them against
                logger.warning("%d successes of %r not counted", len(permits), key.account_id)

    def _count_locally(
        self, key: AccountKey, settings: PacingSettings, permits: Iterable[Permit]
    ) -> None:
        """Count successes Redis could not take in the local fallback."""
        fallback = self._fallback_settings(settings)
        for permit in permits:
            self._local.apply(key, fallback, "ok", permit)

    async def rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        """Pause the account for every process (published); return the pause left."""
        carried = self._outbox.take(key)  # counted first: they happened before this 429
        try:
            pause = (
                await self._run(key, settings, "429", _sent_at(permit), retry_after, carried)
            ).wait
        except StoreUnavailable:
            self._count_locally(key, settings, carried)
            fallback = self._fallback_settings(settings)
            pause = self._local.apply(key, fallback, "429", permit, retry_after).wait
        # Watchers here hear it now, not after the round trip through the subscription.
        self._listeners.tell(key, pause)
        return pause

    def watch_pauses(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        """Call ``listener`` with the pause left whenever any process pauses ``key``."""
        self._tag(key)  # its pause channel is known from now on
        self._subscriber.start()
        return self._listeners.add(key, listener)

    def _heard(self, channel: str, pause: float) -> None:
        key, cap = self._channels.get(channel), self._pause_caps.get(channel)
        if key is None or cap is None:
            return  # not paced here yet: its first permit reads the pause from Redis
        if pause > cap:
            # The pacing script never publishes more (but for float rounding, not worth a
            # word): capped as a local 429's pause is.
            if pause > cap + 1e-3:
                logger.warning(
                    "capped a pause of %.17gs heard on %s to the account's max pause %gs",
                    pause,
                    channel,
                    cap,
                )
            pause = cap
        self._listeners.tell(key, pause)

    def lease(
        self, key: AccountKey, name: str, ttl: float = LEASE_TTL
    ) -> contextlib.AbstractAsyncContextManager[Lease]:
        """Wait until this process holds the lease ``name`` of ``key``; renew it while held.

        The lease expires ``ttl`` seconds after its last renewal (every ``ttl / 3``), so a
        crashed holder frees it. Without Redis nobody can be sure to hold it: the wait goes
        on, polling, until Redis answers. If renewals fail for longer than ``ttl``, the lease
        is lost: ``held`` turns False and the holder should stop.
        """
        return self._leases.hold(f"{self._tag(key)}:lease:{quote(name, safe='')}", ttl)

    async def aclose(self) -> None:
        """Send the outcomes still held; stop listening for pauses; close our own client."""
        await self._sending.drain()
        await self._outbox.aclose()
        await self._subscriber.aclose()
        await self._connection.aclose()
        if self._owns_client:
            await self._client.aclose()


def _sent_at(permit: Permit) -> float:
    """The permit's time for Redis: 0.0 ("sent before the last cut") for a local permit."""
    return permit.at if permit.shared else 0.0
