"""Four processes on one account share its quota through Redis, against a fake Kore server
running in a process of its own.

Compressed time: the server allows 20 creates per second (sliding window) instead of Kore's
60 a minute, and every process is configured with the same RateLimit(20, per=1.0), so a run of
``SECONDS`` real seconds is ``SECONDS`` minutes of Kore's pace. The 2 % pacing margin is then
20 ms of latency jitter instead of 1.2 s: a busy machine may draw a 429 a real minute would not,
which is why the bound is 1 % (not 0) and the processes retry.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Final

import pytest

from benchmarks._server import ServerProcess
from kore_campaign_async.testing import ServerRateLimit

PROCESSES: Final = 4
SECONDS: Final = 3.0
ACCOUNT: Final = "acct-shared"

WORKER: Final = """
import asyncio, json, sys, time
import kore_campaign_async as kca

url, client_id, secret, redis_url, name, deadline = sys.argv[1:7]
deadline = float(deadline)

def items():
    k = 0
    while time.monotonic() < deadline:
        yield {"name": f"{name}-{k}"}
        k += 1

async def main():
    async with kca.RedisLimitStore.from_url(redis_url) as store:
        async with kca.CampaignClient(
            url, client_id=client_id, client_secret=secret,
            rate_limit=kca.RateLimit(20, per=1.0), limit_store=store,
            retry=kca.RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_cap=0.1),
        ) as client:
            lists = client.account(ACCOUNT, iid="st-shared").contact_lists
            report = await lists.create_many(items())
    created = [outcome.name for outcome in report.outcomes if outcome.ok]
    print(json.dumps({"created": created, "failed": len(report.failed)}))

asyncio.run(main())
""".replace("ACCOUNT", repr(ACCOUNT))


@pytest.fixture(scope="module")
def kore() -> Iterator[ServerProcess]:
    with ServerProcess() as server:
        yield server


async def test_four_processes_share_one_accounts_quota(kore: ServerProcess, redis_url: str) -> None:
    kore.configure(ServerRateLimit(limit=20, window=1.0, mode="sliding"))
    # Python starts in ~0.3 s: the deadline leaves every process time to begin.
    start = time.monotonic() + 1.0
    deadline = start + SECONDS
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            kore.url,
            kore.client_id,
            kore.client_secret,
            redis_url,
            f"p{n}",
            repr(deadline),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(PROCESSES)
    ]
    outputs = [await asyncio.wait_for(worker.communicate(), 60) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
    results = [json.loads(out) for out, _ in outputs]
    summary = kore.summary([ACCOUNT])

    creates = [r for r in summary.records if r.operation == "create"]
    refused = sum(1 for r in creates if r.status == 429)
    on_server = summary.lists[ACCOUNT]
    reported = [name for result in results for name in result["created"]]
    # Nothing lost, nothing duplicated: every reported create is on the server exactly once.
    assert all(result["failed"] == 0 for result in results)
    assert Counter(on_server) == Counter(reported)
    assert max(Counter(on_server).values()) == 1
    # The shared pace: at most 1 % refused, and close to the server's 20 a second while the
    # processes ran (measured by the server's clock between its first and last create).
    assert refused <= 0.01 * len(creates), (refused, len(creates))
    admitted = sorted(r.at for r in creates if r.status == 200)
    rate = (len(admitted) - 1) / (admitted[-1] - admitted[0])
    assert rate >= 0.9 * 20, rate
    # Every process gets its share.
    for result in results:
        assert len(result["created"]) >= 0.15 * len(on_server)
