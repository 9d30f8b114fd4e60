"""``kore-campaign sync FILE``: whole-file checks, plan, apply, report and exit status."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.cli import ACCOUNT, IID, Cli, Run, finish, start_cli

OTHER = "acct-other"
WRITES = ("create", "update", "delete")


def writes(server: FakeKoreServer) -> int:
    return sum(server.count(operation=operation) for operation in WRITES)


def names(server: FakeKoreServer, account: str = ACCOUNT) -> list[str]:
    return sorted(doc["name"] for doc in server.lists(account))


def report_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def signal_mid_create(
    kore: FakeKoreServer, signum: int, *args: str, env: dict[str, str]
) -> Run:
    """Start the CLI, send ``signum`` once the server has seen a create, and collect the run."""
    process = await start_cli(*args, env=env)
    while kore.count(operation="create") == 0:
        assert process.returncode is None, (await finish(process)).err
        await asyncio.sleep(0.01)  # waits for the child to get going, not for time to pass
    process.send_signal(signum)
    return await finish(process)


@pytest.fixture
def lists_csv(tmp_path: Path) -> Path:
    path = tmp_path / "lists.csv"
    path.write_text(
        "account,iid,name,description,allow_duplicates\n"
        ",,Renewals July,Due in July,yes\n"  # account and iid from the environment
        ",,Renewals Aug,,\n"
        f"{OTHER},st-other,Win-back,Lapsed customers,0\n",
        encoding="utf-8",
    )
    return path


async def test_a_good_file_is_applied_reported_and_a_second_run_writes_nothing(
    cli: Cli, kore: FakeKoreServer, lists_csv: Path, tmp_path: Path
) -> None:
    report = tmp_path / "out.jsonl"
    run = await cli("sync", str(lists_csv), "--report", str(report))
    assert run.code == 0, run.err
    assert f"{ACCOUNT}: 2 to create, 0 to update" in run.out
    assert f"{OTHER}: 1 to create" in run.out
    assert names(kore) == ["Renewals Aug", "Renewals July"]
    assert names(kore, OTHER) == ["Win-back"]
    (july,) = [doc for doc in kore.lists(ACCOUNT) if doc["name"] == "Renewals July"]
    assert (july["description"], july["allowDuplicates"]) == ("Due in July", True)

    lines = report_lines(report)
    assert sorted((line["account"], line["name"], line["status"]) for line in lines) == [
        (ACCOUNT, "Renewals Aug", "created"),
        (ACCOUNT, "Renewals July", "created"),
        (OTHER, "Win-back", "created"),
    ]
    stored = {
        doc["name"]: doc["_id"] for account in (ACCOUNT, OTHER) for doc in kore.lists(account)
    }
    assert all(line["list_id"] == stored[line["name"]] for line in lines)
    assert all(line["attempts"] == 1 and line["error"] is None for line in lines)

    before = writes(kore)
    again = await cli("sync", str(lists_csv))
    assert again.code == 0, again.err
    assert writes(kore) == before


async def test_a_bad_file_exits_2_with_line_and_field_and_sends_nothing(
    cli: Cli, kore: FakeKoreServer, tmp_path: Path
) -> None:
    path = tmp_path / "lists.csv"
    path.write_text(
        "account,iid,name,description,allow_duplicates\n"
        ",,Fine,,\n" + ",," + "n" * 49 + ",,\n" + ",,Flag,,sometimes\n",
        encoding="utf-8",
    )
    run = await cli("sync", str(path))
    assert run.code == 2
    assert f"{path}:3: name: must be at most 48 characters, got 49" in run.err
    assert f"{path}:4: allow_duplicates: must be true/false" in run.err
    assert "Nothing was sent." in run.err
    assert kore.requests == []


async def test_dry_run_prints_the_plan_and_writes_nothing(
    cli: Cli, kore: FakeKoreServer, tmp_path: Path
) -> None:
    kore.seed_list(ACCOUNT, IID, "Renewals", "old text")
    path = tmp_path / "lists.jsonl"
    path.write_text(
        '{"name": "Renewals", "description": "new text"}\n{"name": "Fresh"}\n', encoding="utf-8"
    )
    report = tmp_path / "plan.jsonl"
    run = await cli("sync", str(path), "--dry-run", "--report", str(report))
    assert run.code == 0, run.err
    assert "1 to create, 1 to update" in run.out
    assert "~ update 'Renewals': description 'old text' -> 'new text'" in run.out
    assert "Dry run: 2 writes planned, none sent." in run.out
    assert writes(kore) == 0
    assert sorted(line["status"] for line in report_lines(report)) == ["planned", "planned"]


async def test_prune_asks_first_and_never_touches_protected_lists(
    cli: Cli, kore: FakeKoreServer, tmp_path: Path
) -> None:
    kore.seed_list(ACCOUNT, IID, "Stale")
    kore.seed_list(ACCOUNT, IID, "Busy", campaign_in_use=[{"id": "c-1", "name": "July"}])
    kore.seed_list(ACCOUNT, IID, "Uploaded", source="localDrive", status="Validated")
    path = tmp_path / "lists.csv"
    path.write_text("name\nWanted\n", encoding="utf-8")

    refused = await cli("sync", str(path), "--prune")
    assert refused.code == 2
    assert "Delete 1 contact list?" in refused.err
    assert "pass --yes" in refused.err
    assert writes(kore) == 0

    run = await cli("sync", str(path), "--prune", "--yes")
    assert run.code == 0, run.err
    assert "! blocked delete 'Busy': in use by campaign(s) July" in run.out
    assert names(kore) == ["Busy", "Uploaded", "Wanted"]


async def test_a_failed_item_makes_the_exit_status_1_and_is_reported(
    cli: Cli, kore: FakeKoreServer, lists_csv: Path, tmp_path: Path
) -> None:
    # 400 is not retried: the item fails, the others go on.
    kore.faults.add(Fault("status", operation="create", account_id=OTHER, status=400))
    report = tmp_path / "out.jsonl"
    run = await cli("sync", str(lists_csv), "--report", str(report))
    assert run.code == 1
    assert f"{OTHER}: create 'Win-back' failed: BadRequestError" in run.out
    failed = [line for line in report_lines(report) if line["status"] == "failed"]
    assert [(line["name"], line["attempts"]) for line in failed] == [("Win-back", 1)]
    assert "400 POST" in str(failed[0]["error"])
    assert names(kore) == ["Renewals Aug", "Renewals July"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX signals")
async def test_ctrl_c_exits_130(
    cli_env: dict[str, str], kore: FakeKoreServer, lists_csv: Path
) -> None:
    # Hold every create until the server stops, so the sync is surely mid-flight.
    kore.faults.add(Fault("delay", operation="create", times=None, delay=60.0))
    run = await signal_mid_create(kore, signal.SIGINT, "sync", str(lists_csv), env=cli_env)
    assert run.code == 130, run.err
    assert "Interrupted" in run.err


async def test_an_account_that_cannot_be_read_is_told_once_and_nothing_is_applied(
    cli: Cli, kore: FakeKoreServer, lists_csv: Path
) -> None:
    kore.faults.add(Fault("status", operation="list", account_id=OTHER, status=403, times=None))
    run = await cli("sync", str(lists_csv))
    assert run.code == 1, run.err
    assert run.out.count("Forbidden") == 1
    assert f"{OTHER}: cannot plan: 403" in run.out
    assert f"Nothing applied: 1 account could not be planned ({OTHER})." in run.out
    assert "failed 0" not in " ".join(run.out.split())
    assert writes(kore) == 0


async def test_each_account_is_listed_once_per_sync(
    cli: Cli, kore: FakeKoreServer, lists_csv: Path
) -> None:
    run = await cli("sync", str(lists_csv))
    assert run.code == 0, run.err
    assert [kore.count(operation="list", account_id=a) for a in (ACCOUNT, OTHER)] == [1, 1]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child needs POSIX signals")
async def test_sigterm_stops_cleanly_exits_143_and_a_rerun_resumes(
    cli: Cli, cli_env: dict[str, str], kore: FakeKoreServer, lists_csv: Path, tmp_path: Path
) -> None:
    # Hold the first create until the server stops, so the sync is surely mid-flight.
    kore.faults.add(Fault("delay", operation="create", times=1, delay=60.0))
    report = tmp_path / "out.jsonl"
    args = ("sync", str(lists_csv), "--report", str(report))
    run = await signal_mid_create(kore, signal.SIGTERM, *args, env=cli_env)
    assert run.code == 143, run.err
    assert "Terminated (SIGTERM)" in run.err
    assert "running the same command again resumes safely" in run.err
    assert "Traceback" not in run.err
    assert report.exists()  # what finished is on disk; the file was closed, not lost

    again = await cli("sync", str(lists_csv))
    assert again.code == 0, again.err
    assert names(kore) == ["Renewals Aug", "Renewals July"]
    assert names(kore, OTHER) == ["Win-back"]
