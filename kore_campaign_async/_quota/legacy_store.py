"""A LimitStore written for 0.1 (awaited ``succeeded`` and ``rate_limited``) behind today's
protocol, until its removal in 0.3 (see CONTRIBUTING's deprecation policy)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from typing import Any

from . import pacing
from .background import Background
from .rate_limit import PacingSettings
from .store import LEASE_TTL, AccountKey, Lease, LimitStore, PauseListener, Permit


def current_store(store: Any) -> tuple[LimitStore, Background | None]:
    """Return ``store`` and None, or a 0.1 store (no ``record_success``) adapted, with a
    warning, and the background its outcomes go to it through (for the limiter to drain)."""
    if hasattr(store, "record_success"):
        return store, None
    warnings.warn(
        f"{type(store).__name__} implements the LimitStore protocol of 0.1 (async succeeded() "
        "and rate_limited()): add record_success(), record_rate_limited() and learned_limit(), "
        "which return at once; the 0.1 protocol goes in 0.3",
        DeprecationWarning,
        stacklevel=3,  # whoever builds the limiter
    )
    sending = Background()
    return LegacyStore(store, sending), sending


class LegacyStore:
    """Record outcomes without an await: each is sent to the 0.1 store in the background, and a
    429 pauses this process's waiters at once for ``pacing.first_pause``."""

    def __init__(self, store: Any, sending: Background) -> None:
        self._store = store
        self._sending = sending

    async def bind(self, key: AccountKey, settings: PacingSettings) -> None:
        await self._store.bind(key, settings)

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        permit: Permit = await self._store.permit(key, settings)
        return permit

    def record_success(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        self._sending.start(self._store.succeeded(key, settings, permit))

    def record_rate_limited(
        self,
        key: AccountKey,
        settings: PacingSettings,
        retry_after: float | None,
        permit: Permit,
    ) -> float:
        self._sending.start(self._store.rate_limited(key, settings, retry_after, permit))
        return pacing.first_pause(settings, retry_after)

    def learned_limit(self, key: AccountKey) -> float | None:
        return None

    def watch_pauses(self, key: AccountKey, listener: PauseListener) -> Callable[[], None]:
        unwatch: Callable[[], None] = self._store.watch_pauses(key, listener)
        return unwatch

    def lease(
        self, key: AccountKey, name: str, ttl: float = LEASE_TTL
    ) -> contextlib.AbstractAsyncContextManager[Lease]:
        held: contextlib.AbstractAsyncContextManager[Lease] = self._store.lease(key, name, ttl)
        return held

    async def aclose(self) -> None:
        """Not called by the limiter: the store is its owner's to close."""
        await self._store.aclose()
