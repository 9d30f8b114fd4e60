"""Leases in Redis: one process at a time holds an account's named lease, renewed while held.

A lease is a key set only if absent, holding a random token and expiring ``ttl`` after its last
renewal, so a crashed holder frees it. It is renewed every ``ttl / 3`` and given back on exit,
each only while the key still holds our token (a Lua script, atomic).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

import attrs

from .._clock import Sleep
from .._exceptions import ConfigurationError
from . import _lua
from .breaker import StoreUnavailable, logger
from .store import Lease

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")


class Call(Protocol):
    """Run a command on the store's connection, through its breaker (StoreUnavailable)."""

    def __call__(self, command: Callable[[Redis], Awaitable[T]], /) -> Awaitable[T]: ...


@attrs.define
class _RedisLease:
    waited: bool
    held: bool = True
    #: Set when the holder leaves: the renewal loop stops even if its cancel went astray.
    done: bool = False


class RedisLeases:
    """Take, renew and give back leases through ``call``; wait and renew with ``sleep``."""

    def __init__(self, client: Redis, call: Call, sleep: Sleep) -> None:
        self._call = call
        self._sleep = sleep
        self._renew = client.register_script(_lua.RENEW_LEASE)
        self._release = client.register_script(_lua.RELEASE_LEASE)

    @contextlib.asynccontextmanager
    async def hold(self, lease_key: str, ttl: float) -> AsyncIterator[Lease]:
        """Wait until this process holds ``lease_key``; renew it while held; give it back.

        Without Redis nobody can be sure to hold it: the wait goes on, polling, until Redis
        answers. If renewals fail for longer than ``ttl``, ``held`` turns False.
        """
        if not (0 < ttl < math.inf):
            raise ConfigurationError(f"lease ttl must be finite and > 0, got {ttl!r}")
        token = uuid.uuid4().hex
        ttl_ms = math.ceil(ttl * 1000)
        poll = min(ttl / 10, 0.5)
        waited = False
        while True:
            with contextlib.suppress(StoreUnavailable):
                if await self._call(lambda db: db.set(lease_key, token, nx=True, px=ttl_ms)):
                    break
            waited = True
            await self._sleep(poll)
        lease = _RedisLease(waited)
        renewer = asyncio.ensure_future(self._keep(lease, lease_key, token, ttl))
        try:
            yield lease
        finally:
            lease.done = True
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            with contextlib.suppress(StoreUnavailable):
                await self._call(lambda db: self._release([lease_key], [token], client=db))

    async def _keep(self, lease: _RedisLease, lease_key: str, token: str, ttl: float) -> None:
        ttl_ms = math.ceil(ttl * 1000)
        unrenewed = 0.0
        while lease.held:
            await self._sleep(ttl / 3)
            if lease.done:
                return
            try:
                renewed = await self._call(
                    lambda db: self._renew([lease_key], [token, ttl_ms], client=db)
                )
            except StoreUnavailable:
                unrenewed += ttl / 3
                renewed = unrenewed < ttl
            else:
                unrenewed = 0.0
            if not renewed:
                lease.held = False
                logger.warning("lease %s lost: it expired or another process took it", lease_key)
