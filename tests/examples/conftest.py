"""The recipe tests' fixtures: a fake Kore server, the recipes' settings, a running backend."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from examples.kore_setup import KoreSettings
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.backends import (
    ACCOUNT,
    FAST_QUOTA,
    IID,
    Call,
    Serve,
    serve_aiohttp,
    serve_fastapi,
)


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
