"""Who may start a call on a client: a task of the client's own event loop, while it is open.

Every call enters the client's :class:`CallGate` before anything else (before the account's
limiter, whose queues park futures of one loop). The gate binds to the loop of the first call
(or of a caller's session) and refuses any other with :class:`EventLoopMismatchError`; once the
client closes it refuses new calls with :class:`ClientClosedError`, nothing sent. It counts
the calls in flight, so closing can wait for them, up to a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib

from .._clock import Expired, Sleep, within
from .._exceptions import ClientClosedError, ConfigurationError, EventLoopMismatchError

#: Seconds ``aclose()`` lets calls in flight finish before it closes their connections.
DEFAULT_CLOSE_GRACE = 10.0


def loop_mismatch() -> EventLoopMismatchError:
    """Return the error of a call made on another event loop than the client's."""
    return EventLoopMismatchError(
        "this client was opened on another event loop, and its aiohttp session and "
        "connections belong to that loop; make one CampaignClient per event loop "
        "(nothing was sent)"
    )


class CallGate:
    """The entrance of every call of one client: its loop checked, its closing honoured."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._closing = False
        self._in_flight = 0
        self._idle: asyncio.Future[None] | None = None

    def check_loop(self) -> None:
        """Bind to the running loop, or raise if bound to another."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif loop is not self._loop:
            raise loop_mismatch()

    def enter(self) -> None:
        """Hold the gate for one call: raise at once if its loop is wrong or the client closing;
        ``leave()`` when it ends (no context manager: nothing of it stays alive meanwhile)."""
        self.check_loop()
        if self._closing:
            raise ClientClosedError(
                "the client is closed; create a new CampaignClient (nothing was sent)"
            )
        self._in_flight += 1

    def leave(self) -> None:
        """One call held since ``enter()`` ended."""
        self._in_flight -= 1
        if not self._in_flight and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    def close(self, grace: float) -> None:
        """Refuse new calls from now on (checking ``grace`` and the loop first)."""
        if not (isinstance(grace, (int, float)) and not isinstance(grace, bool) and grace >= 0):
            raise ConfigurationError(f"aclose grace must be seconds >= 0, got {grace!r}")
        if self._loop is not None:
            self.check_loop()
        self._closing = True

    async def drain(self, grace: float, sleep: Sleep) -> None:
        """Wait up to ``grace`` seconds for the calls in flight to end."""
        if not self._in_flight or grace == 0:
            return
        self._idle = asyncio.get_running_loop().create_future()
        with contextlib.suppress(Expired):
            await within(grace, sleep, self._idle)
