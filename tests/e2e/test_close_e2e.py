"""``aclose()`` while creates are in flight: each says whether it may have been applied."""

from __future__ import annotations

import asyncio

import pytest

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.clients import MakeClient
from tests.helpers.fake_server import settle


async def test_creates_cut_by_aclose_say_whether_they_may_have_been_applied(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    # Every create is held by the server (until it stops) while the client closes; the grace
    # period passes in virtual time, so the connections close under the calls in flight.
    server.faults.add(Fault("delay", operation="create", delay=30.0, times=None))
    client = make_client(server, max_concurrency=8)
    lists = client.account("acct-1", iid="st").contact_lists
    creates = [asyncio.ensure_future(lists.create(f"Cut {n}")) for n in range(20)]
    await settle(lambda: server.count("create") == 8, turns=100_000)  # all 8 slots in flight
    await client.aclose(grace=1.0)
    errors = await asyncio.gather(*creates, return_exceptions=True)

    assert all(isinstance(error, kca.KoreError) for error in errors), errors
    may_have_been_applied = [e for e in errors if getattr(e, "request_sent", False)]
    # Exactly those whose request reached the server say so; the others were never sent.
    assert len(may_have_been_applied) == server.count("create") == 8
    for error in may_have_been_applied:
        assert isinstance(error, kca.ClientClosedError), repr(error)
        assert "may have applied it" in str(error)
        lost = error.__cause__
        assert isinstance(lost, kca.APIConnectionError)
        assert lost.request_sent
    for error in errors:
        if error not in may_have_been_applied:
            assert isinstance(error, kca.ClientClosedError)
            assert not error.request_sent


async def never(_: float) -> None:
    """A sleep that never ends by itself: a grace period only the calls can cut short."""
    await asyncio.Event().wait()


async def test_aclose_lets_20_creates_in_flight_finish_and_refuses_new_calls(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    client = make_client(server, sleep=never, max_concurrency=8)
    lists = client.account("acct-1", iid="st").contact_lists
    creates = [asyncio.ensure_future(lists.create(f"Kept {n}")) for n in range(20)]
    await settle(lambda: server.count("create") >= 1, turns=100_000)
    closing = asyncio.ensure_future(client.aclose())
    await asyncio.sleep(0)
    with pytest.raises(kca.ClientClosedError, match="nothing was sent"):
        await lists.create("Too late")
    created = await asyncio.gather(*creates)
    await asyncio.wait_for(closing, 5.0)  # returns once the last call ended
    assert client.closed
    assert sorted(c.name for c in created) == sorted(f"Kept {n}" for n in range(20))
    assert len(server.lists("acct-1")) == 20
    assert server.count("create") == 20  # the refused call sent nothing


async def test_aclose_with_nothing_in_flight_returns_at_once(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    client = make_client(server, sleep=never)  # a grace that never ends by itself
    lists = client.account("acct-1", iid="st").contact_lists
    await lists.create("Done")
    await asyncio.wait_for(client.aclose(), 5.0)  # nothing to wait for: no grace spent
    with pytest.raises(kca.ClientClosedError):
        await lists.list()
