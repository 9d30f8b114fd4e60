"""Two pruning syncs on one account, in two clients sharing a real Redis, take turns."""

from __future__ import annotations

import asyncio

import kore_campaign_async as kca
from kore_campaign_async.testing import FakeKoreServer

IID = "st-lease"


async def test_two_clients_sharing_redis_take_turns_to_prune(redis_url: str) -> None:
    desired: list[kca.ContactListSpec] = [{"name": "Keep"}, {"name": "New"}]
    async with FakeKoreServer() as server:
        server.seed_list("acc-1", IID, "Stale")
        # Two clients, two stores: they share nothing but Redis, as two processes would.
        async with (
            kca.RedisLimitStore.from_url(redis_url, timeout=1.0) as one,
            kca.RedisLimitStore.from_url(redis_url, timeout=1.0) as two,
        ):
            clients = [
                kca.CampaignClient(
                    server.url,
                    client_id=server.client_id,
                    client_secret=server.client_secret,
                    rate_limit=None,
                    limit_store=store,
                )
                for store in (one, two)
            ]
            try:
                first, second = await asyncio.gather(
                    *(
                        client.account("acc-1", iid=IID).contact_lists.sync(desired, prune=True)
                        for client in clients
                    )
                )
            finally:
                for client in clients:
                    await client.aclose()
    # One run read, deleted and created; the other waited for its lease, then read the lists
    # the first left and had nothing to do: no second delete, no create of the same name again.
    operations = [str(r.operation) for r in server.requests]
    assert operations[0] == operations[-1] == "list"
    assert sorted(operations[1:-1]) == ["create", "create", "delete"]
    writes = sorted(report.plan.writes for report in (first, second) if report.plan)
    assert writes == [0, 3]
    assert first.ok
    assert second.ok
    assert sorted(item["name"] for item in server.lists("acc-1")) == ["Keep", "New"]
