"""What ``import kore_campaign_async`` costs beyond aiohttp: ``python -m benchmarks._import_time``.

The package's bytecode is compiled first (users have it; an editable install under
``PYTHONDONTWRITEBYTECODE`` would not). Then, round by round, three fresh interpreters run one
after the other, their order rotating:

- baseline: ``import aiohttp``;
- package: ``import aiohttp``, then ``import kore_campaign_async`` timed with
  ``time.process_time`` inside the process;
- package alone: ``import kore_campaign_async`` (aiohttp itself loads with the first client).

Printed, as medians over the rounds: each whole process's CPU time (user + system, from the
operating system's accounting of the child), the paired difference of the first two, and the
in-process time of the package's own import. CPU time rather than wall time, and rounds rather
than batches, so that other work on the machine moves every side alike. ``--self-times`` adds
the package's modules ranked by their own import time (``-X importtime``, one process).
"""

from __future__ import annotations

import argparse
import compileall
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import kore_campaign_async as kca

_PACKAGE = Path(kca.__file__).resolve().parent
_BASELINE: Final = "import aiohttp"
_PACKAGE_IMPORT: Final = (
    "import time, aiohttp\n"
    "started = time.process_time()\n"
    "import kore_campaign_async\n"
    "print(time.process_time() - started)"
)
_PACKAGE_ALONE: Final = "import kore_campaign_async"


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(code: str) -> tuple[float, str]:
    """Run ``code`` in a fresh interpreter; return its CPU seconds and what it printed."""
    before = _child_cpu()
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return _child_cpu() - before, done.stdout


def measure(rounds: int) -> dict[str, float]:
    """Return the medians, in milliseconds, over ``rounds`` rounds of the three processes."""
    codes = (_BASELINE, _PACKAGE_IMPORT, _PACKAGE_ALONE)
    cpu: dict[str, list[float]] = {code: [] for code in codes}
    in_process: list[float] = []
    for index in range(rounds):
        for code in codes[index % 3 :] + codes[: index % 3]:
            seconds, printed = _run(code)
            cpu[code].append(seconds)
            if code == _PACKAGE_IMPORT:
                in_process.append(float(printed))
    differences = [p - b for p, b in zip(cpu[_PACKAGE_IMPORT], cpu[_BASELINE], strict=True)]
    return {
        "aiohttp process": 1000 * statistics.median(cpu[_BASELINE]),
        "package process": 1000 * statistics.median(cpu[_PACKAGE_IMPORT]),
        "difference": 1000 * statistics.median(differences),
        "in-process import": 1000 * statistics.median(in_process),
        "package alone": 1000 * statistics.median(cpu[_PACKAGE_ALONE]),
    }


def self_times() -> list[tuple[int, str]]:
    """Return the package's modules and their own import microseconds, slowest first."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import aiohttp, kore_campaign_async"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) == 3 and fields[2].strip().startswith("kore_campaign_async"):
            rows.append((int(fields[0]), fields[2].strip()))
    return sorted(rows, reverse=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._import_time", description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="pairs of processes (default 20)")
    parser.add_argument("--self-times", action="store_true", help="also rank the package's modules")
    args = parser.parse_args(argv)
    compileall.compile_dir(_PACKAGE, quiet=1)
    print(f"Python {sys.version.split()[0]}, {args.rounds} rounds, medians in ms of CPU time")
    for name, value in measure(args.rounds).items():
        print(f"{name:>18}: {value:6.1f}")
    if args.self_times:
        print("\nown import time of each module, µs (-X importtime):")
        for micros, module in self_times():
            print(f"{micros:8d}  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
