"""Serve the web-backend recipes in this test's event loop, against a fake Kore server.

FastAPI goes through httpx's ASGITransport with the app's own lifespan; aiohttp.web through
aiohttp's TestServer on loopback. Both open their one CampaignClient on this loop, as a real
server opens it on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import attrs
import httpx
import pytest
from aiohttp.test_utils import TestClient, TestServer

import kore_campaign_async as kca
from examples import aiohttp_app, fastapi_app
from examples.kore_setup import KoreSettings
from kore_campaign_async.testing import FakeKoreServer

ACCOUNT = "acct-web"
IID = "st-web-app"

#: Kore's 60 a minute compressed 100x: the backends' few requests take milliseconds, not seconds.
FAST_QUOTA = kca.RateLimit(60, per=0.6)


@attrs.frozen
class Answer:
    status: int
    body: Any
    headers: Mapping[str, str]


Call = Callable[..., Awaitable[Answer]]
"""``await call("POST", "/lists", json={...})``"""
Serve = Callable[[KoreSettings], contextlib.AbstractAsyncContextManager[Call]]


@contextlib.asynccontextmanager
async def serve_fastapi(settings: KoreSettings) -> AsyncIterator[Call]:
    app = fastapi_app.create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://backend") as http,
    ):

        async def call(method: str, path: str, json: Any = None) -> Answer:
            response = await http.request(method, path, json=json)
            body = response.json() if response.content else None
            return Answer(response.status_code, body, response.headers)

        yield call


@contextlib.asynccontextmanager
async def serve_aiohttp(settings: KoreSettings) -> AsyncIterator[Call]:
    async with TestClient(TestServer(aiohttp_app.create_app(settings))) as http:

        async def call(method: str, path: str, json: Any = None) -> Answer:
            async with http.request(method, path, json=json) as response:
                text = await response.text()
                body = response.content_type == "application/json" and await response.json()
                return Answer(response.status, body if text else None, response.headers)

        yield call


@pytest.fixture
async def kore() -> AsyncIterator[FakeKoreServer]:
    async with FakeKoreServer() as server:
        yield server


@pytest.fixture
def settings(kore: FakeKoreServer) -> KoreSettings:
    return KoreSettings(
        host=kore.url,
        account_id=ACCOUNT,
        iid=IID,
        client_id=kore.client_id,
        client_secret=kore.client_secret,
        rate_limit=FAST_QUOTA,
    )


@pytest.fixture(params=[serve_fastapi, serve_aiohttp], ids=["fastapi", "aiohttp"])
def serve(request: pytest.FixtureRequest) -> Serve:
    serve: Serve = request.param
    return serve


@pytest.fixture
async def backend(serve: Serve, settings: KoreSettings) -> AsyncIterator[Call]:
    async with serve(settings) as call:
        yield call
