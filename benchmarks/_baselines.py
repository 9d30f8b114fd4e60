"""The hand-written clients users would otherwise write, and the pydantic models they decode into.

Each is what a competent user writes in an afternoon, no worse: one session reused, the same
JWT on every request, the same headers and body as the SDK, the same number of requests in
flight. The pydantic models are what a user or a code generator writes for Kore's answer: every
field Kore sends, snake_case names with camelCase aliases, the envelope's ``data`` decoded.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any, Final

import aiohttp
import httpx
import pydantic
import tenacity
from pydantic.alias_generators import to_camel

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


# -- pydantic v2 models of Kore's answer -------------------------------------------------------


class _KoreModel(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(alias_generator=to_camel, populate_by_name=True)


class CampaignRef(_KoreModel):
    id: str | None = None
    name: str | None = None


class ContactList(_KoreModel):
    """A contact list as Kore sends it (create, get, list)."""

    id: str = pydantic.Field(alias="_id")
    name: str = ""
    description: str = ""
    status: str | None = None
    is_active: bool | None = None
    total_record_count: int | None = None
    allow_duplicates: bool | None = None
    source: str | None = None
    list_type: str | None = None
    is_list_in_use: bool | None = None
    campaign_in_use: list[CampaignRef | str] = []
    mapping: dict[str, Any] = {}
    api_configurations: dict[str, Any] = {}
    columns: list[Any] = []
    files: list[Any] = []
    is_global_dnc: bool | None = pydantic.Field(default=None, alias="isGlobalDNC")
    is_default: bool | None = None
    created_by: str | None = None
    updated_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    org_id: str | None = None
    lname: str | None = None
    iid: str | None = pydantic.Field(default=None, alias="iId")
    account_id: str | None = None


class CreateAnswer(_KoreModel):
    """Kore's envelope around a created list."""

    status: str
    message: str = ""
    data: ContactList


def decode_create(status: int, body: bytes) -> ContactList | None:
    """Return the created list from a 200 success answer, None for any other answer."""
    if status != 200:
        return None
    answer = CreateAnswer.model_validate_json(body)
    return answer.data if answer.status == "success" else None


# -- raw aiohttp, aiohttp + pydantic, httpx + pydantic -----------------------------------------


async def aiohttp_create(
    session: aiohttp.ClientSession, call: CreateCall, name: str
) -> dict[str, Any] | None:
    """Create one list; return the answer parsed as JSON but not decoded, None unless success."""
    async with session.post(
        call.url, params=call.params, headers=call.headers, json=CreateCall.body(name)
    ) as response:
        payload: dict[str, Any] = await response.json()
        return payload if response.status == 200 and payload.get("status") == "success" else None


async def aiohttp_paced_creates(
    session: aiohttp.ClientSession, calls: list[CreateCall], creates: int, interval: float
) -> int:
    """Create ``creates`` lists on each account of ``calls`` at Kore's pace, as raw aiohttp:
    a task per create, the k-th of each account sleeping until k intervals after the start.
    Return how many were created."""
    loop = asyncio.get_running_loop()
    start = loop.time()

    async def create(call: CreateCall, name: str, turn: int) -> bool:
        if turn:
            await asyncio.sleep(start + turn * interval - loop.time())
        return await aiohttp_create(session, call, name) is not None

    tasks = [
        create(call, f"list-{number}-{turn}", turn)
        for number, call in enumerate(calls)
        for turn in range(creates)
    ]
    return sum(await asyncio.gather(*tasks))


async def aiohttp_pydantic_create(
    session: aiohttp.ClientSession, call: CreateCall, name: str
) -> ContactList | None:
    """Create one list and decode the answer into the pydantic model."""
    async with session.post(
        call.url, params=call.params, headers=call.headers, json=CreateCall.body(name)
    ) as response:
        return decode_create(response.status, await response.read())


async def httpx_pydantic_create(
    client: httpx.AsyncClient, call: CreateCall, name: str
) -> ContactList | None:
    """Create one list through ``httpx.AsyncClient`` (openai-python's stack) into the model."""
    response = await client.post(
        call.url, params=call.params, headers=call.headers, json=CreateCall.body(name)
    )
    return decode_create(response.status_code, response.content)


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
