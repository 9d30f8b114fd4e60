"""Let aioresponses 0.7.9 build its answers on aiohttp 3.14 too (loaded as a plugin, it patches
aioresponses once, before any test runs).

aiohttp 3.14 added a required keyword, ``stream_writer``, to ``ClientResponse``; aioresponses
0.7.9 (the newest release) does not pass it, so every mocked request fails with a TypeError
(pnuckowski/aioresponses#289). Its answers are read after the request was "sent" (it passes
``writer=None``), when aiohttp reads only the writer's ``output_size``: this hands it a finished
upload of that size. Requests still go through the aiohttp session under test up to
aioresponses' patch of ``ClientSession._request``, as on every other aiohttp; a release of
aioresponses that passes ``stream_writer`` itself keeps its own.
"""

from __future__ import annotations

import inspect
from typing import Any

import aioresponses.core
from aiohttp import ClientResponse


class _FinishedUpload:
    """What ClientResponse reads of a request body already sent: its size."""

    output_size = 0


class _ClientResponse(ClientResponse):
    def __init__(self, *args: Any, stream_writer: Any = None, **kwargs: Any) -> None:
        writer = _FinishedUpload() if stream_writer is None else stream_writer
        init: Any = super().__init__  # typed without stream_writer before aiohttp 3.14
        init(*args, stream_writer=writer, **kwargs)


def install() -> bool:
    """Give aioresponses the response class above when aiohttp needs it; return whether it did."""
    needs_writer = "stream_writer" in inspect.signature(ClientResponse.__init__).parameters
    if needs_writer and aioresponses.core.ClientResponse is ClientResponse:  # type: ignore[attr-defined]
        aioresponses.core.ClientResponse = _ClientResponse  # type: ignore[attr-defined]
        return True
    return False


install()
