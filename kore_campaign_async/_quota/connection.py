"""The connection a shared store's command takes: the one it holds, or the pool's when busy.

redis-py checks a connection out of its pool for each command and first polls its socket for
stray data: one more turn of the event loop and a timer, on every command. A request paced
through Redis makes one round trip, so the store holds one connection of the client's pool for
itself and sends on it whenever it is free. A command that overlaps one in flight takes a pool
connection as before, so a busy process still has many commands in flight at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")


class HeldConnection:
    """Run commands on one connection held from ``client``'s pool, or on the pool when busy."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        # redis-py's own single-connection client: it takes its connection from the pool on
        # first use, reconnects it after a failure, and gives it back on aclose.
        self._held = client.client()
        self._busy = False

    async def run(self, command: Callable[[Redis], Awaitable[T]]) -> T:
        """Return ``await command(client)`` on the held connection, or the pool's if busy."""
        if self._busy:
            return await command(self._client)
        self._busy = True
        try:
            return await command(self._held)
        finally:
            self._busy = False

    async def aclose(self) -> None:
        """Give the held connection back to the pool (the pool itself is left open)."""
        await self._held.aclose()
