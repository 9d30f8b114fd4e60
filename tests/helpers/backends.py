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
from aiohttp.test_utils import TestClient, TestServer

import kore_campaign_async as kca
from examples import aiohttp_app, fastapi_app
from examples.kore_setup import KoreSettings

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
