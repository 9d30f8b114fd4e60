"""Hear every process's 429 pauses through one Redis pattern subscription."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from .._clock import Sleep
from .breaker import bounded, logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

# How long one read waits for a message before the loop looks around again.
_READ_WAIT: Final = 1.0
# What the pacing script publishes: a non-negative decimal, maybe with an exponent (%.17g).
_PAUSE: Final = re.compile(rb"[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?")


def read_pause(data: object) -> float | None:
    """Return the seconds a pause message says, or None when it is no sane pause.

    Refused: anything but ASCII digits (no "nan", "inf", sign or "1_0"), and a number that
    overflows to infinity. How long a pause may last is the store's to cap, per account.
    """
    raw = data.encode("utf-8", errors="replace") if isinstance(data, str) else data
    if not isinstance(raw, bytes) or not _PAUSE.fullmatch(raw.strip()):
        return None
    pause = float(raw)
    return pause if math.isfinite(pause) else None


def _shown(data: object) -> str:
    text = repr(data)
    return text if len(text) <= 40 else text[:40] + "..."


class PauseSubscriber:
    """A background task that subscribes to ``pattern`` and calls ``on_pause(channel, pause)``.

    Started on first use, it reconnects after any failure (every ``retry_every`` seconds, each
    attempt bounded by ``timeout``) and never raises: while it is disconnected, processes still
    see a pause at their next permit, which Redis checks atomically.
    """

    def __init__(
        self,
        client: Redis,
        *,
        pattern: str,
        on_pause: Callable[[str, float], None],
        failures: tuple[type[BaseException], ...],
        timeout: float,
        retry_every: float,
        sleep: Sleep,
    ) -> None:
        self._client = client
        self._pattern = pattern
        self._on_pause = on_pause
        self._failures = failures
        self._timeout = timeout
        self._retry_every = retry_every
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        #: Set once the subscription is confirmed (cleared while disconnected).
        self.listening = asyncio.Event()

    def start(self) -> None:
        """Start listening, if not yet."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen_forever())

    async def _listen_forever(self) -> None:
        while True:
            with contextlib.suppress(*self._failures):
                await self._listen()
            self.listening.clear()
            await self._sleep(self._retry_every)

    async def _listen(self) -> None:
        pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        try:
            await bounded(pubsub.psubscribe(self._pattern), self._timeout)
            self.listening.set()
            while True:
                message = await bounded(
                    pubsub.get_message(timeout=_READ_WAIT), _READ_WAIT + self._timeout
                )
                if message is not None:
                    self._dispatch(message)
        finally:
            with contextlib.suppress(*self._failures):
                # redis-py leaves PubSub.aclose unannotated.
                await bounded(pubsub.aclose(), self._timeout)  # type: ignore[no-untyped-call]

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel, data = message.get("channel"), message.get("data")
        if isinstance(channel, bytes):
            channel = channel.decode("utf-8", errors="replace")
        pause = read_pause(data)
        if pause is None:
            # Anyone who can PUBLISH on the pattern can send this: never let it stop the loop.
            logger.warning("ignored a malformed pause message on %s: %s", channel, _shown(data))
            return
        self._on_pause(str(channel), pause)

    async def aclose(self) -> None:
        """Stop listening."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
