"""Fixtures for the fake-server tests: the server's clock, a running server, a client session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.clock import FakeClock
from tests.helpers.fake_server import Kore


@pytest.fixture
def server_clock() -> FakeClock:
    """The clock the fake server reads (request times, rate windows): it moves only when told."""
    return FakeClock()


@pytest.fixture
async def server(server_clock: FakeClock) -> AsyncIterator[FakeKoreServer]:
    async with FakeKoreServer(clock=server_clock) as running:
        yield running


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
def kore(session: aiohttp.ClientSession, server: FakeKoreServer) -> Kore:
    return Kore(session, server)
