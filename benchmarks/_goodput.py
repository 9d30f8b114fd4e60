"""Benchmark 2: goodput under Kore's per-account rate limit, scaled to a one-second window.

The server allows LIMIT creates per account per WINDOW (fixed or sliding windows, Retry-After in
seconds). Both clients start on a window boundary and keep creating lists for the run's length
with 8 workers per account: the SDK through ``create_many`` with its default ``RateLimit``
scaled to the window, the baseline as tenacity + aiohttp backing off on 429 only.

Everything is counted from the server's own records, over ``[t0, t0 + seconds)``: goodput is
successful creates / (LIMIT * seconds / WINDOW) per account; the 429 share is 429 answers over
all requests the server saw in that span.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from typing import Any, Final

import aiohttp

import kore_campaign_async as kca
from kore_campaign_async._config import DEFAULT_MAX_CONCURRENCY
from kore_campaign_async.testing import ServerRateLimit

from . import _baselines as base
from ._common import (
    DESCRIPTION,
    IID,
    LIMIT,
    WINDOW,
    CreateCall,
    Settings,
    account_ids,
    names,
    scaled_retry,
    sign_token,
)
from ._server import Record, ServerProcess

SDK: Final = "SDK"
NAIVE: Final = "tenacity + aiohttp"
MODES: Final = ("sliding", "fixed")
CONCURRENCY: Final = DEFAULT_MAX_CONCURRENCY
BUCKET: Final = 1.0
# Targets from issue 3.
GOODPUT_TARGET: Final = 0.97
REFUSED_TARGET: Final = 0.01
# Lists per account: far more than any run can create.
_NAMES_PER_ACCOUNT: Final = 10_000_000


def _until(items: Iterator[str], deadline: float) -> Iterator[kca.ContactListSpec]:
    for name in items:
        if time.monotonic() >= deadline:
            return
        yield {"name": name, "description": DESCRIPTION}


async def _sdk(server: ServerProcess, accounts: list[str], deadline: float) -> int:
    """Create lists on every account until ``deadline``; return the items that failed."""
    async with kca.CampaignClient(
        server.url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        rate_limit=kca.RateLimit(LIMIT, per=WINDOW),
        retry=scaled_retry(),
    ) as client:
        lists = [client.account(account, iid=IID).contact_lists for account in accounts]
        reports = await asyncio.gather(
            *(
                one.create_many(_until(names(f"sdk-{n}", _NAMES_PER_ACCOUNT), deadline))
                for n, one in enumerate(lists)
            )
        )
    return sum(len(report.failed) for report in reports)


async def _naive(server: ServerProcess, accounts: list[str], deadline: float) -> int:
    """Create lists on every account until ``deadline``; return the items given up."""
    token = sign_token(server.client_id, server.client_secret)
    async with aiohttp.ClientSession() as session:
        failed = await asyncio.gather(
            *(
                base.naive_until(
                    session,
                    CreateCall.build(server.url, account, token),
                    names(f"naive-{n}", _NAMES_PER_ACCOUNT),
                    concurrency=CONCURRENCY,
                    until=deadline,
                )
                for n, account in enumerate(accounts)
            )
        )
    return sum(failed)


async def _next_boundary() -> float:
    """Sleep to the next window boundary of the (system-wide) monotonic clock; return it."""
    now = time.monotonic()
    boundary = (math.floor(now / WINDOW) + 1) * WINDOW
    await asyncio.sleep(boundary - now)
    return boundary


def measure(
    records: list[Record], accounts: list[str], t0: float, seconds: float
) -> dict[str, Any]:
    inside = [r for r in records if r.operation == "create" and t0 <= r.at < t0 + seconds]
    allowed = LIMIT * seconds / WINDOW
    shares = [
        sum(1 for r in inside if r.account_id == account and r.status == 200) / allowed
        for account in accounts
    ]
    ok = sum(1 for r in inside if r.status == 200)
    refused = sum(1 for r in inside if r.status == 429)
    buckets = math.ceil(seconds / BUCKET)
    per_bucket, refused_per_bucket, sent_per_bucket = [0] * buckets, [0] * buckets, [0] * buckets
    for r in inside:
        bucket = min(buckets - 1, int((r.at - t0) / BUCKET))
        sent_per_bucket[bucket] += 1
        per_bucket[bucket] += r.status == 200
        refused_per_bucket[bucket] += r.status == 429
    bucket_allowed = LIMIT * BUCKET / WINDOW * len(accounts)
    return {
        "requests": len(inside),
        "ok": ok,
        "refused_429": refused,
        "goodput": sum(shares) / len(shares),
        "goodput_min_account": min(shares),
        "share_429": refused / len(inside) if inside else 0.0,
        "series": [count / bucket_allowed for count in per_bucket],
        "series_429": [
            refused / sent if sent else 0.0
            for refused, sent in zip(refused_per_bucket, sent_per_bucket, strict=True)
        ],
    }


async def _one(
    server: ServerProcess, client: str, mode: str, count: int, seconds: float
) -> dict[str, Any]:
    server.configure(ServerRateLimit(limit=LIMIT, window=WINDOW, mode=mode))  # type: ignore[arg-type]
    accounts = account_ids(count)
    t0 = await _next_boundary()
    runner = _sdk if client == SDK else _naive
    failed = await runner(server, accounts, t0 + seconds)
    result = measure(server.summary(accounts).records, accounts, t0, seconds)
    result.update(client=client, mode=mode, accounts=count, items_failed=failed)
    return result


async def run(settings: Settings, server: ServerProcess) -> dict[str, Any]:
    """Run both clients in both window modes for each account count."""
    runs = []
    for mode in MODES:
        for count in settings.goodput_accounts:
            for client in (SDK, NAIVE):
                runs.append(await _one(server, client, mode, count, settings.goodput_seconds))
    sdk_runs = [r for r in runs if r["client"] == SDK]
    return {
        "limit": LIMIT,
        "window_s": WINDOW,
        "seconds": settings.goodput_seconds,
        "concurrency_per_account": CONCURRENCY,
        "runs": runs,
        "target": {"goodput_min": GOODPUT_TARGET, "share_429_max": REFUSED_TARGET},
        "sdk_meets_target": all(
            r["goodput"] >= GOODPUT_TARGET and r["share_429"] <= REFUSED_TARGET for r in sdk_runs
        ),
    }
