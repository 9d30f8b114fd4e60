"""Adoption end to end: a resumed create_many lists each account a few times, not once per item."""

from __future__ import annotations

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import FakeKoreServer, Fault, ServerRateLimit
from tests.helpers.e2e import Connect

IID = "st-adopt"


async def test_a_resumed_create_many_lists_the_account_a_few_times_not_once_per_item(
    connect: Connect,
) -> None:
    # The state a cancelled run leaves: the first 60 of 90 lists were made.
    names = [f"Resumed {number:02d}" for number in range(90)]
    async with FakeKoreServer() as server, connect(server) as client:
        for name in names[:60]:
            server.seed_list("acc-1", IID, name)
        lists = client.account("acc-1", iid=IID, max_concurrency=8).contact_lists
        report = await lists.create_many([{"name": name} for name in names])
        listings = server.count(operation="list")
    assert [o.status for o in report.outcomes] == ["adopted"] * 60 + ["created"] * 30
    assert {o.list_id for o in report.outcomes} == {doc["_id"] for doc in server.lists("acc-1")}
    assert listings <= 2, listings


async def test_at_kores_pace_a_resumed_job_lists_about_once_a_minute(connect: Connect) -> None:
    clock = ManualClock()
    names = [f"Paced {number:03d}" for number in range(120)]
    async with (
        FakeKoreServer(rate_limit=ServerRateLimit(limit=60, window=60.0), clock=clock) as server,
        connect(
            server, rate_limit=kca.RateLimit(60, per=60.0), clock=clock, sleep=clock.sleep
        ) as client,
    ):
        for name in names:
            server.seed_list("acc-1", IID, name)
        lists = client.account("acc-1", iid=IID).contact_lists
        report = await lists.create_many([{"name": name} for name in names])
        listings = server.count(operation="list")
    assert report.counts == {"adopted": 120}
    assert listings <= 4, listings  # one a minute at most: 120 creates take two minutes


async def test_a_502_does_not_adopt_another_callers_list_of_the_name(connect: Connect) -> None:
    async with FakeKoreServer() as server, connect(server) as client:
        theirs = server.seed_list("acc-1", IID, "Quarterly", "their list")
        server.faults.add(Fault("status", operation="create", status=502))
        lists = client.account("acc-1", iid=IID).contact_lists
        with pytest.raises(kca.ConflictError) as caught:
            await lists.create("quarterly", "our list")
        assert theirs["_id"] in str(caught.value)
        assert [doc["_id"] for doc in server.lists("acc-1")] == [theirs["_id"]]
