"""The transport seam: what one HTTP attempt sends and gets back, and who sends it.

Pure on purpose (no aiohttp here): the requester builds an :class:`HttpRequest`, a
:class:`Transport` sends it and hands back a :class:`RawResponse`. ``AiohttpTransport`` is the
one the client uses by default; ``kore_campaign_async.testing.MockTransport`` answers from a
function, for tests without a server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from .._config import AUTH_HEADER, Timeout


@attrs.frozen
class HttpRequest:
    """One HTTP attempt, fully built: what a transport sends."""

    method: str
    url: str
    """Scheme, host and path; the query is in ``params``."""
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = attrs.field(factory=dict, repr=False)
    """Never shown: they hold the auth token."""
    json: Any = None
    """The body, to be sent as JSON; None: no body."""
    timeout: Timeout = attrs.field(factory=Timeout)
    """Bounds of this attempt; the requester shortens ``total`` to what is left of the
    call's deadline."""
    max_response_bytes: int | None = None
    """Longest answer body to read; None: no limit."""
    cut_at_deadline: bool = False
    """``timeout.total`` is what is left of the call's deadline (say so in a timeout's error)."""


def sent_token(request: HttpRequest) -> str:
    """The auth token ``request`` carries ("" if none): read where needed, never kept, as
    error reporters record every frame's locals."""
    return request.headers.get(AUTH_HEADER, "")


@attrs.frozen
class RawResponse:
    """What came back over the wire for one attempt."""

    status: int
    headers: Mapping[str, str] = attrs.field(repr=False)
    """Never shown, like the body: a server may echo the request's token in either."""
    body: bytes = attrs.field(repr=False)


class Transport(Protocol):
    """Sends one request and reads the whole answer; never retries (the requester does)."""

    async def send(self, request: HttpRequest) -> RawResponse:
        """Send ``request``; raise :class:`APIConnectionError` (or a subclass) when no answer came.

        Set ``request_sent=False`` on it only when the request certainly never reached the
        server: creates and deletes decide from it whether a lost answer may have been applied.
        Honour ``request.timeout`` (it carries the call's deadline) and raise
        :class:`ResponseTooLargeError` rather than read more than ``max_response_bytes``.
        After :meth:`aclose`, raise :class:`ClientClosedError`.
        """
        ...

    async def aclose(self) -> None:
        """Release what the transport holds (connections); safe to call twice."""
        ...
