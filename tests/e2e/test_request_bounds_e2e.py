"""On a real socket: the deadline cuts an attempt in flight, answers are read up to a limit,
and a closed session or a foreign event loop is a clear KoreError before anything is sent.

The deadline test waits 0.2 s of real time: aiohttp's timer is the loop's.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer, Fault

LIMIT = 64 * 1024
Answer = Callable[[asyncio.StreamWriter], Awaitable[None]]


def lists_of(client: kca.CampaignClient) -> kca.ContactLists:
    return client.account("acct-1", iid="st-app-1").contact_lists


# -- 2. the deadline cuts the attempt in flight ----------------------------------------------


@pytest.mark.parametrize("operation", ["get", "create"])
async def test_the_deadline_cuts_an_attempt_in_flight(
    server: FakeKoreServer, operation: str
) -> None:
    server.faults.add(Fault("delay", delay=4.0, times=None))
    async with kca.CampaignClient(
        server.url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        rate_limit=None,
        timeout=None,  # nothing but the deadline bounds the call
        retry=kca.RetryPolicy(deadline=0.2),
    ) as client:
        lists = lists_of(client)
        call = lists.get("cl-anything") if operation == "get" else lists.create("Cut In Flight")
        started = time.monotonic()
        with pytest.raises(kca.APITimeoutError, match="cut at the call's deadline") as caught:
            await call
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    # The write may have been applied: the caller must treat it as ambiguous.
    assert (caught.value.request_sent, caught.value.attempts) == (True, 1)


# -- 8. answers are read up to max_response_bytes --------------------------------------------


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Answer], Awaitable[str]]]:
    """Start loopback servers that answer every request with raw bytes; return their URLs."""
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> str:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                await answer(writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass  # the client hung up, as it should on a refused answer
            finally:
                writer.close()

        listener = await asyncio.start_server(serve, "127.0.0.1", 0)
        servers.append(listener)
        return f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"

    yield start
    for listener in servers:
        listener.close()
        await listener.wait_closed()


def head(**headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def announced_but_never_sent(writer: asyncio.StreamWriter) -> None:
    writer.write(head(Content_Length=str(50 * 1024 * 1024)))
    await writer.drain()
    await asyncio.sleep(5)  # the client must refuse without waiting for the body


async def endless_chunks(writer: asyncio.StreamWriter) -> None:
    writer.write(head(Transfer_Encoding="chunked"))
    chunk = b"[" * 8192
    for _ in range(10_000):  # 80 MB unless the client stops reading
        writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        await writer.drain()


async def gzip_bomb(writer: asyncio.StreamWriter) -> None:
    packed = gzip.compress(b" " * (4 * LIMIT))
    writer.write(head(Content_Encoding="gzip", Content_Length=str(len(packed))) + packed)
    await writer.drain()


async def small(writer: asyncio.StreamWriter) -> None:
    body = b'{"status": "success", "data": []}'
    writer.write(head(Content_Length=str(len(body))) + body)
    await writer.drain()


@pytest.mark.parametrize(
    ("answer", "size"),
    [
        (announced_but_never_sent, str(50 * 1024 * 1024)),
        (endless_chunks, f"more than {LIMIT}"),
        (gzip_bomb, f"more than {LIMIT}"),
    ],
    ids=["content-length", "chunked", "gzip"],
)
async def test_an_answer_over_the_limit_is_refused_while_reading(
    raw_server: Callable[[Answer], Awaitable[str]], answer: Answer, size: str
) -> None:
    url = await raw_server(answer)
    async with kca.CampaignClient(
        url, token="t", rate_limit=None, max_response_bytes=LIMIT, timeout=3.0
    ) as client:
        with pytest.raises(kca.ResponseTooLargeError) as caught:
            await lists_of(client).list()
    error = caught.value
    assert f"answer of {size} bytes is larger than max_response_bytes ({LIMIT})" in str(error)
    assert (error.limit, error.status, error.attempts, error.request_sent) == (LIMIT, 200, 1, True)


async def test_an_answer_within_the_limit_is_read(
    raw_server: Callable[[Answer], Awaitable[str]],
) -> None:
    url = await raw_server(small)
    async with kca.CampaignClient(url, token="t", rate_limit=None, max_response_bytes=40) as c:
        assert await lists_of(c).list() == []


def test_max_response_bytes_has_a_sane_default_and_is_checked() -> None:
    assert kca.CampaignClient("https://kore.test", token="t").max_response_bytes == 64 * 2**20
    assert kca.CampaignClient("https://kore.test", token="t", max_response_bytes=None)
    for bad in (0, -1, 1.5, True, "64"):
        with pytest.raises(kca.ConfigurationError, match="max_response_bytes"):
            kca.CampaignClient("https://kore.test", token="t", max_response_bytes=bad)  # type: ignore[arg-type]


# -- 4. a closed session, another event loop -------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_closed_caller_session_is_a_client_closed_error() -> None:
    session = aiohttp.ClientSession()
    await session.close()
    async with kca.CampaignClient(
        f"http://127.0.0.1:{closed_port()}", token="t", session=session, rate_limit=None
    ) as client:
        with pytest.raises(kca.ClientClosedError, match="session= is closed") as caught:
            await lists_of(client).list()
    assert caught.value.attempts == 1  # one attempt, refused by the transport before sending


@pytest.mark.parametrize("own_session", [True, False])
def test_a_client_used_from_another_loop_says_so(own_session: bool) -> None:
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        session = None if own_session else first.run_until_complete(_session())
        client = kca.CampaignClient(
            f"http://127.0.0.1:{closed_port()}",
            token="t",
            session=session,
            rate_limit=None,
            retry=kca.RetryPolicy.none(),
        )
        lists = lists_of(client)
        if own_session:  # the client's own session is made on the loop of its first call
            with pytest.raises(kca.APIConnectionError, match="cannot connect"):
                first.run_until_complete(lists.list())
        with pytest.raises(kca.EventLoopMismatchError, match="one CampaignClient per event loop"):
            second.run_until_complete(lists.list())
        first.run_until_complete(client.aclose())
        if session is not None:
            first.run_until_complete(session.close())
    finally:
        first.close()
        second.close()


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()
