"""The connection a shared store's script call takes: its own, or the pool's when that is busy.

A request paced through Redis makes one round trip, its permit: one script call. Through the
client, each call would check a connection out of redis-py's pool (polling its socket for stray
data: one more turn of the event loop and a timer) and go through the client's command layers
(its lock, retry wrapper and reply callbacks). The store instead keeps one connection of its
own, made like the pool's (same address, credentials and database), sends ``EVALSHA`` on it
(packed here: redis-py's packer was the largest part of a call's client CPU) and reads the
reply. A call that overlaps one in flight goes through the client and its pool, as before, so
a busy process still has many calls in flight at once. The connection reconnects on its next
call after a failure; a call cancelled half-way closes it (redis-py does), so no reply is ever
read by the wrong call.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript


class HeldConnection:
    """Run scripts on one connection made from ``client``'s pool, or through ``client`` if busy."""

    def __init__(self, client: Redis) -> None:
        self._client = client
        # Outside the pool's count: ours to close (aclose), never handed to anyone else.
        self._held = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]
        self._busy = False
        encoder = self._held.encoder
        self._encoding: str = encoder.encoding
        self._errors: str = encoder.encoding_errors
        self._no_script: type[Exception] = importlib.import_module("redis.exceptions").NoScriptError

    async def run_script(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[str]
    ) -> Any:
        """Return ``script``'s reply to ``keys`` and ``args``."""
        if self._busy:
            return await script(keys, args, client=self._client)
        self._busy = True
        try:
            try:
                return await self._ask("EVALSHA", script.sha, str(len(keys)), *keys, *args)
            except self._no_script:
                # Redis lost its scripts (a restart, SCRIPT FLUSH): send it whole, which loads
                # it again. On this connection: the pool's may be stale after a restart.
                source = script.script
                text = source if isinstance(source, str) else bytes(source).decode()
                return await self._ask("EVAL", text, str(len(keys)), *keys, *args)
        finally:
            self._busy = False

    async def _ask(self, *command: str) -> Any:
        await self._held.send_packed_command(self._command(*command))
        return await self._held.read_response()

    def _command(self, *parts: str) -> bytes:
        """``parts`` as one Redis command: an array of bulk strings, the protocol's request form.

        redis-py 5's packer (Python) takes about three times as long for a script call's parts.
        Encoded as the client encodes, so both ways name the same keys.
        """
        encoded = [part.encode(self._encoding, self._errors) for part in parts]
        return b"*%d\r\n" % len(encoded) + b"".join(
            b"$%d\r\n%s\r\n" % (len(part), part) for part in encoded
        )

    async def aclose(self) -> None:
        """Close the store's own connection (the client and its pool are left as they are)."""
        await self._held.disconnect()
