"""Benchmark 3: peak memory of create_many and sync at two sizes (tracemalloc).

The SDK's bulk code runs for real, over a stub account whose ``create`` and ``list`` answer at
once (one loop turn each) with the objects the real decoder would build: 100,000 creates
against the fake server would measure the server, not the bulk code's memory shape. Inputs
are lazy generators, so they hold no memory themselves.

Per size: ``peak`` is the highest traced memory during the call, ``report`` is what is still
held afterwards through the returned report (measured before it is dropped), and ``leaked``
is what is still held after the report is dropped. If memory grows with items only through
the report, ``peak - report`` stays flat from the small size to the large one.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Final

import kore_campaign_async as kca
from kore_campaign_async._config import DEFAULT_MAX_CONCURRENCY
from kore_campaign_async._wire.endpoints import AccountRef

from ._common import DESCRIPTION, IID, Settings, names

ACCOUNT: Final = "acct-scale"
# "Does not grow beyond the report": at most a pointer or two per item outside it.
GROWTH_TARGET: Final = 16.0
CONCURRENCY: Final = DEFAULT_MAX_CONCURRENCY


class InstantContactLists(kca.ContactLists):
    """``account.contact_lists`` whose create and list answer at once, with no HTTP."""

    def __init__(self, existing: Callable[[], list[kca.ContactList]] = list) -> None:
        # Only what ContactLists' bulk methods read; no requester is ever used.
        self._ref = AccountRef(ACCOUNT, IID, IID)
        self._default_version = "v2"
        self._bulk_concurrency = CONCURRENCY
        self._existing = existing
        self._ids = itertools.count()

    async def create(  # takes only the arguments the bulk code passes
        self, name: str | kca.ContactListCreate, description: str | None = None, **_: Any
    ) -> kca.ContactList:
        spec = name if isinstance(name, kca.ContactListCreate) else kca.ContactListCreate(name=name)
        await asyncio.sleep(0)
        return kca.ContactList(
            id=f"cl-{next(self._ids):08d}",
            name=spec.name,
            description=spec.description or description or "",
            source="passiveApi",
            meta=kca.ResponseMeta(attempts=1),  # shared, as the real decoder does
        )

    async def list(self, **_: Any) -> list[kca.ContactList]:
        await asyncio.sleep(0)
        return self._existing()


def _specs(prefix: str, count: int) -> Iterator[dict[str, str]]:
    return ({"name": name, "description": DESCRIPTION} for name in names(prefix, count))


def _half_existing(prefix: str, count: int) -> Callable[[], list[kca.ContactList]]:
    """Every other desired list already exists, unchanged: sync plans half creates."""

    def existing() -> list[kca.ContactList]:
        return [
            kca.ContactList(
                id=f"old-{number:08d}", name=name, description=DESCRIPTION, source="passiveApi"
            )
            for number, name in enumerate(names(prefix, count))
            if number % 2
        ]

    return existing


async def _traced(call: Callable[[], Awaitable[Any]]) -> tuple[dict[str, int], Any]:
    """Run ``call`` under tracemalloc; return peak, report and leaked bytes, and the result."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = await call()
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
        summary = _summarise(result)
        del result
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    sizes = {"peak": peak - before, "report": held - before, "leaked": after - before}
    return sizes, summary


def _summarise(report: Any) -> dict[str, int]:
    return dict(report.counts)


# A first small run fills one-time caches (cattrs and attrs generated code, interned names),
# so they are not counted as the measured run's memory.
_WARMUP: Final = 100


async def _create_many(count: int) -> tuple[dict[str, int], Any]:
    lists = InstantContactLists()
    await lists.create_many(_specs("warm", _WARMUP))
    return await _traced(lambda: lists.create_many(_specs("scale", count)))


async def _sync(count: int) -> tuple[dict[str, int], Any]:
    await InstantContactLists(_half_existing("warm", _WARMUP)).sync(_specs("warm", _WARMUP))
    lists = InstantContactLists(_half_existing("scale", count))
    return await _traced(lambda: lists.sync(_specs("scale", count)))


def _row(count: int, sizes: dict[str, int], counts: dict[str, int]) -> dict[str, Any]:
    transient = sizes["peak"] - sizes["report"]
    return {
        "items": count,
        "counts": counts,
        "peak_bytes": sizes["peak"],
        "report_bytes": sizes["report"],
        "peak_minus_report_bytes": transient,
        "leaked_bytes": sizes["leaked"],
        "peak_bytes_per_item": sizes["peak"] / count,
        "report_bytes_per_item": sizes["report"] / count,
        "peak_minus_report_bytes_per_item": transient / count,
    }


async def run(settings: Settings) -> dict[str, Any]:
    """Measure create_many and sync at the small and the large size."""
    result: dict[str, Any] = {"stub": "ContactLists with instant create/list (no HTTP)"}
    operations = {"create_many": _create_many, "sync": _sync}
    for label, operation in operations.items():
        rows = []
        for count in settings.scale_sizes:
            sizes, counts = await operation(count)
            rows.append(_row(count, sizes, counts))
        small, large = rows
        growth = large["peak_minus_report_bytes"] - small["peak_minus_report_bytes"]
        per_item = growth / (large["items"] - small["items"])
        result[label] = {
            "rows": rows,
            # Bytes per extra item that the report does not account for.
            "transient_growth_bytes_per_item": per_item,
            "meets_target": per_item <= GROWTH_TARGET,
        }
    result["target"] = {"transient_growth_bytes_per_item_max": GROWTH_TARGET}
    return result
