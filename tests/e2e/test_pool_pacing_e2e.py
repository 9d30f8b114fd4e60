"""Pacing through a caller's bounded connection pool: a permit goes out on a connection.

A caller's ``aiohttp.ClientSession`` keeps at most ``limit`` connections (aiohttp's default is
100). When more requests are permitted than it can carry, the rest wait in its queue; requests
permitted a pace apart would then leave together once connections free up, and a sliding window
counts them in one window. The client takes a place on the wire (one per connection, shared by
its accounts) before each permit, so what reaches Kore keeps the pace.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncIterator

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import FakeKoreServer, ServerRateLimit
from tests.helpers.clients import MakeClient

LIMIT = 5
WINDOW = 1.0
BUSY = "acct-busy"


@pytest.fixture
async def limited_server(client_clock: ManualClock) -> AsyncIterator[FakeKoreServer]:
    """Kore's limit, scaled down, counted on the client's virtual clock (see the resilience
    tests: real time would turn a 1 s window into noise on a loaded machine)."""
    async with FakeKoreServer(
        rate_limit=ServerRateLimit(limit=LIMIT, window=WINDOW, mode="sliding"), clock=client_clock
    ) as fake:
        yield fake


def _most_in_a_window(times: list[float]) -> int:
    """The most of ``times`` any window of WINDOW seconds holds."""
    times = sorted(times)
    starts = [bisect.bisect_left(times, at - WINDOW + 1e-9) for at in times]
    return max((index + 1 - start for index, start in enumerate(starts)), default=0)


@pytest.mark.parametrize("connections", [1, 2])
async def test_a_backlog_in_the_pool_never_bunches_a_paced_account(
    limited_server: FakeKoreServer, make_client: MakeClient, connections: int
) -> None:
    server = limited_server
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = make_client(server, session=session, rate_limit=kca.RateLimit(LIMIT, per=WINDOW))
        async with client:
            # Forty accounts' first creates fill the pool's queue; behind them, one account
            # creates three windows' worth at its pace.
            others = [
                client.account(f"acct-{n:02d}", iid="st").contact_lists.create(f"l-{n}", "d")
                for n in range(40)
            ]
            busy = client.account(BUSY, iid="st").contact_lists
            mine = [busy.create(f"mine-{n}", "d") for n in range(3 * LIMIT)]
            # Bounded in real time only so that a place never given back fails, not hangs.
            made = await asyncio.wait_for(asyncio.gather(*others, *mine), timeout=60)
    assert len(made) == 40 + 3 * LIMIT
    assert server.count(status=429) == 0
    sent = [record.at for record in server.requests if record.account_id == BUSY]
    assert len(sent) == 3 * LIMIT
    assert _most_in_a_window(sent) <= LIMIT
