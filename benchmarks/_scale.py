"""Benchmark 3: memory of the bulk jobs, report included, at two sizes (tracemalloc).

The SDK's bulk code runs for real over ``InstantLists``, an account whose operations answer
at once (one loop turn each); a create answers Kore's documented sample, decoded by the SDK's
converter, so each ContactList is the size a real one is. 100,000 creates
against the fake server would measure the server, not the bulk code's memory. Inputs are
lazy generators, so they hold no memory themselves.

Four jobs: ``create_many`` as users call it (each outcome keeps the list id), the same with
``keep_results=True`` (each outcome keeps its ContactList), ``create_many_iter`` (outcomes
handed out and dropped, no report), and ``sync`` with half the lists already there.

Per size: ``peak`` is the highest traced memory during the call, report included (what the
job costs the process); ``report`` is what is still held afterwards through the returned
report; ``leaked`` is what is still held once that is dropped. Read the ratios between the
sizes, not the absolute numbers: a report that grows per item shows as peak per item staying
put; a job that keeps nothing shows as peak staying put.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import itertools
import json
import tracemalloc
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

import attrs

import kore_campaign_async as kca
from kore_campaign_async._bulk.create import create_many, create_many_iter
from kore_campaign_async._bulk.operations import IfExists
from kore_campaign_async._bulk.sync import sync
from kore_campaign_async._config import DEFAULT_MAX_CONCURRENCY
from kore_campaign_async._quota.store import AccountKey, Lease, LocalLimitStore
from kore_campaign_async._wire.converter import converter

from ._common import DESCRIPTION, Settings, names

ACCOUNT: Final = "acct-scale"
CONCURRENCY: Final = DEFAULT_MAX_CONCURRENCY
#: A create_many report, with the job's transient memory, costs at most this per item.
BYTES_PER_ITEM_TARGET: Final = 500.0
#: "Flat": the streaming job's peak grows by at most this per extra item.
STREAM_GROWTH_TARGET: Final = 16.0


class InstantLists:
    """List operations (``ListOperations``) that answer at once, with no HTTP."""

    account_id = ACCOUNT
    api_version: kca.ApiVersion = "v2"
    bulk_concurrency = CONCURRENCY

    def __init__(self, existing: Callable[[], list[kca.ContactList]] = list) -> None:
        self._existing = existing
        self._ids = itertools.count()
        self._meta = kca.ResponseMeta(attempts=1)
        self._leases = LocalLimitStore()

    async def create(
        self, spec: kca.ContactListCreate, /, *, if_exists: IfExists, api_version: Any
    ) -> kca.ContactList:
        await asyncio.sleep(0)
        return attrs.evolve(_decoded(f"cl-{next(self._ids):08d}", spec), meta=self._meta)

    async def list(self, *, api_version: Any) -> list[kca.ContactList]:
        await asyncio.sleep(0)
        return self._existing()

    async def update(
        self, list_id: str, changes: kca.ContactListUpdate, /, *, api_version: Any
    ) -> kca.UpdatedContactList:
        raise NotImplementedError("the scale benchmark plans no updates")

    async def delete(self, list_id: str, /, *, api_version: Any) -> kca.ContactList:
        raise NotImplementedError("the scale benchmark plans no deletes")

    def lease(self, name: str) -> contextlib.AbstractAsyncContextManager[Lease]:
        return self._leases.lease(AccountKey("instant", ACCOUNT), name)


def _answer(list_id: str, spec: kca.ContactListCreate) -> str:
    """Return the ``data`` of Kore's create answer (its documented sample) as JSON text."""
    user = "u-eb5bbee1-6af9-5b9a-b471-03a3fe4c0ffee"
    fields = ("firstName", "lastName", "phoneNumber", "timeZone", "uniqueId", "contactPriority")
    return json.dumps(
        {
            "isActive": True,
            "name": spec.name,
            "description": spec.description or "",
            "totalRecordCount": 0,
            "status": "Ready",
            "createdBy": user,
            "updatedBy": user,
            "mapping": {field: field for field in fields},
            "isListInUse": False,
            "listType": "call",
            "isGlobalDNC": False,
            "isDefault": False,
            "campaignInUse": [],
            "source": spec.source,
            "apiConfigurations": {"dataSyncMode": "allowDuplicates"},
            "columns": [],
            "files": [],
            "createdAt": "2025-12-05T09:22:51.001Z",
            "updatedAt": "2025-12-05T09:22:51.001Z",
            "_id": list_id,
            "allowDuplicates": bool(spec.allow_duplicates),
        }
    )


def _decoded(list_id: str, spec: kca.ContactListCreate) -> kca.ContactList:
    """Return the list Kore's answer decodes to: every string, dict and datetime its own."""
    return converter.structure(json.loads(_answer(list_id, spec)), kca.ContactList)


def _specs(prefix: str, count: int) -> Iterator[kca.ContactListSpec]:
    return ({"name": name, "description": DESCRIPTION} for name in names(prefix, count))


def _half_existing(prefix: str, count: int) -> Callable[[], list[kca.ContactList]]:
    """Every other desired list already exists, unchanged: sync plans half creates."""

    def existing() -> list[kca.ContactList]:
        return [
            _decoded(f"old-{number:08d}", kca.ContactListCreate(name=name, description=DESCRIPTION))
            for number, name in enumerate(names(prefix, count))
            if number % 2
        ]

    return existing


async def _traced(call: Callable[[], Awaitable[Any]]) -> tuple[dict[str, int], Counter[str]]:
    """Run ``call`` under tracemalloc; return peak, report and leaked bytes, and the counts."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = await call()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        counts = Counter(result) if isinstance(result, Counter) else Counter(result.counts)
        del result
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    sizes = {"peak": peak - before, "report": held - before, "leaked": after - before}
    return sizes, counts


async def _create_many(count: int, prefix: str, **options: Any) -> Any:
    return await create_many(
        InstantLists(), _specs(prefix, count), concurrency=CONCURRENCY, **options
    )


async def _create_many_kept(count: int, prefix: str) -> Any:
    return await _create_many(count, prefix, keep_results=True)


async def _create_many_iter(count: int, prefix: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    stream = create_many_iter(InstantLists(), _specs(prefix, count), concurrency=CONCURRENCY)
    async for outcome in stream:
        counts[outcome.status] += 1
    return counts


async def _sync(count: int, prefix: str) -> Any:
    lists = InstantLists(_half_existing(prefix, count))
    return await sync(lists, _specs(prefix, count), concurrency=CONCURRENCY)


JOBS: Final[dict[str, Callable[[int, str], Awaitable[Any]]]] = {
    "create_many": _create_many,
    "create_many keep_results": _create_many_kept,
    "create_many_iter": _create_many_iter,
    "sync": _sync,
}
# A first small run fills one-time caches (cattrs and attrs generated code, interned names),
# so they are not counted as the measured run's memory.
_WARMUP: Final = 100


def _row(count: int, sizes: dict[str, int], counts: Counter[str]) -> dict[str, Any]:
    return {
        "items": count,
        "counts": dict(counts),
        "peak_bytes": sizes["peak"],
        "report_bytes": sizes["report"],
        "leaked_bytes": sizes["leaked"],
        "peak_bytes_per_item": sizes["peak"] / count,
        "report_bytes_per_item": sizes["report"] / count,
    }


async def run(settings: Settings) -> dict[str, Any]:
    """Measure every job at the small and the large size."""
    result: dict[str, Any] = {"stub": "list operations answering at once (no HTTP)"}
    for label, job in JOBS.items():
        await job(_WARMUP, "warm")
        rows = []
        for count in settings.scale_sizes:
            sizes, counts = await _traced(functools.partial(job, count, "scale"))
            rows.append(_row(count, sizes, counts))
        small, large = rows
        result[label] = {
            "rows": rows,
            # Bytes the peak grows by per extra item: ~ per-item cost for a report, ~0 if flat.
            "growth_bytes_per_item": (
                (large["peak_bytes"] - small["peak_bytes"]) / (large["items"] - small["items"])
            ),
            "peak_ratio": large["peak_bytes"] / small["peak_bytes"],
            "size_ratio": large["items"] / small["items"],
        }
    per_item = result["create_many"]["rows"][-1]["peak_bytes_per_item"]
    growth = result["create_many_iter"]["growth_bytes_per_item"]
    result["target"] = {
        "create_many_peak_bytes_per_item_max": BYTES_PER_ITEM_TARGET,
        "create_many_iter_growth_bytes_per_item_max": STREAM_GROWTH_TARGET,
        "create_many_meets_target": per_item <= BYTES_PER_ITEM_TARGET,
        "create_many_iter_meets_target": growth <= STREAM_GROWTH_TARGET,
    }
    return result
