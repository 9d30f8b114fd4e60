"""Per-account progress while a sync runs: live rich bars on a terminal, plain lines elsewhere.

Only writes count (created, adopted, updated, deleted, failed): the totals come from the plan's
write count, and unchanged or blocked items take no time worth showing.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, Protocol

import attrs
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

if TYPE_CHECKING:
    from kore_campaign_async import Outcome

#: Outcome statuses that finish a write.
WRITE_STATUSES: Final = frozenset({"created", "adopted", "updated", "deleted", "failed"})
#: Seconds between plain progress lines of one account.
PLAIN_INTERVAL: Final = 2.0


class ProgressView(Protocol):
    """Shows progress; ``advance`` is called from the event loop once per finished item."""

    def advance(self, outcome: Outcome) -> None: ...

    def close(self) -> None: ...


@attrs.define
class AccountProgress:
    """Counts of one account's writes and when they started."""

    total: int
    started: float
    done: int = 0
    failed: int = 0

    @property
    def remaining(self) -> int:
        return max(0, self.total - self.done)

    def rate(self, now: float) -> float | None:
        """Writes finished per second so far, or None before there is anything to measure."""
        elapsed = now - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def eta(self, now: float) -> float | None:
        """Seconds until the remaining writes finish at the rate so far."""
        rate = self.rate(now)
        if not self.remaining:
            return 0.0
        return self.remaining / rate if rate else None


def _seconds(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "?"
    whole = math.ceil(value)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def progress_line(account_id: str, state: AccountProgress, now: float) -> str:
    """Return one plain progress line, e.g. ``acc: 120/600 done, 2 failed, 480 left, ...``."""
    rate = state.rate(now)
    speed = "?" if rate is None else f"{rate:.1f}"
    return (
        f"{account_id}: {state.done}/{state.total} done, {state.failed} failed, "
        f"{state.remaining} left, {speed}/s, ETA {_seconds(state.eta(now))}"
    )


class PlainProgress:
    """Print each account's progress line at most every ``interval`` seconds, and when done."""

    def __init__(
        self,
        console: Console,
        totals: Mapping[str, int],
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = PLAIN_INTERVAL,
    ) -> None:
        self._console = console
        self._clock = clock
        self._interval = interval
        now = clock()
        self._states = {account: AccountProgress(total, now) for account, total in totals.items()}
        self._printed: dict[str, float] = {}

    def advance(self, outcome: Outcome) -> None:
        state = self._states.get(outcome.account_id)
        if state is None or outcome.status not in WRITE_STATUSES:
            return
        state.done += 1
        state.failed += outcome.status == "failed"
        now = self._clock()
        last = self._printed.get(outcome.account_id)
        if state.remaining == 0 or last is None or now - last >= self._interval:
            self._print(outcome.account_id, state, now)

    def _print(self, account_id: str, state: AccountProgress, now: float) -> None:
        self._printed[account_id] = now
        self._console.print(progress_line(account_id, state, now), highlight=False)

    def close(self) -> None:
        """Print the last state of every account left unfinished (interrupted, or re-planned)."""
        now = self._clock()
        for account_id, state in self._states.items():
            if state.remaining and state.total:
                self._print(account_id, state, now)


class _RateColumn(ProgressColumn):
    """Writes per second over rich's recent-speed window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("?/s" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


class LiveProgress:
    """One rich bar per account: done of total, failed, remaining, rate and ETA."""

    def __init__(self, console: Console, totals: Mapping[str, int]) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed"),
            TextColumn("{task.remaining:.0f} left"),
            _RateColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
        )
        self._tasks: dict[str, TaskID] = {
            account: self._progress.add_task(account, total=total, failed=0)
            for account, total in totals.items()
        }
        self._failed = dict.fromkeys(totals, 0)
        self._progress.start()

    def advance(self, outcome: Outcome) -> None:
        task = self._tasks.get(outcome.account_id)
        if task is None or outcome.status not in WRITE_STATUSES:
            return
        if outcome.status == "failed":
            self._failed[outcome.account_id] += 1
        self._progress.update(task, advance=1, failed=self._failed[outcome.account_id])

    def close(self) -> None:
        self._progress.stop()


class NoProgress:
    """Shows nothing: there are no writes to wait for."""

    def advance(self, outcome: Outcome) -> None:
        pass

    def close(self) -> None:
        pass


def make_progress(console: Console, totals: Mapping[str, int]) -> ProgressView:
    """Return live bars on a terminal, periodic plain lines elsewhere; skip write-less accounts."""
    busy = {account: total for account, total in totals.items() if total > 0}
    if not busy:
        return NoProgress()
    if console.is_terminal:
        return LiveProgress(console, busy)
    return PlainProgress(console, busy)
