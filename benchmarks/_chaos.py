"""Benchmark 4: create_many over many items while the server misbehaves.

First a clean run (no faults, no rate limit) times the job and calibrates the server's limit
for the chaos run at CHAOS_LIMIT_SHARE of the clean throughput, so the limit bites on any
machine. The chaos run adds, per request: connection resets, 500s (the client cannot know
whether the create happened), 503s, commit-then-drop on creates (the list is made, the answer
is lost), occasional 429s with a Retry-After, and a fixed-window rate limit whose windows end
in 429 storms. The faults that leave a create's fate unknown are kept rarer than the others:
each one makes the SDK look the name up in a listing of the whole account before retrying
(lookups that come close together share one), and that listing grows with the account (one
lookup's cost is measured at the end, ``lookup``). The client is the same in both runs:
defaults, no rate limit configured (the user does not know the server's), delays scaled like
every benchmark.

Counted from the server: lists lost (names asked for and missing), lists duplicated (names
present twice: impossible here, names are unique, so also creates committed more than once
and creates answered "already exists", which on a server without unique names would each be a
duplicate list), and from the report, items that failed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

import kore_campaign_async as kca
from kore_campaign_async import CreateReport
from kore_campaign_async.testing import ServerRateLimit

from ._common import DESCRIPTION, IID, WINDOW, Settings, names, ratio, scaled_retry
from ._server import ServerProcess, Summary

ACCOUNT: Final = "acct-chaos"
CHAOS_LIMIT_SHARE: Final = 0.25
# Chance per request of a fault whose create may have happened, and of one that is clear.
AMBIGUOUS_RATE: Final = 0.003
CLEAR_RATE: Final = 0.01
RETRY_AFTER: Final = "0.2"
FAULTS: Final[tuple[dict[str, Any], ...]] = (
    {"kind": "reset", "probability": AMBIGUOUS_RATE, "times": None},
    {"kind": "status", "status": 500, "probability": AMBIGUOUS_RATE, "times": None},
    {
        "kind": "commit_then_drop",
        "operation": "create",
        "probability": AMBIGUOUS_RATE,
        "times": None,
    },
    {"kind": "status", "status": 503, "probability": CLEAR_RATE, "times": None},
    {
        "kind": "status",
        "status": 429,
        "headers": {"Retry-After": RETRY_AFTER},
        "probability": CLEAR_RATE / 10,
        "times": None,
    },
)


def _client(server: ServerProcess) -> kca.CampaignClient:
    return kca.CampaignClient(
        server.url,
        client_id=server.client_id,
        client_secret=server.client_secret,
        rate_limit=None,
        retry=scaled_retry(),
    )


async def _job(server: ServerProcess, count: int) -> tuple[float, CreateReport]:
    """Create ``count`` lists on one account; return the wall time and the report."""
    async with _client(server) as client:
        lists = client.account(ACCOUNT, iid=IID).contact_lists
        specs: Iterable[kca.ContactListSpec] = (
            {"name": name, "description": DESCRIPTION} for name in names("chaos", count)
        )
        started = time.perf_counter()
        report = await lists.create_many(specs)
        return time.perf_counter() - started, report


async def _lookup_cost(server: ServerProcess, lists_now: int) -> dict[str, Any]:
    """Time one adoption lookup in the account as it now is (what an ambiguous create pays).

    A create of a name the account holds, answered "name taken", then adopting: the same
    listing and lookup by name that a create whose answer was lost makes before retrying.
    """
    server.configure(forget=False)  # faults and limit off; the lists stay
    async with _client(server) as client:
        lists = client.account(ACCOUNT, iid=IID).contact_lists
        name = next(names("chaos", 1))
        server_cpu = server.cpu()
        wall, cpu = time.perf_counter(), time.process_time()
        adopted = await lists.create(name, DESCRIPTION, if_exists="adopt")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        server_cpu = server.cpu() - server_cpu
    if adopted.meta is None or not adopted.meta.adopted:
        raise RuntimeError(f"{name!r} was not adopted: the lookup was not measured")
    return {"lists": lists_now, "wall_s": wall, "client_cpu_s": cpu, "server_cpu_s": server_cpu}


def _integrity(summary: Summary, report: CreateReport, count: int) -> dict[str, Any]:
    present = summary.lists.get(ACCOUNT, [])
    keys = Counter(name.lower() for name in present)
    wanted = {name.lower() for name in names("chaos", count)}
    creates = [r for r in summary.records if r.operation == "create"]
    committed = sum(1 for r in creates if r.status == 200 or r.fault == "commit_then_drop")
    statuses = Counter("dropped" if r.status is None else str(r.status) for r in summary.records)
    faults = Counter(r.fault for r in summary.records if r.fault is not None)
    attempts = [outcome.attempts for outcome in report.outcomes]
    return {
        "items": count,
        "outcomes": dict(report.counts),
        "failed": len(report.failed),
        "failed_reasons": sorted({o.reason or "" for o in report.failed})[:5],
        "lists_lost": len(wanted - set(keys)),
        "lists_duplicated": sum(n - 1 for n in keys.values() if n > 1),
        "creates_committed": committed,
        "creates_committed_twice": committed - len(present),
        "creates_answered_name_taken": sum(1 for r in creates if r.status == 409),
        "requests": len(summary.records),
        "lookups": sum(1 for r in summary.records if r.operation == "list"),
        "refused_by_limit": sum(1 for r in creates if r.status == 429 and r.fault is None),
        "statuses": dict(sorted(statuses.items())),
        "faults_injected": dict(sorted(faults.items())),
        "attempts_per_item": sum(attempts) / len(attempts) if attempts else 0.0,
    }


async def run(settings: Settings, server: ServerProcess) -> dict[str, Any]:
    """Run the clean job, then the same job under chaos; compare integrity and time."""
    count = settings.chaos_items
    server.configure()
    clean_s, clean_report = await _job(server, count)
    clean = _integrity(server.summary([ACCOUNT]), clean_report, count)
    limit = max(10, round(CHAOS_LIMIT_SHARE * count / clean_s * WINDOW))
    server.configure(ServerRateLimit(limit=limit, window=WINDOW, mode="fixed"), FAULTS)
    chaos_s, chaos_report = await _job(server, count)
    summary = server.summary([ACCOUNT])
    chaos = _integrity(summary, chaos_report, count)
    lookup = await _lookup_cost(server, len(summary.lists.get(ACCOUNT, [])))
    floor = count / limit * WINDOW
    return {
        "server_limit": {"limit": limit, "window_s": WINDOW, "mode": "fixed"},
        "faults": list(FAULTS),
        "clean": {**clean, "seconds": clean_s},
        "chaos": {**chaos, "seconds": chaos_s},
        "lookup": lookup,
        "time_ratio": ratio(chaos_s, clean_s),
        # The least time the limit alone allows: what chaos costs beyond the limit itself.
        "limit_floor_s": floor,
        "time_over_floor": ratio(chaos_s, floor),
        "meets_target": all(
            run[key] == 0
            for run in (clean, chaos)
            for key in ("lists_lost", "lists_duplicated", "creates_committed_twice", "failed")
        ),
    }
