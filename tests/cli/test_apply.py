"""The shared sync flow: deletions need a yes; a no applies nothing."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator

import pytest
from rich.console import Console

import kore_campaign_async as kca
from kore_campaign_async import ManualClock
from kore_campaign_async.cli import _exit
from kore_campaign_async.cli._apply import RELIST_AFTER, SyncJob, run_sync
from kore_campaign_async.cli._output import summary_row
from kore_campaign_async.cli._report import ReportWriter
from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.cli import ACCOUNT, IID
from tests.helpers.clients import MakeClient


@pytest.fixture
async def client(
    make_client: MakeClient, kore: FakeKoreServer
) -> AsyncIterator[kca.CampaignClient]:
    async with make_client(kore) as client:
        yield client


class Answers:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []

    def __call__(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


async def test_a_declined_deletion_applies_nothing(
    client: kca.CampaignClient, kore: FakeKoreServer
) -> None:
    kore.seed_list(ACCOUNT, IID, "Stale")
    account = client.account(ACCOUNT, iid=IID)
    job = SyncJob(targets={account: [kca.ContactListCreate(name="New")]}, prune=True)
    answers = Answers(False)
    result = await run_sync(client, job, out=quiet(), err=quiet(), confirm=answers)
    assert result.status == _exit.FAILED
    assert answers.questions == ["Delete 1 contact list?"]
    assert [doc["name"] for doc in kore.lists(ACCOUNT)] == ["Stale"]
    assert kore.count(operation="create") == kore.count(operation="delete") == 0


async def test_an_accepted_deletion_is_applied_and_creates_do_not_ask(
    client: kca.CampaignClient, kore: FakeKoreServer
) -> None:
    kore.seed_list(ACCOUNT, IID, "Stale")
    account = client.account(ACCOUNT, iid=IID)
    answers = Answers(True)
    job = SyncJob(targets={account: [kca.ContactListCreate(name="New")]}, prune=True)
    result = await run_sync(client, job, out=quiet(), err=quiet(), confirm=answers)
    assert (result.status, result.writes) == (_exit.OK, 2)
    assert [doc["name"] for doc in kore.lists(ACCOUNT)] == ["New"]

    again = SyncJob(targets={account: [kca.ContactListCreate(name="Newer")]})
    assert (await run_sync(client, again, out=quiet(), err=quiet(), confirm=answers)).status == 0
    assert len(answers.questions) == 1


async def test_an_account_that_cannot_be_read_fails_the_plan(
    client: kca.CampaignClient, kore: FakeKoreServer
) -> None:
    account = client.account(ACCOUNT, iid=IID)
    bad = client.account("acct-bad", iid="st-bad")
    kore.faults.add(Fault("status", account_id="acct-bad", status=403, times=None))
    out = quiet()
    job = SyncJob(targets={account: [kca.ContactListCreate(name="A")], bad: []})
    result = await run_sync(client, job, out=out, err=quiet(), confirm=Answers(True))
    assert result.status == _exit.FAILED
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "acct-bad: cannot plan: 403" in text
    assert kore.count(operation="create") == 0


async def test_apply_never_deletes_a_list_the_confirmed_plan_did_not_show(
    client: kca.CampaignClient, kore: FakeKoreServer
) -> None:
    kore.seed_list(ACCOUNT, IID, "Stale")
    account = client.account(ACCOUNT, iid=IID)
    other = client.account("acct-other", iid=IID)
    clock = ManualClock()

    def yes_but_meanwhile_a_list_appears(question: str) -> bool:
        kore.seed_list(ACCOUNT, IID, "Made while you read the plan")
        clock.advance(RELIST_AFTER)  # long enough for the lists to be read again
        return True

    job = SyncJob(
        targets={
            account: [kca.ContactListCreate(name="New")],
            other: [kca.ContactListCreate(name="B")],
        },
        prune=True,
    )
    out, lines = quiet(), io.StringIO()
    result = await run_sync(
        client,
        job,
        out=out,
        err=quiet(),
        confirm=yes_but_meanwhile_a_list_appears,
        report=ReportWriter(lines),
        clock=clock,
    )
    assert result.status == _exit.FAILED
    assert kore.count(operation="list", account_id=ACCOUNT) == 2
    assert sorted(doc["name"] for doc in kore.lists(ACCOUNT)) == [
        "Made while you read the plan",
        "Stale",
    ]
    assert kore.count(operation="delete") == 0
    text = " ".join(out.file.getvalue().split())  # type: ignore[attr-defined]
    assert "would now also delete 'Made while you read the plan'; nothing was applied" in text
    # The other account's plan did not change: it was applied.
    assert [doc["name"] for doc in kore.lists("acct-other")] == ["B"]
    # The refused account's shown writes count as failed, and its error is told once.
    assert summary_row(result.reports[ACCOUNT]) == (f"{ACCOUNT} (failed)", *"0000002")
    assert text.count("would now also delete") == 1
    records = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert sorted((r["name"], r["status"]) for r in records if r["account"] == ACCOUNT) == [
        ("New", "failed"),
        ("Stale", "failed"),
    ]
    assert all(r["attempts"] == 0 for r in records if r["account"] == ACCOUNT)


async def test_a_plan_confirmed_at_once_is_applied_from_the_one_listing_shown(
    client: kca.CampaignClient, kore: FakeKoreServer
) -> None:
    kore.seed_list(ACCOUNT, IID, "Stale")
    account = client.account(ACCOUNT, iid=IID)
    clock = ManualClock()

    def yes_at_once_while_a_list_appears(question: str) -> bool:
        kore.seed_list(ACCOUNT, IID, "Made while you read the plan")
        clock.advance(RELIST_AFTER / 2)
        return True

    job = SyncJob(targets={account: [kca.ContactListCreate(name="New")]}, prune=True)
    result = await run_sync(
        client, job, out=quiet(), err=quiet(), confirm=yes_at_once_while_a_list_appears, clock=clock
    )
    assert (result.status, result.writes) == (_exit.OK, 2)
    assert kore.count(operation="list") == 1
    # Exactly the plan shown: the list made meanwhile is not deleted (a next run would say so).
    assert sorted(doc["name"] for doc in kore.lists(ACCOUNT)) == [
        "Made while you read the plan",
        "New",
    ]


async def test_without_a_question_each_account_is_read_once(
    client: kca.CampaignClient, kore: FakeKoreServer
) -> None:
    kore.seed_list(ACCOUNT, IID, "Stale")
    accounts = [client.account(ACCOUNT, iid=IID), client.account("acct-other", iid=IID)]
    job = SyncJob(
        targets={account: [kca.ContactListCreate(name="New")] for account in accounts},
        prune=True,
        yes=True,
    )
    result = await run_sync(client, job, out=quiet(), err=quiet(), confirm=Answers(False))
    assert (result.status, result.writes) == (_exit.OK, 3)
    assert [kore.count(operation="list", account_id=a.account_id) for a in accounts] == [1, 1]
