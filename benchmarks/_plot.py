"""Draw goodput and 429s over time under the rate limit, SDK vs the naive loop (matplotlib)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ._goodput import MODES, SDK

# (series key, y-axis label) per row of the figure.
_ROWS = (
    ("series", "successful creates, % of allowed"),
    ("series_429", "requests answered 429, %"),
)


def write(goodput: Mapping[str, Any], path: Path) -> str | None:
    """Write the PNG; return why not when matplotlib is missing (it is not a dependency)."""
    try:
        matplotlib = importlib.import_module("matplotlib")
    except ImportError:
        return "skipped: matplotlib not installed"
    matplotlib.use("Agg")  # no display: write files only
    pyplot = importlib.import_module("matplotlib.pyplot")
    shared = goodput.get("processes")
    columns = len(MODES) + (shared is not None)
    figure, axes = pyplot.subplots(
        len(_ROWS), columns, figsize=(5.5 * columns, 6.5), sharex=True, sharey="row"
    )
    for column, mode in enumerate(MODES):
        for row, (key, label) in enumerate(_ROWS):
            axis = axes[row][column]
            for run in goodput["runs"]:
                if run["mode"] != mode:
                    continue
                series = [value * 100 for value in run[key]]
                seconds = list(range(1, len(series) + 1))
                sdk = run["client"] == SDK
                # The SDK's lines are drawn thick and on top: where both clients reach the
                # same value, the thin dashed baseline still shows through.
                axis.plot(
                    seconds,
                    series,
                    "-" if sdk else "--",
                    linewidth=3.0 if sdk else 1.2,
                    zorder=3 if sdk else 4,
                    marker="o",
                    markersize=3,
                    label=f"{run['client']}, {run['accounts']} account(s)",
                )
            axis.grid(alpha=0.3)
            if column == 0:
                axis.set_ylabel(label)
        axes[0][column].set_title(
            f"{mode} window: {goodput['limit']} per {goodput['window_s']:g} s per account"
        )
        axes[-1][column].set_xlabel("second of the run")
    if shared is not None:
        _processes_column(axes, len(MODES), shared)
    axes[0][0].set_ylim(0, 110)
    axes[1][0].set_ylim(0, 100)
    axes[1][0].legend(fontsize=8, loc="upper right")
    figure.suptitle("Under Kore's per-account rate limit (time compressed 60x)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)  # --plot may name a directory --out makes later
    figure.savefig(path, dpi=110)
    pyplot.close(figure)
    return None


def _processes_column(axes: Any, column: int, shared: Mapping[str, Any]) -> None:
    """N processes on one account: pacing alone (dashed) versus through Redis (solid)."""
    for row, (key, _label) in enumerate(_ROWS):
        axis = axes[row][column]
        for run in shared["runs"]:
            series = [value * 100 for value in run[key]]
            redis = run["pacing"] == "redis"
            axis.plot(
                list(range(1, len(series) + 1)),
                series,
                "-" if redis else "--",
                linewidth=3.0 if redis else 1.2,
                marker="o",
                markersize=3,
                label=f"{run['processes']} process(es), {'Redis' if redis else 'alone'}",
            )
        axis.grid(alpha=0.3)
    axes[0][column].set_title(
        f"N processes, one account: {shared['limit']} per {shared['window_s']:g} s"
    )
    axes[-1][column].set_xlabel("second of the run")
    axes[1][column].legend(fontsize=8, loc="upper right")
