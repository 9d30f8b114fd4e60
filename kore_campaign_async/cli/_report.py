"""``--report out.jsonl``: one JSON line per item, written as items finish."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kore_campaign_async import Outcome, SyncReport


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """Return the report line of one item."""
    return {
        "account": outcome.account_id,
        "name": outcome.name,
        "action": outcome.action,
        "status": outcome.status,
        "list_id": outcome.list_id or None,
        "attempts": outcome.attempts,
        "error": None if outcome.error is None else str(outcome.error),
        "reason": outcome.reason,
    }


class ReportWriter:
    """Write each item once: as it finishes, then whatever the final reports add."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._written: set[tuple[str, int]] = set()

    def write(self, outcome: Outcome) -> None:
        key = (outcome.account_id, outcome.index)
        if key in self._written:
            return
        self._written.add(key)
        self._stream.write(json.dumps(outcome_record(outcome), ensure_ascii=False) + "\n")
        # Flushed per line, so an interrupted run still leaves a report of what finished.
        self._stream.flush()

    def write_reports(self, reports: Iterable[SyncReport]) -> None:
        """Write the items of ``reports`` not written yet, in plan order."""
        for report in reports:
            for outcome in report.outcomes:
                self.write(outcome)
