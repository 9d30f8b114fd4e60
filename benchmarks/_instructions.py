"""Benchmark 5 (optional): instructions per request, counted by valgrind: within 1 % every run.

Timed CPU on a shared machine drifts (see ``_overhead``); an instruction count hardly does.
Each contender runs in a child process under ``valgrind --tool=cachegrind --cache-sim=no``
twice, with a small and a large number of creates against the fake server (which runs natively
in its own process); the difference divided by the difference in creates is the client's
instructions per request, start-up and warm-up cancelled out. The children run with a fixed
hash seed: with a random one, start-up alone varies by about two million instructions from run
to run (set and dict layouts differ), as much as four requests cost. Instructions are not time
(a cache miss costs more than an add), but they show what each layer adds, repeatably.

Run it with ``python -m benchmarks --only instructions`` (valgrind needed; a few minutes).
``python -m benchmarks._instructions CONTENDER N`` is the child.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from kore_campaign_async._http.requester import Operation, Reply
from kore_campaign_async._wire import endpoints as ep

from . import _overhead
from ._common import IID, CreateCall, Settings, names
from ._server import ServerProcess

_ROOT: Final = Path(__file__).resolve().parent.parent
_IREFS: Final = re.compile(r"I\s+refs:\s+([\d,]+)")
RAW: Final = "raw aiohttp"
UNDECODED: Final = "SDK request path, answer not decoded"


def _undecoded(_reply: Reply) -> bool:
    return True


@contextlib.asynccontextmanager
async def _sdk_undecoded(server: ServerProcess, concurrency: int) -> AsyncIterator[_overhead.Batch]:
    """The SDK's limiter, auth, retry and transport, with the answer left as parsed JSON.

    A breakdown, not something users call: it reaches the account's requester directly.
    """
    async with _overhead._client(server, concurrency) as client:
        lists = client.account(_overhead.ACCOUNT, iid=IID).contact_lists
        requester = lists._requester

        async def work(name: str) -> bool:
            request = ep.create("v2", lists._ref, CreateCall.body(name))
            return await requester.call(Operation(request, _undecoded))

        yield _overhead._per_item(work, concurrency)


CONTENDERS: Final[dict[str, _overhead.Opener]] = {
    RAW: _overhead.CONTENDERS[RAW],
    UNDECODED: _sdk_undecoded,
    "SDK create": _overhead.CONTENDERS["SDK create"],
    "SDK create_many": _overhead.CONTENDERS["SDK create_many"],
}


async def _child(contender: str, count: int) -> None:
    with ServerProcess() as server:
        server.configure()
        async with CONTENDERS[contender](server, 32) as batch:
            await batch(list(names("warm", _overhead.WARMUP)))
            done = await batch(list(names("run", count)))
    if done != count:
        raise SystemExit(f"{contender}: {done} of {count} creates succeeded")


def _count(valgrind: str, contender: str, count: int) -> int:
    """Run the child under valgrind; return the instructions it executed."""
    done = subprocess.run(
        [
            valgrind,
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            "-m",
            "benchmarks._instructions",
            contender,
            str(count),
        ],
        cwd=_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    found = _IREFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        tail = done.stderr.strip().splitlines()[-3:]
        raise RuntimeError(f"valgrind run of {contender!r} failed: {tail}")
    return int(found.group(1).replace(",", ""))


def per_request(small: tuple[int, int], large: tuple[int, int]) -> float:
    """Instructions per request from (requests, instructions) at two sizes."""
    (few, fewer_irefs), (many, more_irefs) = small, large
    return (more_irefs - fewer_irefs) / (many - few)


def run(settings: Settings) -> dict[str, Any]:
    """Count every contender at both sizes, two valgrind runs at a time."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {"skipped": "valgrind not installed"}
    small, large = settings.instruction_sizes
    jobs = [(name, size) for name in CONTENDERS for size in (small, large)]
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _count(valgrind, *job), jobs), strict=True))
    rows = {
        name: per_request((small, counts[name, small]), (large, counts[name, large]))
        for name in CONTENDERS
    }
    return {
        "sizes": [small, large],
        "instructions_per_request": rows,
        "vs_raw_aiohttp": {name: value / rows[RAW] for name, value in rows.items()},
    }


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1], int(sys.argv[2])))
