"""The hand-written clients users would otherwise write: raw aiohttp, httpx, tenacity + aiohttp.

Each is what a competent user writes in an afternoon, no worse: one session reused, the same
JWT on every request, the same headers and body as the SDK, the same number of workers.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

import aiohttp
import tenacity

from ._common import TIME_SCALE, CreateCall

#: What the naive loop waits, scaled: ``wait_random_exponential(multiplier=1, max=60)`` at Kore's
#: real one-minute window is the usual copy-paste.
NAIVE_MULTIPLIER: Final = 1.0 / TIME_SCALE
NAIVE_CAP: Final = 60.0 / TIME_SCALE
NAIVE_ATTEMPTS: Final = 10


async def run_workers(
    items: Iterator[str], concurrency: int, work: Callable[[str], Awaitable[bool]]
) -> tuple[int, int]:
    """Run ``work`` over ``items`` with ``concurrency`` tasks; return (items, how many were ok)."""
    done = ok = 0

    async def worker() -> None:
        nonlocal done, ok
        # next() on a plain iterator never awaits, so workers cannot take the same item.
        for item in items:
            # Awaited first: `ok += await ...` would read `ok` before the await and lose counts.
            succeeded = await work(item)
            ok += succeeded
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, ok


# -- raw aiohttp -------------------------------------------------------------------------------


async def aiohttp_create(session: aiohttp.ClientSession, call: CreateCall, name: str) -> bool:
    """Create one list; True when Kore answered success."""
    async with session.post(
        call.url, params=call.params, headers=call.headers, json=CreateCall.body(name)
    ) as response:
        payload = await response.json()
        return response.status == 200 and payload.get("status") == "success"


# -- httpx (optional) --------------------------------------------------------------------------


def load_httpx() -> Any | None:
    """Return the httpx module, or None when it is not installed (it is not a dependency)."""
    try:
        return importlib.import_module("httpx")
    except ImportError:
        return None


async def httpx_create(client: Any, call: CreateCall, name: str) -> bool:
    """Create one list through an ``httpx.AsyncClient``; True on success."""
    response = await client.post(
        call.url, params=call.params, headers=call.headers, json=CreateCall.body(name)
    )
    payload = response.json()
    return bool(response.status_code == 200 and payload.get("status") == "success")


# -- tenacity + aiohttp, backing off on 429 only -----------------------------------------------


class RateLimited(Exception):
    """The server answered 429."""


async def naive_create(session: aiohttp.ClientSession, call: CreateCall, name: str) -> bool:
    """Create one list, retrying 429s and dropped connections with exponential backoff + jitter.

    It honours nothing else: no Retry-After, no pacing, no pause shared with other workers.
    """
    try:
        async for attempt in tenacity.AsyncRetrying(
            retry=tenacity.retry_if_exception_type((RateLimited, aiohttp.ClientConnectionError)),
            wait=tenacity.wait_random_exponential(multiplier=NAIVE_MULTIPLIER, max=NAIVE_CAP),
            stop=tenacity.stop_after_attempt(NAIVE_ATTEMPTS),
            reraise=True,
        ):
            with attempt:
                async with session.post(
                    call.url, params=call.params, headers=call.headers, json=CreateCall.body(name)
                ) as response:
                    await response.read()
                    if response.status == 429:
                        raise RateLimited
                    return response.status == 200
    except (RateLimited, aiohttp.ClientError):
        return False
    return False  # pragma: no cover - tenacity either returns from the block or raises


async def naive_until(
    session: aiohttp.ClientSession,
    call: CreateCall,
    items: Iterator[str],
    *,
    concurrency: int,
    until: float,
) -> int:
    """Run ``concurrency`` naive workers until ``until`` (monotonic); return items given up."""

    async def work(name: str) -> bool:
        return await naive_create(session, call, name)

    def before_deadline() -> Iterator[str]:
        for name in items:
            if time.monotonic() >= until:
                return
            yield name

    done, ok = await run_workers(before_deadline(), concurrency, work)
    return done - ok
