"""Shared fixtures: a fake Kore server on a real loopback socket and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers_clock import RecordingSleep

#: Retries that take milliseconds, so fault tests stay fast without sleeping real seconds.
FAST_RETRY = kca.RetryPolicy(max_attempts=6, backoff_base=0.001, backoff_cap=0.005, deadline=10.0)


@pytest.fixture
async def server() -> AsyncIterator[FakeKoreServer]:
    async with FakeKoreServer() as fake:
        yield fake


@pytest.fixture
async def client(server: FakeKoreServer) -> AsyncIterator[kca.CampaignClient]:
    async with kca.CampaignClient(
        server.url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        rate_limit=None,
        retry=FAST_RETRY,
        timeout=kca.Timeout(total=5.0, connect=2.0),
    ) as c:
        yield c


@pytest.fixture
def account(client: kca.CampaignClient) -> kca.Account:
    return client.account("acct-1", iid="st-app-1")


@pytest.fixture
def clock() -> ManualClock:
    """Virtual time: moves only when something sleeps on it."""
    return ManualClock()


@pytest.fixture
def sleep(clock: ManualClock) -> RecordingSleep:
    """A sleep on ``clock`` that records every wait."""
    return RecordingSleep(clock)
