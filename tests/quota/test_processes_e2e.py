"""Four processes on one account share its quota through Redis, against a fake Kore server
running in a process of its own (``benchmarks._server``, which records every request's arrival
on the system-wide monotonic clock): at full pace, after a 429 mid-run, and with Redis killed.

Compressed time: the server allows 20 (or RATE) creates per second (sliding window) instead of
Kore's 60 a minute, and every process is configured with the same RateLimit, so a second
stands for a minute of Kore's pace (a Retry-After of 1 s for one of 60 s). The 2 % pacing margin
is then 20 ms of latency jitter instead of 1.2 s, and a quarter of it (5 ms, 0.3 s at Kore's
pace) goes to letting a late permit keep its place: a busy machine may draw a 429 a real minute
would not. So the bound here is 2 % (one 429 in a run of about 70 creates), where the issue asks
1 % at Kore's pace, and the processes retry.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any, Final

import pytest

from benchmarks._server import ServerProcess
from kore_campaign_async._config import RATE_LIMIT_MESSAGE
from kore_campaign_async.testing import ServerRateLimit
from kore_campaign_async.testing._redis import RedisServer

PROCESSES: Final = 4
ITEMS: Final = 20
RATE: Final = 40
SECONDS: Final = 3.0
ACCOUNT: Final = "acct-shared"

WORKER: Final = """
import asyncio, json, sys, time
import kore_campaign_async as kca

url, client_id, secret, redis_url, name, count, rate = sys.argv[1:8]
count = int(count)

def items(deadline):
    # COUNT items, or (count 0) as many as fit before DEADLINE.
    k = 0
    while (k < count) if count else (time.monotonic() < deadline):
        yield {"name": f"{name}-{k}"}
        k += 1

async def main():
    async with kca.RedisLimitStore.from_url(redis_url, timeout=0.1, retry_every=0.2) as store:
        async with kca.CampaignClient(
            url, client_id=client_id, client_secret=secret,
            rate_limit=kca.RateLimit(int(rate), per=1.0), limit_store=store,
            retry=kca.RetryPolicy(max_attempts=8, backoff_base=0.01, backoff_cap=0.1),
        ) as client:
            lists = client.account(ACCOUNT, iid="st-" + name).contact_lists
            deadline = 0.0
            if not count:
                # Started: wait for the deadline all the processes share (monotonic, on stdin).
                print("ready", flush=True)
                deadline = float(await asyncio.to_thread(sys.stdin.readline))
            report = await lists.create_many(items(deadline))
    created = [outcome.name for outcome in report.outcomes if outcome.ok]
    print(json.dumps({"created": created, "failed": len(report.failed)}))

asyncio.run(main())
""".replace("ACCOUNT", repr(ACCOUNT))


@pytest.fixture(scope="module")
def kore() -> Iterator[ServerProcess]:
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    with ServerProcess() as server:
        # For the benchmarks the server pins this process off its CPU; the workers would inherit
        # that and share one core (starting four takes twice as long). Here they use them all.
        if cpus is not None:
            os.sched_setaffinity(0, cpus)
        yield server


async def _start(
    kore: ServerProcess,
    redis_url: str,
    *,
    items: int = ITEMS,
    rate: int = RATE,
) -> list[asyncio.subprocess.Process]:
    """Start the workers: each creates ``items`` lists, or with 0 as many as fit in a run
    that ``_run_for`` starts."""
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            kore.url,
            kore.client_id,
            kore.client_secret,
            redis_url,
            f"p{n}",
            str(items),
            str(rate),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(PROCESSES)
    ]


async def _run_for(workers: list[asyncio.subprocess.Process], seconds: float) -> None:
    """Once every worker has started, give them all one deadline ``seconds`` away.

    Python takes ~0.3 s CPU to start each one; on a loaded machine the last may be seconds
    late, so the run starts when they are all ready rather than at a guessed time.
    """
    for worker in workers:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), 60)
        assert line == b"ready\n", (line, (await worker.communicate())[1].decode())
    deadline = time.monotonic() + seconds
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write(f"{deadline!r}\n".encode())
        await worker.stdin.drain()


async def _finish(workers: list[asyncio.subprocess.Process]) -> list[dict[str, Any]]:
    outputs = [await asyncio.wait_for(worker.communicate(), 60) for worker in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err.decode()
    return [json.loads(out) for out, _ in outputs]


def _check_exactly_once(kore: ServerProcess, results: list[dict[str, Any]]) -> None:
    on_server = kore.summary([ACCOUNT]).lists[ACCOUNT]
    reported = [name for result in results for name in result["created"]]
    assert all(result["failed"] == 0 for result in results)
    expected = {f"p{n}-{k}" for n in range(PROCESSES) for k in range(ITEMS)}
    # Nothing lost, nothing duplicated: every item is on the server exactly once.
    assert Counter(on_server) == Counter(reported)
    assert set(on_server) == expected
    assert len(on_server) == len(expected)


async def _wait_for_creates(kore: ServerProcess, count: int) -> None:
    deadline = time.monotonic() + 20
    while sum(r.operation == "create" for r in kore.summary([ACCOUNT]).records) < count:
        assert time.monotonic() < deadline, "the workers never got going"
        await asyncio.sleep(0.05)


async def test_four_processes_share_one_accounts_quota(kore: ServerProcess, redis_url: str) -> None:
    kore.configure(ServerRateLimit(limit=20, window=1.0, mode="sliding"))
    workers = await _start(kore, redis_url, items=0, rate=20)
    await _run_for(workers, SECONDS)
    results = await _finish(workers)
    summary = kore.summary([ACCOUNT])

    creates = [r for r in summary.records if r.operation == "create"]
    refused = sum(1 for r in creates if r.status == 429)
    on_server = summary.lists[ACCOUNT]
    reported = [name for result in results for name in result["created"]]
    # Nothing lost, nothing duplicated: every reported create is on the server exactly once.
    assert all(result["failed"] == 0 for result in results)
    assert Counter(on_server) == Counter(reported)
    assert max(Counter(on_server).values()) == 1
    # The shared pace: at most 2 % refused (compressed time, see above), and close to the
    # server's 20 a second while the processes ran (the server's clock, first to last create).
    assert refused <= 0.02 * len(creates), (refused, len(creates))
    admitted = sorted(r.at for r in creates if r.status == 200)
    rate = (len(admitted) - 1) / (admitted[-1] - admitted[0])
    assert rate >= 0.9 * 20, rate
    # Every process gets its share.
    for result in results:
        assert len(result["created"]) >= 0.15 * len(on_server)


async def test_a_429_mid_run_pauses_every_process(kore: ServerProcess, redis_url: str) -> None:
    kore.configure(ServerRateLimit(limit=RATE, window=1.0, mode="sliding"))
    workers = await _start(kore, redis_url)
    await _wait_for_creates(kore, 15)
    # The next create anyone sends draws a 429 asking for a 1 s pause (Kore: a minute).
    refusal = {
        "kind": "status",
        "operation": "create",
        "status": 429,
        "body": {"errors": [{"msg": RATE_LIMIT_MESSAGE, "code": 429}]},
        "headers": {"Retry-After": "1"},
    }
    kore.configure(ServerRateLimit(limit=RATE, window=1.0, mode="sliding"), [refusal], forget=False)
    results = await _finish(workers)
    _check_exactly_once(kore, results)
    records = kore.summary([ACCOUNT]).records
    (injected,) = [r for r in records if r.fault is not None]
    # Requests already on the wire when the 429 was answered may still arrive in the first
    # few milliseconds; after that, no process sends until the pause is over.
    grace = 0.05
    into_pause = [r for r in records if injected.at + grace < r.at < injected.at + 1.0 - grace]
    assert into_pause == []
    assert any(r.at >= injected.at + 1.0 - grace for r in records)  # and they went on after it


async def test_redis_killed_mid_run_the_job_completes_exactly_once(
    kore: ServerProcess, redis_server: RedisServer
) -> None:
    kore.configure(ServerRateLimit(limit=RATE, window=1.0, mode="sliding"))
    workers = await _start(kore, redis_server.url)
    await _wait_for_creates(kore, 15)
    redis_server.kill()
    results = await _finish(workers)
    # Each process fell back to pacing alone at a quarter of the limit: still nothing lost
    # or duplicated, and every item was created.
    _check_exactly_once(kore, results)
    creates = [r for r in kore.summary([ACCOUNT]).records if r.operation == "create"]
    refused = sum(r.status == 429 for r in creates)
    assert refused <= 0.05 * len(creates), (refused, len(creates))
