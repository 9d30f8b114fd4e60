"""Benchmark 5: many accounts in one process, with the default pacing and garbage collector.

Each size drives that many accounts from one client: three creates per account, all started
at once (one sends, two queue for the account's pace), first through ``MockTransport`` (the
SDK alone: an answer is Kore's documented sample, handed back at once), then against the fake
server in its own process (its sockets opened before the clock starts, as a running service
has them). The driver runs each create in a task of its own, as any caller running calls at
once must, and keeps nothing else per account: those tasks are its share of the CPU and of the
collector's work, counted in both. Per size:

- ``cpu_us``: client CPU per request (``time.process_time()``), handles made included. The
  garbage collector runs as it does for users: its cost grows with what the accounts keep
  alive, and every container object a request allocates brings the next collection nearer.
- ``gc_objects``: container objects per create the collector counts (allocated and not freed
  at once: what fills its young generation), and ``collections``: its young and full
  collections per thousand creates.
- ``promoted``: container objects per create that outlived two young collections and moved to
  the old generation (counted at each collection of the middle one). A full collection runs
  each time these pass a quarter of the old generation, and walks all of it: so their number
  per create, not the size of the heap, sets what full collections cost per request. An
  object that lives as long as a request waits (for its account's pace, for a socket, for the
  answer) is promoted as soon as more requests wait at once than two young collections free.
- ``in_flight_bytes``: memory per account while one create of each is in flight (tracemalloc,
  the transport holding every answer back): the handle and everything of the call down to
  ``MockTransport.send``. Not counted, and shown apart as ``driver_bytes`` (measured alone in
  the same run): what the benchmark itself holds per call, the task any concurrent caller
  needs to run it and the answer held back (which stands for the network).
- ``in_flight_objects``: container objects per account the collector tracks at that moment
  (``gc.get_objects()``), what each of its full collections walks; ``driver_objects`` is the
  benchmark's own share per call, apart.
- ``idle_bytes``: memory per account once every call ended and the handles are dropped: what
  the client keeps of an account it no longer uses.

No figure counts the event loop's registry of tasks (``asyncio.all_tasks()``, a ``WeakSet``):
its table keeps the size of its peak, the driver's tasks, and whether it grows during a run
depends on where the set's last resize fell (0 to 210 B per account at 10,000).

Against the server the same shape also runs in raw aiohttp, no SDK (``server_raw_aiohttp``: a
task per create, each account's creates one pace apart, the same sockets), interleaved with the
SDK's rounds: what any aiohttp client pays as the accounts grow, beside what the SDK adds.

Read ``cpu_ratio``: CPU per request at the largest size over the smallest. Flat means the cost
of a request does not depend on how many accounts the process holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import inspect
import json
import time
import tracemalloc
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Final

import aiohttp

import kore_campaign_async as kca
from kore_campaign_async.testing import MockTransport

from ._baselines import aiohttp_paced_creates
from ._collector import Collections
from ._common import DESCRIPTION, IID, CreateCall, Settings, median, sign_token
from ._server import ServerProcess

HOST: Final = "https://kore.example"
CREATES: Final = 3
#: CPU per request at the largest size, at most this times that at the smallest.
CPU_RATIO_TARGET: Final = 1.25
IN_FLIGHT_BYTES_TARGET: Final = 4096
IDLE_BYTES_TARGET: Final = 300
#: Sockets open at once against the fake server.
SERVER_CONNECTIONS: Final = 1_000
Drive = Callable[[int], Awaitable[int]]
"""Make CREATES lists on each of that many accounts at once; return how many were made."""
Opener = Callable[[int], contextlib.AbstractAsyncContextManager[Drive]]
"""Open a client (and whatever it needs) for one run of that many accounts: its driver."""
#: Seconds after its last request an account paced at 60 a minute is idle (interval + margin).
IDLE_AFTER: Final = 1.1
_WARM_ACCOUNTS: Final = 20
_USER = "u-eb5bbee1-6af9-5b9a-b471-03a3fe4c0ffee"
_FIELDS = ("firstName", "lastName", "phoneNumber", "timeZone", "uniqueId", "contactPriority")
# Kore's documented create answer, encoded once: the handler costs the client no CPU.
_ANSWER: Final = json.dumps(
    {
        "status": "success",
        "data": {
            "isActive": True,
            "name": "bench",
            "description": DESCRIPTION,
            "totalRecordCount": 0,
            "status": "Ready",
            "createdBy": _USER,
            "updatedBy": _USER,
            "mapping": {field: field for field in _FIELDS},
            "isListInUse": False,
            "listType": "call",
            "isGlobalDNC": False,
            "isDefault": False,
            "campaignInUse": [],
            "source": "passive_api",
            "apiConfigurations": {"dataSyncMode": "allowDuplicates"},
            "columns": [],
            "files": [],
            "createdAt": "2025-12-05T09:22:51.001Z",
            "updatedAt": "2025-12-05T09:22:51.001Z",
            "_id": "cl-00000001",
            "allowDuplicates": False,
        },
    }
).encode()
_HEADERS: Final = {"Content-Type": "application/json"}
# Where WeakSet tables are allocated: the event loop's registry of tasks (the SDK makes none).
_TASK_REGISTRY: Final = tracemalloc.Filter(True, inspect.getfile(weakref.WeakSet))


def _answer(request: kca.HttpRequest) -> kca.RawResponse:
    return kca.RawResponse(200, _HEADERS, _ANSWER)


def _traced() -> int:
    """Bytes traced now, the event loop's registry of tasks left out (0: not tracing)."""
    if not tracemalloc.is_tracing():
        return 0
    registry = tracemalloc.take_snapshot().filter_traces([_TASK_REGISTRY])
    tasks = sum(stat.size for stat in registry.statistics("filename"))
    return tracemalloc.get_traced_memory()[0] - tasks


class _HeldAnswers:
    """A handler that holds every answer until ``released`` is set: each call stays in flight."""

    def __init__(self, expected: int) -> None:
        self.released = asyncio.Event()
        self.all_waiting = asyncio.Event()
        self._expected = expected

    async def __call__(self, request: kca.HttpRequest) -> kca.RawResponse:
        self._expected -= 1
        if not self._expected:
            self.all_waiting.set()
        await self.released.wait()
        return _answer(request)


def _account_id(number: int) -> str:
    return f"acct-{number:06d}"


async def _drive(client: kca.CampaignClient, count: int) -> int:
    """Create CREATES lists on each of ``count`` accounts at once; return how many were made.

    One task per create, as any concurrent caller needs, and nothing per account besides.
    """
    creates = []
    for number in range(count):
        lists = client.account(_account_id(number), iid=IID).contact_lists
        creates += [lists.create(f"list-{number}-{n}", DESCRIPTION) for n in range(CREATES)]
    return len(await asyncio.gather(*creates))


async def _cpu(open_client: Opener, count: int) -> dict[str, float]:
    """Client CPU and collector work per request for ``count`` accounts."""
    gc.collect()
    async with open_client(count) as drive:
        with Collections() as collector:
            started = time.process_time()
            made = await drive(count)
            # One more turn of the loop: the step that took the answers ends, and with it the
            # last reference to this size's tasks and results, freed here (in this size's
            # time) rather than in the next size's.
            await asyncio.sleep(0)
            cpu = time.process_time() - started
    if made != count * CREATES:
        raise RuntimeError(f"made {made} lists of {count * CREATES}")
    return {
        "cpu_us": cpu / made * 1e6,
        "gc_us": collector.seconds / made * 1e6,
        "gc_objects": collector.objects / made,
        "young_per_1000": collector.young / made * 1000,
        "full_per_1000": collector.full / made * 1000,
        "promoted": collector.promoted / made,
    }


async def _in_flight(client: kca.CampaignClient, count: int, held: _HeldAnswers) -> tuple[int, int]:
    """Traced bytes and tracked objects with one create of each account in flight; return
    once all ended."""
    calls = [
        asyncio.ensure_future(
            client.account(_account_id(n), iid=IID).contact_lists.create(f"list-{n}", DESCRIPTION)
        )
        for n in range(count)
    ]
    await held.all_waiting.wait()
    traced = _traced()
    objects = len(gc.get_objects())
    held.released.set()
    await asyncio.gather(*calls)
    return traced, objects


async def _driver_in_flight(count: int) -> tuple[int, int]:
    """Traced bytes and tracked objects of what ``_in_flight`` holds per call besides the SDK:
    the task that runs the call and the held answer (the stand-in for the network), awaited
    with no client."""
    held = _HeldAnswers(count)
    request = kca.HttpRequest("POST", HOST)
    base = _traced()
    objects = len(gc.get_objects())
    calls = [asyncio.ensure_future(held(request)) for _ in range(count)]
    await held.all_waiting.wait()
    traced = _traced()
    objects = len(gc.get_objects()) - objects
    held.released.set()
    await asyncio.gather(*calls)
    return traced - base, objects


async def _memory(count: int) -> dict[str, float]:
    """Memory and tracked objects per account with one create each in flight, then memory
    once idle and dropped."""
    # A first small run fills one-time caches (generated code, the loop's own structures).
    warm = _HeldAnswers(_WARM_ACCOUNTS)
    async with kca.CampaignClient(HOST, token="t", transport=MockTransport(warm)) as client:
        await _in_flight(client, _WARM_ACCOUNTS, warm)
    gc.collect()
    tracemalloc.start()
    try:
        driver, driver_objects = await _driver_in_flight(count)
    finally:
        tracemalloc.stop()  # what it leaves behind is not traced below
    held = _HeldAnswers(count)
    gc.collect()
    tracemalloc.start()
    try:
        async with kca.CampaignClient(HOST, token="t", transport=MockTransport(held)) as client:
            base = _traced()
            base_objects = len(gc.get_objects())
            traced, objects = await _in_flight(client, count, held)
            # Idle: the account's pace owes nothing any more (one interval after its request).
            await asyncio.sleep(IDLE_AFTER)
            gc.collect()
            client.forget_idle()
            idle = _traced() - base
    finally:
        tracemalloc.stop()
    return {
        "in_flight_bytes": (traced - base - driver) / count,
        "driver_bytes": driver / count,
        "idle_bytes": idle / count,
        "in_flight_objects": (objects - base_objects - driver_objects) / count,
        "driver_objects": driver_objects / count,
    }


@contextlib.asynccontextmanager
async def _mock_client(accounts: int) -> AsyncIterator[Drive]:
    async with kca.CampaignClient(HOST, token="t", transport=MockTransport(_answer)) as client:
        yield functools.partial(_drive, client)


async def _open_sockets(session: aiohttp.ClientSession, url: str, count: int) -> None:
    """Open the ``count`` sockets a run uses, as a running service has them open already.

    Otherwise connecting is counted as client CPU per request (about 200 µs a socket): once
    in every three requests with 100 accounts, once in thirty with 10,000, which flatters the
    ratio. The sockets and what holds them are then old objects, as in a running service.
    """

    async def ping() -> None:
        async with session.get(url) as response:  # any answer will do: a 404 is quick
            await response.read()

    await asyncio.gather(*(ping() for _ in range(count)))
    gc.collect()


@contextlib.asynccontextmanager
async def _session_with_sockets(
    server: ServerProcess, accounts: int
) -> AsyncIterator[aiohttp.ClientSession]:
    """A session to ``server`` with one socket open per account's first create, up to
    SERVER_CONNECTIONS: one process serving thousands of accounts runs out of file descriptors
    long before the fake server answers them all."""
    connector = aiohttp.TCPConnector(limit=SERVER_CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _open_sockets(session, f"{server.url}/", min(accounts, SERVER_CONNECTIONS))
        yield session


def _server_client(server: ServerProcess) -> Opener:
    @contextlib.asynccontextmanager
    async def open_client(accounts: int) -> AsyncIterator[Drive]:
        async with _session_with_sockets(server, accounts) as session:
            client = kca.CampaignClient(
                server.url,
                client_id=server.client_id,
                client_secret=server.client_secret,
                session=session,
                # Ten thousand accounts' first creates at once queue at the fake server (and for
                # a socket) for longer than a call's default bounds: this measures CPU.
                timeout=None,
            )
            async with client:
                yield functools.partial(_drive, client)

    return open_client


def _raw_aiohttp(server: ServerProcess, token: str) -> Opener:
    """The same shape written with raw aiohttp, no SDK: a task per create, each account's
    creates one pace apart, the same sockets (the floor any aiohttp client stands on)."""

    @contextlib.asynccontextmanager
    async def open_client(accounts: int) -> AsyncIterator[Drive]:
        async with _session_with_sockets(server, accounts) as session:
            calls = [CreateCall.build(server.url, _account_id(n), token) for n in range(accounts)]
            interval = kca.RateLimit().interval
            yield lambda count: aiohttp_paced_creates(session, calls, CREATES, interval)

    return open_client


async def _rows(
    openers: dict[str, Opener],
    sizes: tuple[int, ...],
    rounds: int,
    before_round: Callable[[], None] = lambda: None,
) -> dict[str, list[dict[str, Any]]]:
    """Every size of every opener once per round, interleaved (a shared machine's load falls
    on all alike); the median of each figure, per opener."""
    runs: dict[str, dict[int, list[dict[str, float]]]] = {
        name: {size: [] for size in sizes} for name in openers
    }
    for open_client in openers.values():
        before_round()
        await _cpu(open_client, sizes[0])  # warm caches: cattrs, attrs, interned names
    for _ in range(rounds):
        for size in sizes:
            for name, open_client in openers.items():
                before_round()
                runs[name][size].append(await _cpu(open_client, size))
    return {
        name: [
            {"accounts": size, **{key: median([run[key] for run in done]) for key in done[0]}}
            for size, done in by_size.items()
        ]
        for name, by_size in runs.items()
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rows": rows, "cpu_ratio": rows[-1]["cpu_us"] / rows[0]["cpu_us"]}


async def run(settings: Settings, server: ServerProcess) -> dict[str, Any]:
    """Measure every size through MockTransport, then against the fake server."""
    sizes = settings.account_sizes
    mock = _summary((await _rows({"sdk": _mock_client}, sizes, settings.account_rounds))["sdk"])
    for row in mock["rows"]:
        row.update(await _memory(row["accounts"]))
    token = sign_token(server.client_id, server.client_secret)
    # As many rounds as through MockTransport: one sample of a size swings by 15 % or more on a
    # shared machine, enough to turn the ratio's verdict.
    against_server = await _rows(
        {"sdk": _server_client(server), "raw": _raw_aiohttp(server, token)},
        sizes,
        settings.account_rounds,
        before_round=lambda: server.configure(None),
    )
    fake, raw = _summary(against_server["sdk"]), _summary(against_server["raw"])
    largest = mock["rows"][-1]
    return {
        "mock": mock,
        "server": fake,
        "server_raw_aiohttp": raw,
        "target": {
            "cpu_ratio_max": CPU_RATIO_TARGET,
            "in_flight_bytes_max": IN_FLIGHT_BYTES_TARGET,
            "idle_bytes_max": IDLE_BYTES_TARGET,
            "cpu_meets_target": mock["cpu_ratio"] <= CPU_RATIO_TARGET,
            "server_cpu_meets_target": fake["cpu_ratio"] <= CPU_RATIO_TARGET,
            "in_flight_meets_target": largest["in_flight_bytes"] <= IN_FLIGHT_BYTES_TARGET,
            "idle_meets_target": largest["idle_bytes"] <= IDLE_BYTES_TARGET,
        },
    }
