"""A compression bomb is a ResponseTooLargeError, downloaded once and never retried.

aiohttp inflates each piece it reads up to a cap of its own (32 MiB, from 3.12.14) and then
raises ClientPayloadError, which reads like a broken connection: the SDK retried it and the
bomb came down five times. ``max_response_bytes`` counts the inflated bytes.
"""

from __future__ import annotations

import asyncio
import functools
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._http.aiohttp_transport import AiohttpTransport
from kore_campaign_async._http.transport import HttpRequest
from tests.helpers.clients import FAST_RETRY

MiB = 1 << 20
#: aiohttp 3.12.14 to 3.13 refuse to inflate past their cap (DecompressSizeError); 3.14 keeps the
#: class but inflates as it is read, flow-controlled, with no cap of its own.
AIOHTTP_CAPS_INFLATING = hasattr(aiohttp.http_exceptions, "DecompressSizeError") and tuple(
    int(part) for part in aiohttp.__version__.split(".")[:2]
) < (3, 14)


@functools.cache
def gzipped_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzipped (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MiB)
    return b"".join([*(packer.compress(block) for _ in range(size // MiB)), packer.flush()])


class GzipServer:
    """A loopback server answering every request with the same gzipped body; counts them."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.requests = 0
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            head = (
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n"
            )
            # One write: the first piece the client reads inflates past aiohttp's cap.
            writer.write(head.encode() + self.body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up, as it should on a refused answer
        finally:
            writer.close()


@pytest.fixture
async def bomb() -> AsyncIterator[GzipServer]:
    server = GzipServer(gzipped_zeros(160 * MiB))
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    async with listener:
        yield server


@pytest.mark.parametrize(
    "limit",
    [
        64 * MiB,  # the default: above aiohttp's cap, so aiohttp refuses first
        pytest.param(
            None,
            marks=pytest.mark.skipif(
                not AIOHTTP_CAPS_INFLATING, reason="this aiohttp inflates without a cap"
            ),
        ),
    ],
)
async def test_a_bomb_is_too_large_and_fetched_once(bomb: GzipServer, limit: int | None) -> None:
    async with kca.CampaignClient(
        bomb.url, token="t", rate_limit=None, retry=FAST_RETRY, max_response_bytes=limit
    ) as client:
        with pytest.raises(kca.ResponseTooLargeError) as caught:
            await client.account("acct-1", iid="st-1").contact_lists.list()
    assert bomb.requests == 1
    error = caught.value
    assert (error.status, error.attempts, error.request_sent) == (200, 1, True)
    assert error.limit == (limit or 0)
    if AIOHTTP_CAPS_INFLATING:
        assert "compressed answer inflating past aiohttp's cap" in str(error)


async def test_the_limit_counts_inflated_bytes() -> None:
    # 2 MiB of JSON-ish zeros is 2 KB on the wire: under a 1 MiB limit as sent, over it inflated.
    server = GzipServer(gzipped_zeros(2 * MiB))
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    transport = AiohttpTransport()
    try:
        async with listener:
            with pytest.raises(kca.ResponseTooLargeError, match=f"more than {MiB} bytes"):
                await transport.send(
                    HttpRequest("GET", f"http://127.0.0.1:{port}/x", max_response_bytes=MiB)
                )
    finally:
        await transport.aclose()
    assert len(server.body) < MiB // 100
