"""Every way out of a send gives its socket back: an answer read, refused as too large, or
abandoned half read by a cancelled call. Over a connector of one socket, the next send would
otherwise wait for ever."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._http.aiohttp_transport import AiohttpTransport
from kore_campaign_async._http.transport import HttpRequest

BODY = b'{"status":"success"}'


class HalfAnswers:
    """Answers ``/half`` with half its body and then nothing, anything else whole."""

    def __init__(self) -> None:
        self.requests = 0
        self.half_sent = asyncio.Event()
        self._stop = asyncio.Event()
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                self.requests += 1
                answer = f"HTTP/1.1 200 OK\r\nContent-Length: {len(BODY)}\r\n\r\n".encode()
                if head.startswith(b"GET /half "):
                    writer.write(answer + BODY[:5])
                    await writer.drain()
                    self.half_sent.set()
                    await self._stop.wait()
                    return
                writer.write(answer + BODY)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client hung up
        finally:
            writer.close()

    def stop(self) -> None:
        self._stop.set()


@pytest.fixture
async def server() -> AsyncIterator[HalfAnswers]:
    answers = HalfAnswers()
    listener = await asyncio.start_server(answers.serve, "127.0.0.1", 0)
    answers.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
    async with listener:
        yield answers
        answers.stop()


@pytest.fixture
async def one_socket() -> AsyncIterator[AiohttpTransport]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        transport = AiohttpTransport(session)
        yield transport
        await transport.aclose()


async def answered(transport: AiohttpTransport, url: str) -> bytes:
    # A bound, not a wait: the answer comes at once when the socket was given back.
    answer = await asyncio.wait_for(transport.send(HttpRequest("GET", f"{url}/whole")), 10)
    return answer.body


async def test_a_call_cancelled_half_way_through_the_answer_gives_its_socket_back(
    server: HalfAnswers, one_socket: AiohttpTransport
) -> None:
    reading = asyncio.ensure_future(one_socket.send(HttpRequest("GET", f"{server.url}/half")))
    await server.half_sent.wait()
    await asyncio.sleep(0)  # let the client read what was sent
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading

    assert await answered(one_socket, server.url) == BODY
    assert server.requests == 2


async def test_an_answer_refused_as_too_large_gives_its_socket_back_at_once(
    server: HalfAnswers, one_socket: AiohttpTransport
) -> None:
    # Refused on its Content-Length with the rest of it still to come: the socket is closed
    # before the error leaves, not when the error (which a caller may keep) is dropped.
    with pytest.raises(kca.ResponseTooLargeError) as caught:
        await one_socket.send(HttpRequest("GET", f"{server.url}/half", max_response_bytes=4))

    assert await answered(one_socket, server.url) == BODY
    assert await answered(one_socket, server.url) == BODY
    assert caught.value.status == 200
