"""Successes on their way to a shared store: they ride with the account's next call to it.

A success needs no answer, so a request never waits for its report: the store holds it here
and sends it with the account's next permit (or 429), in the same round trip. What no call
takes along soon is sent by one background flush, which sends everything held when it runs.
At most one flush runs at a time, and what it holds is at most the successes of permits
already granted: nothing piles up. ``aclose`` sends the rest, so nothing is lost silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final

from .rate_limit import PacingSettings
from .store import AccountKey, Permit

Held = dict[AccountKey, tuple[PacingSettings, list[Permit]]]
"""Per account: its settings and the permits of its successes, oldest first."""
Send = Callable[[Held], Awaitable[None]]
"""Send what was held (its own fallback if the store is down); never raises."""
_NOTHING: Final[tuple[Permit, ...]] = ()


class Outbox:
    """Hold each account's successes until its next call or the background flush sends them."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._held: Held = {}
        self._flush: asyncio.Task[None] | None = None
        self._looking = False

    def __len__(self) -> int:
        return sum(len(permits) for _, permits in self._held.values())

    def add(self, key: AccountKey, settings: PacingSettings, permit: Permit) -> None:
        """Hold a success; make sure a flush will send it if no call of the account does."""
        held = self._held.get(key)
        if held is None:
            self._held[key] = (settings, [permit])
        else:
            held[1].append(permit)
        if not self._looking:
            # Usually the account's next permit takes it first: look once the loop comes round.
            self._looking = True
            asyncio.get_running_loop().call_soon(self._start_flush)

    def _start_flush(self) -> None:
        self._looking = False
        if self._held and self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._flush_all())

    def take(self, key: AccountKey) -> tuple[Permit, ...] | list[Permit]:
        """Hand over the account's held successes, to send with its next call."""
        held = self._held.pop(key, None)
        return _NOTHING if held is None else held[1]

    async def _flush_all(self) -> None:
        try:
            # Each pass waits for its (bounded) send, and takes only what was held when it began.
            while self._held:
                held, self._held = self._held, {}
                await self._send(held)
        finally:
            self._flush = None

    async def aclose(self) -> None:
        """Send everything still held (the running flush included)."""
        if self._flush is not None:
            await asyncio.shield(self._flush)
        if self._held:
            await self._flush_all()
