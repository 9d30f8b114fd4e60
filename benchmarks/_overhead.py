"""Benchmark 1: client overhead per request, no rate limit, same concurrency for everyone.

Each contender creates the same number of lists with the same number of workers against the
server in its child process. Before each timed round the server forgets its lists (so every
round meets the same server) and the contender warms up (connections open, caches filled).
Wall time gives requests per second; ``time.process_time()`` gives client CPU, which is the
point: throughput is shared with the server, CPU per request is ours alone.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import io
import pstats
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import aiohttp
import attrs

import kore_campaign_async as kca

from . import _baselines as base
from ._common import (
    DESCRIPTION,
    IID,
    CreateCall,
    Settings,
    median,
    names,
    scaled_retry,
    sign_token,
)
from ._server import ServerProcess

Batch = Callable[[list[str]], Awaitable[int]]
Opener = Callable[[ServerProcess, int], contextlib.AbstractAsyncContextManager[Batch]]

ACCOUNT: Final = "acct-00"
WARMUP: Final = 64
#: httpx is ten times slower than the rest: it runs this many rounds only (enough to place it).
SLOW_ROUNDS: Final = {"httpx": 3}
# Targets from issue 5.
CPU_TARGET: Final = 1.15
THROUGHPUT_TARGET: Final = 0.90


@attrs.frozen
class Round:
    requests: int
    ok: int
    wall: float
    cpu: float
    server_cpu: float


def _per_item(work: Callable[[str], Awaitable[bool]], concurrency: int) -> Batch:
    """Return a batch that runs ``work`` over its items with ``concurrency`` workers."""

    async def batch(items: list[str]) -> int:
        return (await base.run_workers(iter(items), concurrency, work))[1]

    return batch


def _client(server: ServerProcess, concurrency: int) -> kca.CampaignClient:
    return kca.CampaignClient(
        server.url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        rate_limit=None,
        max_concurrency=concurrency,
        retry=scaled_retry(),
    )


@contextlib.asynccontextmanager
async def _sdk_create(server: ServerProcess, concurrency: int) -> AsyncIterator[Batch]:
    async with _client(server, concurrency) as client:
        lists = client.account(ACCOUNT, iid=IID).contact_lists

        async def work(name: str) -> bool:
            await lists.create(name, DESCRIPTION)
            return True

        yield _per_item(work, concurrency)


@contextlib.asynccontextmanager
async def _sdk_create_many(server: ServerProcess, concurrency: int) -> AsyncIterator[Batch]:
    async with _client(server, concurrency) as client:
        lists = client.account(ACCOUNT, iid=IID).contact_lists

        async def batch(items: list[str]) -> int:
            specs = ({"name": name, "description": DESCRIPTION} for name in items)
            report = await lists.create_many(specs, concurrency=concurrency)
            return len(report.created)

        yield batch


@contextlib.asynccontextmanager
async def _raw_aiohttp(server: ServerProcess, concurrency: int) -> AsyncIterator[Batch]:
    call = CreateCall.build(server.url, ACCOUNT, sign_token(server.client_id, server.client_secret))
    async with aiohttp.ClientSession() as session:

        async def work(name: str) -> bool:
            return await base.aiohttp_create(session, call, name)

        yield _per_item(work, concurrency)


@contextlib.asynccontextmanager
async def _httpx(server: ServerProcess, concurrency: int) -> AsyncIterator[Batch]:
    httpx = base.load_httpx()
    assert httpx is not None  # checked by the caller
    call = CreateCall.build(server.url, ACCOUNT, sign_token(server.client_id, server.client_secret))
    async with httpx.AsyncClient() as client:

        async def work(name: str) -> bool:
            return await base.httpx_create(client, call, name)

        yield _per_item(work, concurrency)


CONTENDERS: Final[dict[str, Opener]] = {
    "SDK create": _sdk_create,
    "SDK create_many": _sdk_create_many,
    "raw aiohttp": _raw_aiohttp,
    "httpx": _httpx,
}


async def _round(server: ServerProcess, opener: Opener, settings: Settings, label: str) -> Round:
    server.configure()
    async with opener(server, settings.overhead_concurrency) as batch:
        await batch(list(names(f"warm-{label}", WARMUP)))
        items = list(names(f"run-{label}", settings.overhead_requests))
        gc.collect()
        server_cpu0 = server.cpu()
        wall0, cpu0 = time.perf_counter(), time.process_time()
        ok = await batch(items)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        server_cpu = server.cpu() - server_cpu0
    return Round(requests=len(items), ok=ok, wall=wall, cpu=cpu, server_cpu=server_cpu)


def _row(rounds: list[Round]) -> dict[str, Any]:
    requests = rounds[0].requests
    cpu_per = median([r.cpu / r.requests for r in rounds])
    rate = median([r.requests / r.wall for r in rounds])
    return {
        "requests": requests,
        "rounds": len(rounds),
        "ok": min(r.ok for r in rounds),
        "req_per_s": rate,
        "cpu_us_per_req": cpu_per * 1e6,
        "server_cpu_us_per_req": median([r.server_cpu / r.requests for r in rounds]) * 1e6,
        "wall_s": [r.wall for r in rounds],
        "cpu_s": [r.cpu for r in rounds],
    }


def _paired(mine: list[Round], raw: list[Round]) -> dict[str, Any]:
    """Compare round by round: round n of each contender ran minutes apart at most.

    The machine's speed drifts (other tenants, clock boost) more between runs than
    between neighbouring rounds; the median of per-round ratios cancels most of it.
    """
    pairs = list(zip(mine, raw, strict=True))
    cpu = [(m.cpu / m.requests) / (r.cpu / r.requests) for m, r in pairs]
    rate = [(m.requests / m.wall) / (r.requests / r.wall) for m, r in pairs]
    cpu_ratio, rate_ratio = median(cpu), median(rate)
    return {
        "cpu_ratio": cpu_ratio,
        "cpu_ratio_rounds": cpu,
        "throughput_ratio": rate_ratio,
        "throughput_ratio_rounds": rate,
        "extra_cpu_us_per_req": median(
            [(m.cpu / m.requests - r.cpu / r.requests) * 1e6 for m, r in pairs]
        ),
        "meets_target": cpu_ratio <= CPU_TARGET and rate_ratio >= THROUGHPUT_TARGET,
    }


async def run(settings: Settings, server: ServerProcess) -> dict[str, Any]:
    """Measure every contender; rounds interleave contenders so drift hits all alike."""
    available = dict(CONTENDERS)
    skipped: dict[str, str] = {}
    if base.load_httpx() is None:
        del available["httpx"]
        skipped["httpx"] = "skipped: httpx not installed"
    rounds: dict[str, list[Round]] = {name: [] for name in available}
    order = list(available)
    for number in range(settings.overhead_rounds):
        # Rotate the order each round so no contender always runs first (cold) or last.
        shift = number % len(order)
        for name in order[shift:] + order[:shift]:
            if number >= SLOW_ROUNDS.get(name, settings.overhead_rounds):
                continue
            label = f"{number}-{order.index(name)}"
            rounds[name].append(await _round(server, available[name], settings, label))
    rows = {name: _row(found) for name, found in rounds.items()}
    comparisons = {
        name: _paired(rounds[name], rounds["raw aiohttp"])
        for name in ("SDK create", "SDK create_many")
    }
    return {
        "concurrency": settings.overhead_concurrency,
        "pinned": server.pinned,
        "rows": rows,
        "skipped": skipped,
        "vs_raw_aiohttp": comparisons,
        "target": {"cpu_ratio_max": CPU_TARGET, "throughput_ratio_min": THROUGHPUT_TARGET},
    }


async def profile_sdk(settings: Settings, server: ServerProcess, top: int = 30) -> str:
    """Profile one SDK create round with cProfile; return the top functions by own time."""
    profiler = cProfile.Profile()
    server.configure()
    async with _sdk_create(server, settings.overhead_concurrency) as batch:
        await batch(list(names("warm-profile", WARMUP)))
        items = list(names("profile", settings.overhead_requests))
        profiler.enable()
        await batch(items)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return out.getvalue()
