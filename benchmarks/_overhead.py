"""Benchmark 1: client CPU per request, no rate limit, the same requests in flight for everyone.

Five clients create the same lists on the same server, side by side in one run: raw aiohttp
(answer parsed, not decoded), aiohttp + pydantic v2 models (what a user or a code generator
writes), httpx + pydantic (openai-python's stack), and the SDK's ``create`` and ``create_many``.
Before each timed round the server forgets its lists (so every round meets the same server) and
the client warms up (connections open, caches filled). ``time.process_time()`` gives client CPU,
which is the point: the server runs in its own process on its own CPU, so CPU per request is
the client's alone; wall time gives requests per second.

This machine's speed drifts between runs more than between neighbouring rounds, so rounds
interleave the clients (in a rotating order) and every ratio is the median of round-by-round
ratios.
"""

from __future__ import annotations

import contextlib
import cProfile
import gc
import io
import pstats
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Final, TypeVar

import aiohttp
import attrs
import httpx

import kore_campaign_async as kca

from . import _baselines as base
from ._common import DESCRIPTION, IID, CreateCall, Settings, median, names, scaled_retry, sign_token
from ._server import ServerProcess

Batch = Callable[[list[str]], Awaitable[int]]
"""Create lists with these names; return how many were created."""
Opener = Callable[[ServerProcess, int], contextlib.AbstractAsyncContextManager[Batch]]
"""Open a client for the server with this many requests in flight; yield its batch."""
Session = TypeVar("Session")

ACCOUNT: Final = "acct-00"
WARMUP: Final = 64
RAW: Final = "raw aiohttp (no decoding)"
PYDANTIC: Final = "aiohttp + pydantic"
HTTPX: Final = "httpx + pydantic"
CREATE: Final = "SDK create"
CREATE_MANY: Final = "SDK create_many"
#: httpx costs ten times the others: this many rounds are enough to place it.
SLOW_ROUNDS: Final = {HTTPX: 3}


@attrs.frozen
class Target:
    """``client``'s CPU per request is at most ``limit`` times ``reference``'s."""

    client: str
    reference: str
    limit: float
    kind: str = ""
    """What a miss means, shown beside the target: "aim" (what we work towards) or "floor"
    (what a change to the request path must not lose)."""


TARGETS: Final = (
    Target(CREATE, PYDANTIC, 1.3, "aim"),
    Target(CREATE, RAW, 1.4, "aim"),
    # Issue 17: the request path's rework must hold a create within 1.5x of raw aiohttp.
    Target(CREATE, RAW, 1.5, "floor"),
    Target(CREATE_MANY, CREATE, 1.15),
)


@attrs.frozen
class Round:
    requests: int
    ok: int
    wall: float
    cpu: float
    server_cpu: float

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / self.requests


def _per_item(work: Callable[[str], Awaitable[bool]], concurrency: int) -> Batch:
    """Return a batch that runs ``work`` over its items with ``concurrency`` workers."""

    async def batch(items: list[str]) -> int:
        return (await base.run_workers(iter(items), concurrency, work))[1]

    return batch


def _hand_written(
    open_session: Callable[[], contextlib.AbstractAsyncContextManager[Session]],
    create: Callable[[Session, CreateCall, str], Awaitable[object | None]],
) -> Opener:
    """A hand-written client: one session, one signed token, ``create`` per list (None: failed)."""

    @contextlib.asynccontextmanager
    async def opener(server: ServerProcess, concurrency: int) -> AsyncIterator[Batch]:
        token = sign_token(server.client_id, server.client_secret)
        call = CreateCall.build(server.url, ACCOUNT, token)
        async with open_session() as session:

            async def work(name: str) -> bool:
                return await create(session, call, name) is not None

            yield _per_item(work, concurrency)

    return opener


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
            specs: Iterable[kca.ContactListSpec] = (
                {"name": name, "description": DESCRIPTION} for name in items
            )
            report = await lists.create_many(specs, concurrency=concurrency)
            return len(report.created)

        yield batch


CONTENDERS: Final[dict[str, Opener]] = {
    RAW: _hand_written(aiohttp.ClientSession, base.aiohttp_create),
    PYDANTIC: _hand_written(aiohttp.ClientSession, base.aiohttp_pydantic_create),
    HTTPX: _hand_written(httpx.AsyncClient, base.httpx_pydantic_create),
    CREATE: _sdk_create,
    CREATE_MANY: _sdk_create_many,
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


def paired(mine: list[Round], reference: list[Round]) -> list[float]:
    """Return the CPU-per-request ratio of each round to the same round of ``reference``.

    Round n of two clients ran seconds apart, so the drift of the machine cancels out of their
    ratio. A client with fewer rounds (httpx) is compared over the rounds it has.
    """
    return [m.cpu_per_request / r.cpu_per_request for m, r in zip(mine, reference, strict=False)]


def _row(rounds: list[Round], by_name: dict[str, list[Round]]) -> dict[str, Any]:
    return {
        "requests": rounds[0].requests,
        "rounds": len(rounds),
        "ok": min(r.ok for r in rounds),
        "req_per_s": median([r.requests / r.wall for r in rounds]),
        "cpu_us_per_req": median([r.cpu_per_request for r in rounds]) * 1e6,
        "server_cpu_us_per_req": median([r.server_cpu / r.requests for r in rounds]) * 1e6,
        "cpu_vs_raw": median(paired(rounds, by_name[RAW])),
        "cpu_vs_pydantic": median(paired(rounds, by_name[PYDANTIC])),
    }


def judge(target: Target, by_name: dict[str, list[Round]]) -> dict[str, Any]:
    """Compare one client with its reference round by round, against the target's limit."""
    ratios = paired(by_name[target.client], by_name[target.reference])
    found = median(ratios)
    return {
        **attrs.asdict(target),
        "ratio": found,
        "low": min(ratios),
        "high": max(ratios),
        "passed": found <= target.limit,
    }


async def run(settings: Settings, server: ServerProcess) -> dict[str, Any]:
    """Measure every client; rounds interleave them so drift hits all alike."""
    by_name: dict[str, list[Round]] = {name: [] for name in CONTENDERS}
    order = list(CONTENDERS)
    for number in range(settings.overhead_rounds):
        # Rotate the order each round so no client always runs first (cold) or last.
        shift = number % len(order)
        for name in order[shift:] + order[:shift]:
            if number < SLOW_ROUNDS.get(name, settings.overhead_rounds):
                label = f"{number}-{order.index(name)}"
                by_name[name].append(await _round(server, CONTENDERS[name], settings, label))
    return {
        "concurrency": settings.overhead_concurrency,
        "pinned": server.pinned,
        "rows": {name: _row(rounds, by_name) for name, rounds in by_name.items()},
        "targets": [judge(target, by_name) for target in TARGETS],
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
