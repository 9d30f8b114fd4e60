"""The arq recipe: two workers, in this process, take provisioning jobs from a real Redis.

Each worker opens its own CampaignClient with its own RedisLimitStore (as two worker
processes would), against a fake Kore server; the queue and the quota share one redis-server.
Compressed time: each account's limit is 60 requests a second instead of a minute.
"""

from __future__ import annotations

import asyncio

import pytest
from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from redis.asyncio import Redis

from examples import arq_worker
from kore_campaign_async.testing import FakeKoreServer


# arq 0.28's Worker.close() calls redis-py's deprecated close(): theirs to fix, not ours.
@pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")
async def test_arq_workers_fan_accounts_out_sharing_each_accounts_pace(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = {
        f"acct-{n}": (f"st-app-{n}", [{"name": f"List {k}"} for k in range(4)]) for n in range(6)
    }
    async with FakeKoreServer() as server:
        monkeypatch.setenv("REDIS_URL", redis_url)
        monkeypatch.setenv("KORE_HOST", server.url)
        monkeypatch.setenv("KORE_CLIENT_ID", server.client_id)
        monkeypatch.setenv("KORE_CLIENT_SECRET", server.client_secret)
        monkeypatch.setenv("KORE_RATE_PERIOD", "1")  # compressed time: 60 a second
        settings = RedisSettings.from_dsn(redis_url)
        pool = await create_pool(settings)
        try:
            jobs = await arq_worker.enqueue_provisioning(pool, accounts)
            workers = [
                Worker(
                    functions=arq_worker.WorkerSettings.functions,
                    on_startup=arq_worker.startup,
                    on_shutdown=arq_worker.shutdown,
                    redis_settings=settings,
                    burst=True,  # return once the queue is empty
                    poll_delay=0.01,
                    max_jobs=2,
                    handle_signals=False,
                )
                for _ in range(2)
            ]
            try:
                await asyncio.wait_for(asyncio.gather(*(w.main() for w in workers)), 30)
            finally:
                for worker in workers:
                    await worker.close()
            results = [await job.result(timeout=5) for job in jobs]
        finally:
            await pool.aclose()
        lists = {
            account: sorted(doc["name"] for doc in server.lists(account)) for account in accounts
        }
    assert all(result["ok"] for result in results)
    assert {result["account_id"]: result["counts"] for result in results} == {
        account: {"created": 4} for account in accounts
    }
    assert lists == {account: [f"List {k}" for k in range(4)] for account in accounts}
    assert sum(worker.jobs_complete for worker in workers) == len(accounts)
    assert all(worker.jobs_complete > 0 for worker in workers)  # the accounts fanned out
    # Every account was paced in the Redis the queue rides on.
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        paced = {str(key).split("|")[1].split("}")[0] for key in await redis.keys("kca:*:pace")}
    finally:
        await redis.aclose()
    assert paced == set(accounts)
