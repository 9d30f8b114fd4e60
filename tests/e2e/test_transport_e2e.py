"""The transport on a real socket: what reaches the server, byte for byte where it matters."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

import kore_campaign_async as kca
from kore_campaign_async._config import USER_AGENT
from kore_campaign_async._http.aiohttp_transport import AiohttpTransport
from kore_campaign_async._http.transport import HttpRequest

Seen = list[web.Request]


@pytest.fixture
async def echo_server() -> AsyncIterator[tuple[str, Seen]]:
    """A server that records each request and answers with a cookie it must never get back."""
    seen: Seen = []

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        seen.append(request)
        response = web.json_response({"status": "success"})
        response.set_cookie("session", "account-a-secret")
        return response

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


@pytest.fixture
async def transport() -> AsyncIterator[AiohttpTransport]:
    """A transport with its own session, closed after the test."""
    made = AiohttpTransport()
    try:
        yield made
    finally:
        await made.aclose()


async def send(
    transport: AiohttpTransport,
    url: str,
    *,
    method: str = "POST",
    params: tuple[tuple[str, str], ...] = (),
    headers: dict[str, str] | None = None,
    body: object = None,
) -> int:
    raw = await transport.send(
        HttpRequest(
            method,
            url,
            params,
            headers if headers is not None else {"auth": "t", "accountId": "a"},
            body,
        )
    )
    return raw.status


async def test_query_headers_and_body_reach_the_server_as_given(
    echo_server: tuple[str, Seen], transport: AiohttpTransport
) -> None:
    base, seen = echo_server
    params = (("accountId", "acct 1/ü"), ("skip", "10"))
    for _ in range(2):  # the same request twice, as the same request
        await send(transport, base + "/p/x", params=params, body={"name": "Ünïcode"})
    await send(transport, base + "/p/y", method="GET")
    first, second, get = seen
    expected_query = URL(base + "/p/x").extend_query(params).raw_query_string
    for request in (first, second):
        assert request.rel_url.raw_query_string == expected_query
        assert request.query["accountId"] == "acct 1/ü"
        assert request.headers["User-Agent"] == USER_AGENT
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["auth"] == "t"
    assert get.path == "/p/y"
    assert get.rel_url.raw_query_string == ""
    assert "Content-Type" not in get.headers
    assert get.headers["User-Agent"] == USER_AGENT


async def test_a_cookie_one_answer_sets_is_never_sent_back(
    echo_server: tuple[str, Seen], transport: AiohttpTransport
) -> None:
    base, seen = echo_server
    # A host name, not an IP: aiohttp's default jar ignores cookies from IP addresses.
    base = base.replace("127.0.0.1", "localhost")
    await send(transport, base + "/a", headers={"auth": "t", "accountId": "a"})
    await send(transport, base + "/b", headers={"auth": "t", "accountId": "b"})
    assert [request.cookies.get("session") for request in seen] == [None, None]


async def test_changed_headers_are_sent_changed(
    echo_server: tuple[str, Seen], transport: AiohttpTransport
) -> None:
    base, seen = echo_server
    await send(transport, base + "/a", headers={"auth": "old", "accountId": "a"})
    await send(transport, base + "/a", headers={"auth": "new", "accountId": "a"})
    assert [request.headers["auth"] for request in seen] == ["old", "new"]


async def test_a_callers_session_keeps_its_own_user_agent(echo_server: tuple[str, Seen]) -> None:
    base, seen = echo_server
    async with aiohttp.ClientSession(headers={"User-Agent": "their-app/2"}) as session:
        transport = AiohttpTransport(session)
        await send(transport, base + "/a", body={"x": 1})
        await transport.aclose()
        assert not session.closed
    assert seen[0].headers["User-Agent"] == "their-app/2"


def test_a_request_never_shows_its_headers() -> None:
    request = HttpRequest("GET", "http://kore.test/x", headers={"auth": "secret-jwt-value"})
    assert "secret-jwt-value" not in repr(request)
    assert request.headers["auth"] == "secret-jwt-value"


async def test_creates_over_real_sockets_leave_no_reference_cycles(
    client: kca.CampaignClient,
) -> None:
    # What aiohttp and the transport allocate for a request must go by reference counting, as
    # through MockTransport: a cycle would wait for the collector, whose full passes walk every
    # call in flight, and with thousands of accounts there are tens of thousands of them.
    await client.account("warm", iid="st-app-1").contact_lists.create("warm", "d")
    gc.collect()
    gc.disable()
    try:
        accounts = [client.account(f"acct-{n}", iid="st-app-1") for n in range(5)]
        made = await asyncio.gather(
            *(a.contact_lists.create(f"list-{n}", "d") for n, a in enumerate(accounts))
        )
        left = gc.collect()
    finally:
        gc.enable()
    assert [created.name for created in made] == [f"list-{n}" for n in range(5)]
    assert left == 0
