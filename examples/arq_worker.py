"""Fan accounts out over arq workers; every worker paces each account through the same Redis.

arq (https://arq-docs.helpmanual.io) is a job queue on Redis: the Redis that queues the jobs
also holds each account's quota. Each worker process opens ONE CampaignClient with a
RedisLimitStore at startup and closes both at shutdown; jobs share that client. However many
workers (and hosts) run, an account's requests keep to its 60 a minute, a 429 seen by one
worker pauses the account in all of them, and two ``sync(prune=True)`` jobs on one account
take turns.

Run a worker:   KORE_HOST=... KORE_CLIENT_ID=... KORE_CLIENT_SECRET=... REDIS_URL=redis://... \\
                arq examples.arq_worker.WorkerSettings
Enqueue jobs:   await enqueue_provisioning(pool, {"acct-1": ("st-app-1", [{"name": "VIP"}])})
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from arq import ArqRedis
from arq.connections import RedisSettings

import kore_campaign_async as kca


def redis_url() -> str:
    """The Redis of both the queue and the quota."""
    return os.environ.get("REDIS_URL", "redis://localhost:6379/0")


async def startup(ctx: dict[str, Any]) -> None:
    """Open the worker's one client, pacing every account through Redis."""
    store = kca.RedisLimitStore.from_url(redis_url())
    ctx["limit_store"] = store
    ctx["kore"] = kca.CampaignClient(
        os.environ.get("KORE_HOST", "https://platform.kore.ai"),
        client_id=os.environ["KORE_CLIENT_ID"],
        client_secret=os.environ["KORE_CLIENT_SECRET"],
        # Kore's 60 a minute unless told otherwise (the CLI's variables). Every worker must
        # use the same RateLimit: the store refuses a second one for the same account.
        rate_limit=kca.RateLimit(
            int(os.environ.get("KORE_RATE_LIMIT", "60")),
            per=float(os.environ.get("KORE_RATE_PERIOD", "60")),
        ),
        limit_store=store,
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the client, then the store (the client never closes a store it was given)."""
    await ctx["kore"].aclose()
    await ctx["limit_store"].aclose()


async def provision_account(
    ctx: dict[str, Any], account_id: str, iid: str, lists: Sequence[kca.ContactListSpec]
) -> dict[str, Any]:
    """One job: make one account's lists match ``lists``; return the outcome counts."""
    client: kca.CampaignClient = ctx["kore"]
    report = await client.account(account_id, iid=iid).contact_lists.sync(lists)
    return {"account_id": account_id, "ok": report.ok, "counts": dict(report.counts)}


async def enqueue_provisioning(
    pool: ArqRedis, accounts: Mapping[str, tuple[str, Sequence[Mapping[str, Any]]]]
) -> list[Any]:
    """Enqueue one job per account (account id -> (iid, desired lists)); return the jobs."""
    return [
        await pool.enqueue_job("provision_account", account_id, iid, list(lists))
        for account_id, (iid, lists) in accounts.items()
    ]


class WorkerSettings:
    """``arq examples.arq_worker.WorkerSettings``."""

    functions: ClassVar = [provision_account]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(redis_url())
