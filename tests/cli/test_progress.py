"""Progress: only writes count; plain lines are throttled per account and end when done."""

from __future__ import annotations

import io

from rich.console import Console

from kore_campaign_async._bulk.outcomes import Outcome
from kore_campaign_async.cli._progress import (
    AccountProgress,
    LiveProgress,
    NoProgress,
    PlainProgress,
    make_progress,
    progress_line,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def outcome(status: str, account: str = "acct", action: str = "create") -> Outcome:
    return Outcome(
        index=0,
        account_id=account,
        name="L",
        action=action,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
    )


def console() -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    return Console(file=stream, width=200), stream


def test_progress_line_shows_done_failed_left_rate_and_eta() -> None:
    state = AccountProgress(total=600, started=0.0, done=120, failed=2)
    assert progress_line("acct", state, now=2.0) == (
        "acct: 120/600 done, 2 failed, 480 left, 60.0/s, ETA 8s"
    )
    fresh = AccountProgress(total=600, started=0.0)
    assert progress_line("acct", fresh, now=0.0).endswith("600 left, ?/s, ETA ?")
    slow = AccountProgress(total=100, started=0.0, done=1)
    assert progress_line("acct", slow, now=1.0).endswith("1.0/s, ETA 1m39s")


def test_plain_progress_prints_at_first_then_every_interval_and_at_the_end() -> None:
    out, stream = console()
    clock = Clock()
    view = PlainProgress(out, {"acct": 4}, clock=clock, interval=2.0)
    view.advance(outcome("created"))  # first: printed
    clock.now += 1.0
    view.advance(outcome("failed"))  # within the interval: quiet
    clock.now += 1.5
    view.advance(outcome("adopted"))  # interval passed: printed
    view.advance(outcome("deleted", action="delete"))  # last one: printed
    view.close()  # already finished: nothing more
    assert stream.getvalue().splitlines() == [
        "acct: 1/4 done, 0 failed, 3 left, ?/s, ETA ?",
        "acct: 3/4 done, 1 failed, 1 left, 1.2/s, ETA 1s",
        "acct: 4/4 done, 1 failed, 0 left, 1.6/s, ETA 0s",
    ]


def test_items_that_write_nothing_and_unknown_accounts_do_not_count() -> None:
    out, stream = console()
    view = PlainProgress(out, {"acct": 2}, clock=Clock())
    for status in ("unchanged", "blocked", "planned"):
        view.advance(outcome(status))
    view.advance(outcome("created", account="other"))
    assert stream.getvalue() == ""
    view.close()  # unfinished: its state is printed
    assert stream.getvalue() == "acct: 0/2 done, 0 failed, 2 left, ?/s, ETA ?\n"


def test_make_progress_picks_plain_lines_off_a_terminal_and_nothing_without_writes() -> None:
    out, _ = console()
    assert isinstance(make_progress(out, {"acct": 0}), NoProgress)
    assert isinstance(make_progress(out, {"acct": 0, "busy": 3}), PlainProgress)


def test_a_terminal_gets_live_bars_that_count_failures() -> None:
    stream = io.StringIO()
    terminal = Console(file=stream, width=120, force_terminal=True)
    view = make_progress(terminal, {"acct": 2})
    assert isinstance(view, LiveProgress)
    view.advance(outcome("created"))
    view.advance(outcome("unchanged"))
    view.advance(outcome("failed"))
    view.close()
    last = stream.getvalue().rsplit("\r", 1)[-1]
    assert "2/2" in last
    assert "1 failed" in last
