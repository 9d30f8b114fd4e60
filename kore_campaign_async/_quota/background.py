"""Outcomes sent to a store in the background: never awaited by the request, never lost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger("kore_campaign_async.quota")


class Background:
    """Run store calls nobody waits for; ``drain`` waits for them all (at close).

    The tasks are held here until done (the event loop keeps only weak references), and a
    failure is logged, as the request that made the outcome has moved on.
    """

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        # Made at the first send: most accounts never send anything in the background.
        self._tasks: set[asyncio.Task[object]] | None = None

    @property
    def pending(self) -> int:
        """Sends not finished yet."""
        return len(self._tasks) if self._tasks else 0

    def start(self, send: Coroutine[Any, Any, object]) -> None:
        """Run ``send`` in a task of its own."""
        task = asyncio.get_running_loop().create_task(send)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[object]) -> None:
        if self._tasks is not None:
            self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.warning("the limit store lost an outcome: %r", task.exception())

    async def drain(self) -> None:
        """Wait for every send started so far (their failures are logged, not raised)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
