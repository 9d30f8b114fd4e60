"""Tables, plans, summaries and JSON are built by pure functions."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import attrs
from rich.console import Console

from kore_campaign_async import (
    CampaignRef,
    ContactList,
    ContactListCreate,
    ResponseMeta,
    UpdatedContactList,
)
from kore_campaign_async._bulk.outcomes import Outcome, SyncReport
from kore_campaign_async._bulk.plan import plan_sync
from kore_campaign_async.cli._output import (
    NAMES_SHOWN,
    SUMMARY_COLUMNS,
    UNCHANGED,
    detail_rows,
    list_row,
    plan_lines,
    plural,
    problem_lines,
    summary_row,
    summary_table,
    to_jsonable,
)

CREATED = datetime(2025, 12, 5, 9, 22, 51, tzinfo=timezone.utc)


def api_list(name: str, description: str = "", **kwargs: object) -> ContactList:
    return ContactList(
        id=f"cl-{name.lower().replace(' ', '-')}",
        name=name,
        description=description,
        source="passiveApi",
        **kwargs,  # type: ignore[arg-type]
    )


def outcome(status: str, name: str = "L", index: int = 0, **kwargs: object) -> Outcome:
    return Outcome(
        index=index,
        account_id="acct",
        name=name,
        action="create",
        status=status,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def render(renderable: object, width: int = 80) -> str:
    console = Console(file=io.StringIO(), width=width)
    console.print(renderable)
    out = console.file
    assert isinstance(out, io.StringIO)
    return out.getvalue()


def test_list_row_shows_status_source_flags_and_use() -> None:
    item = api_list(
        "Renewals",
        status="Ready",
        allow_duplicates=True,
        total_record_count=12,
        campaign_in_use=(CampaignRef(id="c-1", name="July"),),
    )
    assert list_row(item) == ("cl-renewals", "Renewals", "Ready", "passiveApi", "yes", "yes", "12")
    assert list_row(ContactList(id="cl-x")) == ("cl-x", "", "-", "-", "-", "no", "-")


def test_json_is_snake_case_with_iso_times_nested_refs_and_no_meta() -> None:
    item = api_list(
        "Renewals",
        created_at=CREATED,
        campaign_in_use=(CampaignRef(id="c-1", name="July"),),
        extra={"newField": 1},
        meta=ResponseMeta(attempts=3),
    )
    data = to_jsonable(item)
    assert data["id"] == "cl-renewals"
    assert data["created_at"] == "2025-12-05T09:22:51+00:00"
    assert data["campaign_in_use"] == [{"id": "c-1", "name": "July", "extra": {}}]
    assert data["extra"] == {"newField": 1}
    assert "meta" not in data


def test_detail_rows_list_unknown_fields_last() -> None:
    rows = detail_rows(api_list("Renewals", extra={"newField": 1}))
    assert rows[0] == ("id", "cl-renewals")
    assert rows[-1] == ("extra.newField", "1")
    assert ("mapping", "-") in rows


def test_plan_lines_count_every_kind_and_list_deletes_updates_and_every_blocked_one() -> None:
    existing = [
        api_list("Keep", "same"),
        api_list("Change", "old"),
        api_list("Stale"),
        api_list("In use", campaign_in_use=(CampaignRef(id="c-1", name="July"),)),
    ]
    desired = [
        ContactListCreate(name="Keep", description="same"),
        ContactListCreate(name="change", description="new"),
        ContactListCreate(name="Fresh"),
    ]
    plan = plan_sync(existing, desired, prune=True, account_id="acct")
    lines = plan_lines(SyncReport(account_id="acct", plan=plan))
    assert lines == [
        "acct: 1 to create, 1 to update, 1 to delete, 1 unchanged, 1 blocked (3 writes)",
        "  - delete 'Stale'",
        "  ~ update 'Change': description 'old' -> 'new'",
        "  ! blocked delete 'In use': in use by campaign(s) July",
    ]


def test_plan_lines_cut_long_delete_lists_short() -> None:
    existing = [api_list(f"Old {n}") for n in range(NAMES_SHOWN + 3)]
    plan = plan_sync(existing, [], prune=True, account_id="acct")
    lines = plan_lines(SyncReport(account_id="acct", plan=plan))
    assert len(lines) == 1 + NAMES_SHOWN + 1
    assert lines[-1] == "  ... and 3 more to delete"


def test_plan_lines_of_an_account_that_could_not_plan() -> None:
    report = SyncReport(account_id="acct", plan=None, error=RuntimeError("boom"))
    assert plan_lines(report) == ["acct: cannot plan: boom"]


def test_summary_row_counts_outcomes_by_status() -> None:
    statuses = ["created", "created", "adopted", "unchanged", "blocked", "failed", "deleted"]
    report = SyncReport(
        account_id="acct",
        plan=None,
        outcomes=tuple(outcome(status, index=n) for n, status in enumerate(statuses)),
    )
    assert summary_row(report) == ("acct", "2", "1", "0", "1", "1", "1", "1")


def test_summary_table_fits_an_80_column_terminal_with_kore_length_account_ids() -> None:
    kore_id = "67777ce93e25326494e9abcd"
    reports = [SyncReport(account_id=kore_id, plan=None, outcomes=(outcome("created"),))]
    text = render(summary_table(reports), width=80)
    for word in SUMMARY_COLUMNS:
        assert word in text
    assert "…" not in text
    rows = text.splitlines()[3:]  # after the title, the header and the rule
    # The id may fold onto a second line, but it is all there, in order.
    assert "".join(line.split(" ")[0] for line in rows) == kore_id


def test_problem_lines_list_failed_accounts_then_items_up_to_the_limit() -> None:
    failures = tuple(
        outcome("failed", name=f"L{n}", index=n, reason=f"InternalServerError: {n}")
        for n in range(3)
    )
    reports = [
        SyncReport(account_id="down", plan=None, error=ConnectionError("refused")),
        SyncReport(account_id="acct", plan=None, outcomes=(outcome("created"), *failures)),
    ]
    assert problem_lines(reports, limit=2) == [
        "down: sync failed: refused",
        "acct: create 'L0' failed: InternalServerError: 0",
        "acct: create 'L1' failed: InternalServerError: 1",
        "... and 1 more failed items (see --report)",
    ]


def test_a_failed_account_is_marked_and_its_error_told_once() -> None:
    error = ConnectionError("refused")
    not_sent = tuple(outcome("failed", name=f"L{n}", index=n, error=error) for n in range(2))
    report = SyncReport(account_id="down", plan=None, outcomes=not_sent, error=error)
    assert summary_row(report) == ("down (failed)", "0", "0", "0", "0", "0", "0", "2")
    assert summary_row(attrs.evolve(report, outcomes=()))[0] == "down (failed)"
    assert problem_lines([report]) == ["down: sync failed: refused"]


def test_counts_read_as_english() -> None:
    assert [plural(n, "contact list") for n in (0, 1, 2)] == [
        "0 contact lists",
        "1 contact list",
        "2 contact lists",
    ]


def test_detail_rows_say_unchanged_for_fields_an_update_left_alone() -> None:
    answer = UpdatedContactList(id="cl-1", name="New")
    assert detail_rows(answer, unchanged=("description",))[:3] == [
        ("id", "cl-1"),
        ("name", "New"),
        ("description", UNCHANGED),
    ]
