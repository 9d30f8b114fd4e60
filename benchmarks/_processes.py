"""Benchmark 2b: goodput of N processes sharing one account, each alone versus through Redis.

Each process is a ``python -m benchmarks._processes`` child running ``create_many`` on the same
account with the SDK's default ``RateLimit`` scaled to the window (LIMIT per WINDOW) and 8
workers, from a common start on a window boundary to its end. "alone": every process paces
with its own in-process store, as before issue 10; "redis": they share one RedisLimitStore on a
redis-server started for the run (skipped, and said so, when none is installed). Counted from
the server's records over ``[t0, t0 + seconds)`` as in benchmark 2: goodput is successful
creates / allowed, the 429 share is 429 answers / requests; the smallest process share is the
fewest lists one process created over all created.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import kore_campaign_async as kca
from kore_campaign_async.testing import ServerRateLimit
from kore_campaign_async.testing._redis import RedisServer, redis_server_binary

from ._common import DESCRIPTION, IID, LIMIT, WINDOW, Settings, names, scaled_retry
from ._goodput import measure
from ._server import ServerProcess

ACCOUNT: Final = "acct-processes"
PROCESS_COUNTS: Final = (1, 2, 4)
PACINGS: Final = ("alone", "redis")
MODE: Final = "sliding"
# A child that has not started Python, imported and connected by then is stuck.
_STARTUP: Final = 60.0
_ROOT = Path(__file__).resolve().parent.parent


async def _one(
    server: ServerProcess, processes: int, seconds: float, redis_url: str | None
) -> dict[str, Any]:
    server.configure(ServerRateLimit(limit=LIMIT, window=WINDOW, mode=MODE))
    children = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "benchmarks._processes",
            server.url,
            server.client_id,
            f"p{n}",
            repr(seconds),
            redis_url or "",
            cwd=_ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for n in range(processes)
    ]
    # Start together: every child has started Python, imported and connected before t0 is set.
    for child in children:
        assert child.stdin is not None
        assert child.stdout is not None
        child.stdin.write(f"{server.client_secret}\n".encode())
        await child.stdin.drain()
    for child in children:
        assert child.stdout is not None
        ready = await asyncio.wait_for(child.stdout.readline(), _STARTUP)
        if ready.strip() != b"ready":
            raise RuntimeError(f"a benchmark process did not start: {ready!r}")
    t0 = (int(time.monotonic() / WINDOW) + 1) * WINDOW
    outputs = await asyncio.gather(*(child.communicate(f"{t0!r}\n".encode()) for child in children))
    answers = []
    for child, (out, err) in zip(children, outputs, strict=True):
        if child.returncode != 0:
            raise RuntimeError(f"a benchmark process failed:\n{err.decode(errors='replace')}")
        answers.append(json.loads(out))
    result = measure(server.summary([ACCOUNT]).records, [ACCOUNT], t0, seconds)
    created = [answer["created"] for answer in answers]
    result.update(
        processes=processes,
        pacing="redis" if redis_url else "alone",
        items_failed=sum(answer["failed"] for answer in answers),
        smallest_share=min(created) / max(1, sum(created)),
    )
    return result


async def _all(settings: Settings, server: ServerProcess, redis_url: str | None) -> list[Any]:
    runs = []
    for processes in PROCESS_COUNTS:
        runs.append(await _one(server, processes, settings.goodput_seconds, None))
        if redis_url is not None:
            runs.append(await _one(server, processes, settings.goodput_seconds, redis_url))
    return runs


async def run(settings: Settings, server: ServerProcess) -> dict[str, Any]:
    """Run 1, 2 and 4 processes, alone and through Redis (when a redis-server is installed)."""
    binary = redis_server_binary()
    skipped = None if binary is not None else "no redis-server installed: shared runs skipped"
    with tempfile.TemporaryDirectory(prefix="kca-bench-redis-") as folder:
        redis = None if binary is None else RedisServer(binary, Path(folder))
        if redis is not None:
            redis.start()
        try:
            runs = await _all(settings, server, None if redis is None else redis.url)
        finally:
            if redis is not None:
                redis.kill()
    return {
        "limit": LIMIT,
        "window_s": WINDOW,
        "mode": MODE,
        "seconds": settings.goodput_seconds,
        "runs": runs,
        "skipped": skipped,
    }


# -- the child ---------------------------------------------------------------------------------


async def _child(argv: Sequence[str]) -> dict[str, int]:
    url, client_id, name, seconds, redis_url = argv
    secret = sys.stdin.readline().strip()
    store: kca.LimitStore = (
        kca.RedisLimitStore.from_url(redis_url) if redis_url else kca.LocalLimitStore()
    )
    deadline = math.inf

    def items() -> Any:
        for list_name in names(name, 10_000_000):
            if time.monotonic() >= deadline:
                return
            yield {"name": list_name, "description": DESCRIPTION}

    try:
        async with kca.CampaignClient(
            url,
            client_id=client_id,
            client_secret=secret,
            rate_limit=kca.RateLimit(LIMIT, per=WINDOW),
            retry=scaled_retry(),
            limit_store=store,
        ) as client:
            lists = client.account(ACCOUNT, iid=IID).contact_lists
            print("ready", flush=True)
            start = float(await asyncio.to_thread(sys.stdin.readline))
            deadline = start + float(seconds)
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            report = await lists.create_many(items())
    finally:
        await store.aclose()
    return {"created": sum(1 for o in report.outcomes if o.ok), "failed": len(report.failed)}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_child(sys.argv[1:]))))
