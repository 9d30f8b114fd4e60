"""``python -m benchmarks [--quick] [--only NAME ...] [--out DIR] [--profile]``.

A full run writes ``benchmarks/results/latest.md`` (committed, quoted by README) and
``latest.json``; a quick run writes to ``benchmarks/results/quick/`` (ignored by git) unless
``--out`` says otherwise, so it never overwrites the numbers of a full run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import attrs

import kore_campaign_async as kca

from . import _accounts, _chaos, _goodput, _overhead, _plot, _processes, _report, _scale
from ._common import Settings
from ._server import ServerProcess

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
QUICK_RESULTS = RESULTS / "quick"
BENCHMARKS = ("overhead", "goodput", "scale", "chaos", "accounts")


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _meta(settings: Settings) -> dict[str, Any]:
    return {
        "mode": "quick" if settings.quick else "full",
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "sdk": kca.__version__,
        "aiohttp": _version("aiohttp"),
        "httpx": _version("httpx"),
        "pydantic": _version("pydantic"),
        "settings": attrs.asdict(settings),
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Compare kore_campaign_async with hand-written clients on a fake Kore server.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes: runs in seconds")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=BENCHMARKS,
        default=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only these ({', '.join(BENCHMARKS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where latest.json/.md go (default: benchmarks/results on a full run, "
        "benchmarks/results/quick on --quick)",
    )
    parser.add_argument(
        "--plot",
        type=Path,
        default=None,
        help="goodput PNG path (default: benchmarks/goodput.png on a full run, none on --quick)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also print a cProfile of one SDK overhead round"
    )
    return parser.parse_args(argv)


def _run_all(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    results: dict[str, Any] = {"meta": _meta(settings)}
    started = time.perf_counter()
    with ServerProcess() as server:
        for name in BENCHMARKS:
            if name not in args.only:
                continue
            print(f"running {name} ...", file=sys.stderr, flush=True)
            if name == "overhead":
                results[name] = asyncio.run(_overhead.run(settings, server))
                if args.profile:
                    print(asyncio.run(_overhead.profile_sdk(settings, server)), file=sys.stderr)
            elif name == "goodput":
                results[name] = asyncio.run(_goodput.run(settings, server))
                results[name]["processes"] = asyncio.run(_processes.run(settings, server))
            elif name == "scale":
                results[name] = asyncio.run(_scale.run(settings))
            elif name == "chaos":
                results[name] = asyncio.run(_chaos.run(settings, server))
            else:
                results[name] = asyncio.run(_accounts.run(settings, server))
    results["meta"]["seconds"] = time.perf_counter() - started
    return results


def output_dir(args: argparse.Namespace) -> Path:
    """Where the results go: a quick run never overwrites the committed full-run table."""
    if args.out is not None:
        out: Path = args.out
        return out
    return QUICK_RESULTS if args.quick else RESULTS


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    settings = Settings.quick_run() if args.quick else Settings.full()
    results = _run_all(args, settings)
    plot_path = (
        args.plot if args.plot is not None else (None if args.quick else HERE / "goodput.png")
    )
    if plot_path is not None and "goodput" in results:
        skipped = _plot.write(results["goodput"], plot_path)
        results["meta"]["plot"] = skipped or str(plot_path)
    text = _report.markdown(results)
    out = output_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
