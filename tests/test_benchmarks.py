"""The benchmarks run end to end in quick mode (CI checks that they run, not how fast)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest

from benchmarks import _baselines, _instructions, _overhead, _report
from benchmarks._common import Settings
from benchmarks._server import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ("overhead", "goodput", "scale", "chaos")


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
    for number in range(1, 5):
        assert f"### {number}." in table
    # A quick run never overwrites the committed plot of a full run.
    assert "plot" not in results["meta"]


def test_every_overhead_contender_made_every_list(results: dict[str, Any]) -> None:
    overhead = results["overhead"]
    assert {"SDK create", "SDK create_many", "raw aiohttp"} <= overhead["rows"].keys()
    for row in overhead["rows"].values():
        assert row["ok"] == row["requests"] > 0
        assert row["req_per_s"] > 0
        assert row["cpu_us_per_req"] > 0
    has_httpx = _baselines.load_httpx() is not None
    assert ("httpx" in overhead["rows"]) is has_httpx
    if not has_httpx:
        assert overhead["skipped"] == {"httpx": "skipped: httpx not installed"}


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


def test_httpx_baseline_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)  # makes `import httpx` fail
    assert _baselines.load_httpx() is None


def test_report_shows_a_skipped_contender() -> None:
    row = {"requests": 10, "rounds": 1, "req_per_s": 100.0, "cpu_us_per_req": 50.0}
    overhead = {
        "concurrency": 4,
        "rows": {"raw aiohttp": {**row, "server_cpu_us_per_req": 40.0}},
        "skipped": {"httpx": "skipped: httpx not installed"},
        "vs_raw_aiohttp": {},
        "target": {"cpu_ratio_max": 1.15, "throughput_ratio_min": 0.9},
    }
    lines = _report.overhead(overhead)
    assert "| httpx | skipped: httpx not installed |  |  |  |  |" in lines
    assert "| raw aiohttp | 100 | 50 | 40 | 1.00x | 1.00x |" in lines


def test_paired_ratios_compare_round_by_round() -> None:
    def rounds(*cpu: float) -> list[_overhead.Round]:
        return [_overhead.Round(requests=100, ok=100, wall=c, cpu=c, server_cpu=0.0) for c in cpu]

    # The machine slows down 2x halfway; each SDK round is 1.1x its neighbouring raw round.
    raw = rounds(1.0, 1.0, 2.0, 2.0, 2.0)
    sdk = rounds(1.1, 1.1, 2.2, 2.2, 2.2)
    found = _overhead._paired(sdk, raw)
    assert found["cpu_ratio"] == pytest.approx(1.1)
    assert found["throughput_ratio"] == pytest.approx(1 / 1.1)
    assert found["extra_cpu_us_per_req"] == pytest.approx(0.2 / 100 * 1e6)
    assert found["meets_target"] is True
    assert _overhead._paired(rounds(1.2), rounds(1.0))["meets_target"] is False


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity on this OS")
def test_the_server_process_gives_the_caller_its_cpus_back() -> None:
    before = os.sched_getaffinity(0)
    with ServerProcess() as server:
        assert server.pinned is (len(before) >= 2)
        if server.pinned:
            assert os.sched_getaffinity(0) == before - {max(before)}
    assert os.sched_getaffinity(0) == before


def test_instructions_per_request_cancel_start_up() -> None:
    # 1,000,000 to start up, 500 per request.
    assert _instructions.per_request((20, 1_010_000), (120, 1_060_000)) == 500


def test_instruction_report_says_why_it_did_not_run() -> None:
    lines = _report.instructions({"skipped": "valgrind not installed"})
    assert lines[-1] == "Not run: valgrind not installed."


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind not installed")
def test_instructions_are_counted_under_valgrind(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {_instructions.RAW: _instructions.CONTENDERS[_instructions.RAW]}
    monkeypatch.setattr(_instructions, "CONTENDERS", raw)
    settings = attrs.evolve(Settings.quick_run(), instruction_sizes=(10, 110))
    result = _instructions.run(settings)
    per_request = result["instructions_per_request"][_instructions.RAW]
    # An HTTP request through aiohttp is about half a million instructions, not tens of millions:
    # start-up (about two billion, give or take two million between runs) cancelled out. A
    # hundred requests apart keeps that leftover wobble to a few percent of the answer.
    assert 200_000 < per_request < 3_000_000
    assert result["vs_raw_aiohttp"] == {_instructions.RAW: 1.0}
    assert "| raw aiohttp |" in "\n".join(_report.instructions(result))
