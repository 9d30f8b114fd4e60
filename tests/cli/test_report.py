"""--report: one JSON line per item, each item once, flushed as it finishes."""

from __future__ import annotations

import io
import json

from kore_campaign_async import ContactListCreate, InternalServerError
from kore_campaign_async._bulk.outcomes import Outcome, SyncReport
from kore_campaign_async._bulk.plan import plan_sync
from kore_campaign_async.cli._report import ReportWriter, outcome_record


def test_a_created_item_records_its_list_id_and_attempts() -> None:
    created = Outcome(
        index=0,
        account_id="acct",
        name="Renewals",
        action="create",
        status="created",
        list_id="cl-1",
        attempts=2,
    )
    assert outcome_record(created) == {
        "account": "acct",
        "name": "Renewals",
        "action": "create",
        "status": "created",
        "list_id": "cl-1",
        "attempts": 2,
        "error": None,
        "reason": None,
    }


def test_a_failed_item_records_the_error_message() -> None:
    error = InternalServerError("Service Unavailable", status=503, method="POST", url="http://h/x")
    failed = Outcome(
        index=1,
        account_id="acct",
        name="Renewals",
        action="create",
        status="failed",
        error=error,
        attempts=5,
        reason="InternalServerError: ...",
    )
    record = outcome_record(failed)
    assert record["list_id"] is None
    assert record["error"] == "503 POST http://h/x: Service Unavailable"
    assert record["attempts"] == 5


def test_each_item_is_written_once_and_the_rest_come_from_the_final_reports() -> None:
    plan = plan_sync([], [ContactListCreate(name="A"), ContactListCreate(name="B")], prune=False)
    outcomes = tuple(
        Outcome(index=c.index, account_id="acct", name=c.name, action="create", status="created")
        for c in plan.changes
    )
    stream = io.StringIO()
    writer = ReportWriter(stream)
    writer.write(outcomes[1])  # finished first
    writer.write(outcomes[1])
    writer.write_reports([SyncReport(account_id="acct", plan=plan, outcomes=outcomes)])
    names = [json.loads(line)["name"] for line in stream.getvalue().splitlines()]
    assert names == ["B", "A"]
