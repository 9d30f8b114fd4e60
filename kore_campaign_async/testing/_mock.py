"""``MockTransport``: answer the SDK's requests from a function, with no server and no socket."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kore_campaign_async import ClientClosedError, HttpRequest, RawResponse

Handler = Callable[[HttpRequest], RawResponse | Awaitable[RawResponse]]


def json_response(
    payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> RawResponse:
    """Return an answer whose body is ``payload`` as JSON."""
    return RawResponse(
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(payload).encode(),
    )


class MockTransport:
    """A transport that answers each request with ``handler(request)`` (sync or async).

    ::

        def handler(request: HttpRequest) -> RawResponse:
            return json_response({"status": "success", "data": []})

        client = CampaignClient(host, token="t", transport=MockTransport(handler))

    What the handler raises reaches the SDK as the transport's failure: raise
    ``APIConnectionError`` (``request_sent=False`` if it never got out) to play a lost answer.
    """

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._closed = False

    async def send(self, request: HttpRequest) -> RawResponse:
        if self._closed:
            raise ClientClosedError("the client is closed; create a new CampaignClient")
        response = self.handler(request)
        if inspect.isawaitable(response):
            response = await response
        return response

    async def aclose(self) -> None:
        self._closed = True
