"""Pacing through a caller's bounded connection pool: a permit goes out on a connection, and
fewer places are kept while the loop falls behind its answers.

A caller's ``aiohttp.ClientSession`` keeps at most ``limit`` connections (aiohttp's default is
100). When more requests are permitted than it can carry, the rest wait in its queue; requests
permitted a pace apart would then leave together once connections free up, and a sliding window
counts them in one window. The client takes a place on the wire (one per connection, shared by
its accounts) before each permit, so what reaches Kore keeps the pace.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.places import FLOOR
from kore_campaign_async.testing import FakeKoreServer, Fault, ServerRateLimit
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


async def _create_on_many_accounts(
    server: FakeKoreServer,
    make_client: MakeClient,
    accounts: int,
    on_answer: Callable[[kca.CampaignClient], None] = lambda client: None,
) -> int | None:
    """One create on each of ``accounts`` accounts through a 100-connection pool, calling
    ``on_answer`` after each answer; return the places the client keeps at the end."""
    connector = aiohttp.TCPConnector(limit=100)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = make_client(
            server, session=session, hooks=kca.Hooks(on_attempt=lambda _: on_answer(client))
        )
        async with client:
            creates = [
                client.account(f"acct-{n:03d}", iid="st").contact_lists.create(f"l-{n}", "d")
                for n in range(accounts)
            ]
            made = await asyncio.wait_for(asyncio.gather(*creates), timeout=60)
            places = client._places
    assert len({made_list.id for made_list in made}) == accounts
    # Each list made once, each create sent once.
    assert all(len(server.lists(f"acct-{n:03d}")) == 1 for n in range(accounts))
    assert len(server.requests) == accounts
    return None if places is None else places.limit


async def test_a_client_whose_loop_is_the_bound_keeps_the_fewest_places(
    server: FakeKoreServer, make_client: MakeClient, client_clock: ManualClock
) -> None:
    places: list[int] = []

    # Reading each answer takes the loop 2 ms: 500 answers a second, whatever the places.
    def read_slowly(client: kca.CampaignClient) -> None:
        assert client._places is not None
        places.append(client._places.limit)
        client_clock.advance(0.002)

    assert await _create_on_many_accounts(server, make_client, 500, read_slowly) == FLOOR
    # It tried twice the places once, and went back: they carried no more.
    assert max(places) == 2 * FLOOR
    assert places[-1] == FLOOR


async def test_a_client_bound_by_the_wire_grows_to_a_place_per_connection(
    make_client: MakeClient, client_clock: ManualClock
) -> None:
    places: list[int] = []

    def watch(client: kca.CampaignClient) -> None:
        assert client._places is not None
        places.append(client._places.limit)

    # Kore answers after a quarter of a second (virtual): twice the places, twice the rate.
    async with FakeKoreServer(clock=client_clock, sleep=client_clock.sleep) as slow:
        slow.faults.add(Fault("delay", delay=0.25, times=None))
        assert await _create_on_many_accounts(slow, make_client, 600, watch) == 100
    assert places[0] == FLOOR
    assert sorted(set(places)) == [FLOOR, 2 * FLOOR, 100]
    # From the floor to the pool's size in three rounds (0.25 s each), then kept there.
    assert places.index(100) < FLOOR + 2 * FLOOR + 100
    assert set(places[places.index(100) :]) == {100}
