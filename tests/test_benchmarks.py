"""The benchmarks: their pieces here, the quick run end to end under ``pytest -m bench``.

The quick run takes tens of seconds, so it is marked ``bench`` and left out of the default run;
CI runs it as a step of its own. It checks that every benchmark runs, never how fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import math
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

for _extra in ("httpx", "pydantic"):
    pytest.importorskip(_extra, reason="the benchmarks need the bench extra")

import aiohttp  # noqa: E402
import attrs  # noqa: E402
import httpx  # noqa: E402

import kore_campaign_async as kca  # noqa: E402
from benchmarks import (  # noqa: E402
    _accounts,
    _baselines,
    _call_path,
    _collector,
    _import_time,
    _overhead,
    _report,
)
from benchmarks.__main__ import QUICK_RESULTS, RESULTS, _parse, output_dir  # noqa: E402
from benchmarks._common import CreateCall, sign_token  # noqa: E402
from benchmarks._server import ServerProcess  # noqa: E402
from kore_campaign_async.testing import FakeKoreServer, MockTransport  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("overhead", "goodput", "scale", "chaos", "accounts")


@pytest.fixture(scope="module")
def quick_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return done, out


@pytest.fixture(scope="module")
def results(quick_run: tuple[subprocess.CompletedProcess[str], Path]) -> dict[str, Any]:
    done, out = quick_run
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads((out / "latest.json").read_text())
    return loaded


@pytest.mark.bench
def test_quick_run_exits_cleanly_and_writes_every_benchmark(
    quick_run: tuple[subprocess.CompletedProcess[str], Path], results: dict[str, Any]
) -> None:
    done, out = quick_run
    assert set(BENCHMARKS) <= results.keys()
    assert results["meta"]["mode"] == "quick"
    # Nothing left unclosed or crashed in the background of the run.
    for trouble in ("Traceback", "Unclosed", "Exception ignored", "Task was destroyed"):
        assert trouble not in done.stderr
    table = (out / "latest.md").read_text()
    assert table in done.stdout
    for number in range(1, 6):
        assert f"### {number}." in table
    # A quick run never overwrites the committed plot of a full run.
    assert "plot" not in results["meta"]


@pytest.mark.bench
def test_every_overhead_client_made_every_list_and_every_target_is_judged(
    results: dict[str, Any],
) -> None:
    overhead = results["overhead"]
    assert overhead["concurrency"] == 16
    assert list(overhead["rows"]) == list(_overhead.CONTENDERS)
    for row in overhead["rows"].values():
        assert row["ok"] == row["requests"] > 0
        assert row["req_per_s"] > 0
        assert row["cpu_us_per_req"] > 0
    judged = [(t["client"], t["reference"], t["limit"], t["kind"]) for t in overhead["targets"]]
    assert judged == [
        (_overhead.CREATE, _overhead.PYDANTIC, 1.3, "aim"),
        (_overhead.CREATE, _overhead.RAW, 1.4, "aim"),
        (_overhead.CREATE, _overhead.RAW, 1.5, "floor"),
        (_overhead.CREATE_MANY, _overhead.CREATE, 1.15, ""),
    ]
    for target in overhead["targets"]:
        assert target["low"] <= target["ratio"] <= target["high"]
        assert target["passed"] is (target["ratio"] <= target["limit"])


@pytest.mark.bench
def test_goodput_covers_both_clients_modes_and_account_counts(results: dict[str, Any]) -> None:
    goodput = results["goodput"]
    seen = {(run["client"], run["mode"], run["accounts"]) for run in goodput["runs"]}
    assert seen == {
        (client, mode, accounts)
        for client in ("SDK", "tenacity + aiohttp")
        for mode in ("sliding", "fixed")
        for accounts in (1, 10)
    }
    buckets = math.ceil(goodput["seconds"])
    for run in goodput["runs"]:
        assert run["ok"] > 0
        assert len(run["series"]) == len(run["series_429"]) == buckets


@pytest.mark.bench
def test_scale_and_chaos_report_their_measures(results: dict[str, Any]) -> None:
    for operation in ("create_many", "sync"):
        rows = results["scale"][operation]["rows"]
        assert [row["items"] for row in rows] == results["meta"]["settings"]["scale_sizes"]
        assert all(row["peak_bytes"] >= row["report_bytes"] > 0 for row in rows)
    chaos = results["chaos"]
    items = results["meta"]["settings"]["chaos_items"]
    assert chaos["clean"]["outcomes"] == {"created": items}
    assert chaos["clean"]["faults_injected"] == {}
    assert chaos["lookup"]["lists"] == items


@pytest.mark.bench
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this OS")
def test_the_server_process_gives_the_caller_its_cpus_back() -> None:
    before = os.sched_getaffinity(0)
    with ServerProcess() as server:
        assert server.pinned is (len(before) >= 2)
        if server.pinned:
            assert os.sched_getaffinity(0) == before - {max(before)}
    assert os.sched_getaffinity(0) == before


def test_a_quick_run_writes_beside_the_committed_full_run_results(tmp_path: Path) -> None:
    assert output_dir(_parse([])) == RESULTS
    assert output_dir(_parse(["--quick"])) == QUICK_RESULTS != RESULTS
    assert output_dir(_parse(["--quick", "--out", str(tmp_path)])) == tmp_path
    # Git ignores the quick results, so a quick run leaves the worktree clean.
    assert "benchmarks/results/quick/" in (ROOT / ".gitignore").read_text().splitlines()


async def test_the_pydantic_clients_decode_every_field_kore_sends(server: FakeKoreServer) -> None:
    token = sign_token(server.client_id, server.client_secret)
    call = CreateCall.build(server.url, "acct-1", token)
    async with aiohttp.ClientSession() as session:
        via_aiohttp = await _baselines.aiohttp_pydantic_create(session, call, "renewals")
        # Kore refuses a taken name (409): no model, no exception.
        assert await _baselines.aiohttp_pydantic_create(session, call, "RENEWALS") is None
    async with httpx.AsyncClient() as client:
        via_httpx = await _baselines.httpx_pydantic_create(client, call, "renewals-2")
    aliases = {field.alias for field in _baselines.ContactList.model_fields.values()}
    for found, doc in zip((via_aiohttp, via_httpx), server.lists("acct-1"), strict=True):
        assert set(doc) <= aliases  # a field for everything Kore sends
        assert found is not None
        assert (found.id, found.name, found.is_global_dnc) == (doc["_id"], doc["name"], False)
        assert found.created_at is not None
        assert found.mapping == doc["mapping"]


async def test_the_raw_paced_creates_make_every_list_on_every_account(
    server: FakeKoreServer,
) -> None:
    token = sign_token(server.client_id, server.client_secret)
    calls = [CreateCall.build(server.url, f"raw-{n}", token) for n in range(3)]
    async with aiohttp.ClientSession() as session:
        # Paced 0 s apart here: the pace is the benchmark's, the lists are what is checked.
        made = await _baselines.aiohttp_paced_creates(session, calls, 2, 0.0)
    assert made == 6
    assert [len(server.lists(f"raw-{n}")) for n in range(3)] == [2, 2, 2]


def _rounds(*cpu: float) -> list[_overhead.Round]:
    return [_overhead.Round(requests=100, ok=100, wall=c, cpu=c, server_cpu=0.0) for c in cpu]


def test_ratios_compare_round_by_round_and_judge_the_median() -> None:
    # The machine slows down 2x halfway; each SDK round costs 1.1x its neighbouring raw round.
    raw = _rounds(1.0, 1.0, 2.0, 2.0, 2.0)
    sdk = _rounds(1.1, 1.1, 2.2, 2.2, 2.2)
    assert _overhead.paired(sdk, raw) == pytest.approx([1.1] * 5)
    # A client with fewer rounds (httpx) is compared over the rounds it has.
    assert _overhead.paired(_rounds(10.0), raw) == [10.0]
    by_name = {_overhead.CREATE: _rounds(1.2, 1.5, 1.3), _overhead.RAW: _rounds(1.0, 1.0, 1.0)}
    target = _overhead.Target(_overhead.CREATE, _overhead.RAW, 1.4)
    verdict = _overhead.judge(target, by_name)
    assert verdict["ratio"] == pytest.approx(1.3)
    assert (verdict["low"], verdict["high"]) == (pytest.approx(1.2), pytest.approx(1.5))
    assert verdict["passed"] is True
    strict = _overhead.Target(_overhead.CREATE, _overhead.RAW, 1.25)
    assert _overhead.judge(strict, by_name)["passed"] is False


def test_report_shows_every_client_and_each_target_with_its_verdict() -> None:
    row = {
        "requests": 800,
        "rounds": 21,
        "req_per_s": 4000.0,
        "cpu_us_per_req": 130.0,
        "server_cpu_us_per_req": 200.0,
        "cpu_vs_raw": 1.25,
        "cpu_vs_pydantic": 1.1,
    }
    met = _overhead.Target("SDK create", "raw", 1.4, "aim")
    missed = _overhead.Target("SDK create_many", "SDK create", 1.15)
    targets = [
        {**attrs.asdict(met), "ratio": 1.25, "low": 1.1, "high": 1.5, "passed": True},
        {**attrs.asdict(missed), "ratio": 1.2, "low": 1.0, "high": 1.3, "passed": False},
    ]
    result = {"concurrency": 16, "pinned": True, "rows": {"SDK create": row}, "targets": targets}
    lines = _report.overhead(result)
    assert "16 requests in flight, 800 creates per round" in lines[0]
    assert "| SDK create | 21 | 4000 | 130 | 200 | 1.25x | 1.10x |" in lines
    assert "| SDK create / raw | aim | 1.40x | 1.25x | 1.10x to 1.50x | **pass** |" in lines
    assert (
        "| SDK create_many / SDK create | - | 1.15x | 1.20x | 1.00x to 1.30x | **fail** |" in lines
    )


async def test_call_path_splits_request_path_from_decoding_hooks_and_finds_the_await() -> None:
    found = await _call_path.crossed()
    request_path = {code.co_name for code in found.request_path}
    hooks = {code.co_name for code in found.decoding_hooks}
    assert {"create", "__call__", "create_body"} <= request_path
    assert {"structure", "read", "_structure_datetime"} <= hooks
    assert "__call__" not in hooks
    # While the server answers, the create waits in the transport, the create outermost.
    chain = found.deepest
    assert chain[0] is kca.ContactLists.create.__code__
    assert chain[-1].co_name == "send"
    assert len(chain) >= 3


def test_import_time_reports_both_processes_and_ranks_only_what_the_import_loads() -> None:
    medians = _import_time.measure(rounds=1)
    assert list(medians) == [
        "aiohttp process",
        "package process",
        "difference",
        "in-process import",
        "package alone",
    ]
    assert medians["aiohttp process"] > 0
    assert medians["in-process import"] > 0
    ranked = [module for _, module in _import_time.self_times()]
    assert {"kore_campaign_async", "kore_campaign_async._client"} <= set(ranked)
    assert not [module for module in ranked if "._bulk" in module]


@pytest.mark.bench
def test_the_plot_is_written_where_asked_even_into_a_new_directory(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from benchmarks import _plot
    from benchmarks._goodput import MODES, SDK

    runs = [
        {"mode": mode, "client": SDK, "accounts": 1, "series": [98.0, 97.0], "series_429": [0, 0]}
        for mode in MODES
    ]
    goodput = {"limit": 60, "window_s": 1.0, "runs": runs}
    path = tmp_path / "not" / "yet" / "goodput.png"

    assert _plot.write(goodput, path) is None
    assert path.read_bytes().startswith(b"\x89PNG")


@pytest.mark.bench
def test_accounts_reports_cpu_collector_and_memory_per_size(results: dict[str, Any]) -> None:
    accounts = results["accounts"]
    sizes = results["meta"]["settings"]["account_sizes"]
    for where in ("mock", "server", "server_raw_aiohttp"):
        rows = accounts[where]["rows"]
        assert [row["accounts"] for row in rows] == sizes
        for row in rows:
            assert row["cpu_us"] > row["gc_us"] >= 0
            assert row["gc_objects"] > 0
            assert row["young_per_1000"] > 0
            assert row["promoted"] >= 0
        assert accounts[where]["cpu_ratio"] == rows[-1]["cpu_us"] / rows[0]["cpu_us"]
    for row in accounts["mock"]["rows"]:
        # An account in flight holds its handle, limiter and call; an idle one far less.
        assert row["in_flight_bytes"] > row["idle_bytes"] > 0
        # The benchmark's own task and held answer per call, shown apart from the SDK's.
        assert row["in_flight_bytes"] > row["driver_bytes"] > 0
        # Tracked objects: the handle and its call's, then the benchmark's task apart.
        assert row["in_flight_objects"] > row["driver_objects"] > 0
    assert set(accounts["target"]) >= {"cpu_meets_target", "in_flight_meets_target"}


def test_the_collector_count_tells_promoted_objects_from_those_freed_young() -> None:
    gc.collect()
    kept: list[list[int]] = []
    with _collector.Collections() as collector:
        for number in range(20_000):
            kept.append([number])  # lives on: promoted once two young collections pass it
            garbage = [[number] for _ in range(4)]  # freed at once, never promoted
            del garbage
        gc.collect(1)
    # The list's own resizes and the with block's leftovers are all that is added.
    assert 20_000 <= collector.promoted <= 20_050
    assert collector.young > 0


def test_the_accounts_tables_show_the_same_columns_for_the_sdk_alone_and_the_server() -> None:
    row = {
        "accounts": 100,
        "cpu_us": 300.0,
        "gc_us": 20.0,
        "gc_objects": 120.0,
        "young_per_1000": 170.0,
        "full_per_1000": 0.4,
        "promoted": 60.4,
        "in_flight_bytes": 3000.0,
        "driver_bytes": 500.0,
        "idle_bytes": 100.0,
    }
    side = {"rows": [row], "cpu_ratio": 1.0}
    target = {
        "cpu_ratio_max": 1.25,
        "in_flight_bytes_max": 4096,
        "idle_bytes_max": 300,
        **dict.fromkeys(
            ("cpu_meets_target", "server_cpu_meets_target", "in_flight_meets_target"), True
        ),
        "idle_meets_target": True,
    }
    lines = _report.accounts(
        {"mock": side, "server": side, "server_raw_aiohttp": side, "target": target}
    )

    headers = [line for line in lines if line.startswith("| accounts | client CPU")]
    assert len(headers) == 3  # the SDK alone, against the server, raw aiohttp against it
    assert headers[0] == headers[1] == headers[2]
    assert "promoted to the old generation/create" in headers[0]
    assert lines.count("| 100 | 300 | 20 | 120 | 170 / 0.40 | 60 |") == 3
    # A result written before promotions were counted still renders.
    del row["promoted"]
    assert "| 100 | 300 | 20 | 120 | 170 / 0.40 | - |" in _report.accounts(
        {"mock": side, "server": side, "target": target}
    )


async def test_accounts_frees_a_sizes_creates_before_its_clock_stops() -> None:
    @contextlib.asynccontextmanager
    async def unpaced(accounts: int) -> AsyncIterator[_accounts.Drive]:
        transport = MockTransport(_accounts._answer)
        host = _accounts.HOST
        async with kca.CampaignClient(host, token="t", transport=transport, rate_limit=None) as c:
            yield functools.partial(_accounts._drive, c)

    await _accounts._cpu(unpaced, 5)
    # Left alive, they would be freed in the time of whatever size is measured next.
    left = [
        thing
        for thing in gc.get_objects()
        if isinstance(thing, asyncio.Task)
        and getattr(thing.get_coro(), "__qualname__", "") == "ContactLists.create"
    ]
    assert left == []


async def test_the_server_run_opens_its_sockets_before_its_clock_starts(
    server: FakeKoreServer,
) -> None:
    opened = 0

    async def on_opened(*_: object) -> None:
        nonlocal opened
        opened += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_opened)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        await _accounts._open_sockets(session, f"{server.url}/", 3)
        assert opened == 3

        async def get() -> int:
            async with session.get(f"{server.url}/") as response:
                await response.read()
                return response.status

        # As many requests at once as the run's first creates: each finds a socket open.
        assert list(await asyncio.gather(get(), get(), get())) == [404, 404, 404]
        assert opened == 3
