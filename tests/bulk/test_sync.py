"""sync and sync_many over FakeLists."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._bulk.outcomes import Outcome, SyncReport
from kore_campaign_async._bulk.plan import SyncPlan
from kore_campaign_async._bulk.sync import sync
from kore_campaign_async._bulk.sync_many import AccountTarget, sync_many
from tests.helpers.fakes import FakeAccount, FakeLists


def api_list(name: str, description: str = "", **kwargs: Any) -> kca.ContactList:
    kwargs.setdefault("source", "passiveApi")
    return kca.ContactList(id=f"cl-{name}", name=name, description=description, **kwargs)


def mixed_account(account_id: str = "acc-1") -> FakeLists:
    """An account with one list of every fate under DESIRED and prune."""
    return FakeLists(
        account_id,
        [
            api_list("same", "s"),
            api_list("changed", "old", allow_duplicates=True),
            api_list("gone"),
            api_list("used", campaign_in_use=(kca.CampaignRef(id="c1", name="July"),)),
            api_list("uploaded", source="localDrive"),
        ],
    )


DESIRED: list[Any] = [
    {"name": "same", "description": "s"},
    {"name": "CHANGED", "description": "new"},
    kca.ContactListCreate(name="new", description="n", allow_duplicates=True),
]


async def run(stub: FakeLists, desired: Any = DESIRED, **kwargs: Any) -> SyncReport:
    kwargs.setdefault("concurrency", 2)
    report = await sync(stub, desired, **kwargs)
    assert set(stub.if_exists) <= {"adopt"}  # sync adopts, so a re-run after a stop is safe
    return report


async def test_apply_sends_exactly_the_planned_writes() -> None:
    stub = mixed_account()
    seen: list[Outcome] = []
    report = await run(stub, prune=True, on_outcome=seen.append)
    assert report.ok
    assert sorted(stub.writes()) == ["create", "delete", "update"]
    assert [(o.name, o.action, o.status) for o in report.outcomes] == [
        ("same", "none", "unchanged"),
        ("changed", "update", "updated"),
        ("new", "create", "created"),
        ("gone", "delete", "deleted"),
        ("uploaded", "delete", "blocked"),
        ("used", "delete", "blocked"),
    ]
    assert [o.index for o in report.outcomes] == list(range(6))
    assert sorted(o.index for o in seen) == list(range(6))  # once per change
    assert report.counts == {"unchanged": 1, "updated": 1, "created": 1, "deleted": 1, "blocked": 2}
    assert report.writes == 3
    assert sorted(stub.lists) == ["cl-changed", "cl-new", "cl-same", "cl-uploaded", "cl-used"]
    assert str(report) == "acc-1: 1 created, 1 updated, 1 deleted, 1 unchanged, 2 blocked, 0 failed"


async def test_updates_keep_the_name_and_send_what_v1_requires() -> None:
    stub = FakeLists(
        lists=[api_list("Keep", "old", allow_duplicates=True, source="passiveApiIntegration")]
    )
    stub.api_version = "v1"
    report = await run(stub, [{"name": "keep", "description": "new"}], keep_results=True)
    ((list_id, changes),) = [arg for operation, arg in stub.calls if operation == "update"]
    assert list_id == "cl-Keep"
    # allow_duplicates not desired: it keeps its value; the source is not rewritten.
    assert changes == kca.ContactListUpdate(
        name="Keep", description="new", allow_duplicates=True, source="passiveApiIntegration"
    )
    (outcome,) = report.outcomes
    assert outcome.status == "updated"
    assert outcome.attempts == 3
    assert outcome.reason == "description 'old' -> 'new'"
    assert outcome.contact_list is not None
    assert outcome.contact_list.description == "new"
    assert outcome.contact_list.allow_duplicates is True


async def test_dry_run_sends_no_writes_and_reports_the_plan() -> None:
    stub = mixed_account()
    plans: list[SyncPlan] = []
    seen: list[Outcome] = []
    report = await run(stub, prune=True, dry_run=True, on_plan=plans.append, on_outcome=seen.append)
    assert stub.writes() == []
    assert [operation for operation, _ in stub.calls] == ["list"]
    assert report.dry_run
    assert report.plan is not None
    assert plans == [report.plan]
    assert [(o.name, o.status) for o in report.outcomes] == [
        ("same", "unchanged"),
        ("changed", "planned"),
        ("new", "planned"),
        ("gone", "planned"),
        ("uploaded", "blocked"),
        ("used", "blocked"),
    ]
    assert len(seen) == 6
    assert report.outcomes[1].reason == "description 'old' -> 'new'"
    assert report.outcomes[5].reason == "in use by campaign(s) July"
    assert str(report) == (
        "acc-1: 1 to create, 1 to update, 1 to delete, 1 unchanged, 2 blocked (3 writes) (dry run)"
    )


async def test_a_second_run_sends_no_writes() -> None:
    stub = mixed_account()
    await run(stub, prune=True)
    before = len(stub.writes())
    again = await run(stub, prune=True)
    assert len(stub.writes()) == before
    assert again.writes == 0
    assert again.counts == {"unchanged": 3, "blocked": 2}


async def test_a_failing_write_does_not_stop_the_others() -> None:
    stub = mixed_account()
    error = kca.ConflictError("in use", status=409, method="DELETE", url="u")
    stub.fail = {"delete:gone": error}
    report = await run(stub, prune=True)
    assert not report.ok
    (failed,) = report.failed
    assert failed.name == "gone"
    assert failed.action == "delete"
    assert failed.error is error
    assert report.counts["created"] == report.counts["updated"] == 1


async def test_bad_desired_specs_are_refused_before_anything_is_sent() -> None:
    stub = mixed_account()
    with pytest.raises(kca.ValidationError) as info:
        await run(stub, [{"name": "a"}, {"name": "b", "description": "x" * 257}])
    assert info.value.field == "desired[1].description"
    with pytest.raises(kca.ValidationError) as info:
        await run(stub, [{"name": "a"}, {"name": "A"}])
    assert info.value.field == "desired[1].name"
    assert stub.calls == []


async def test_desired_may_be_an_async_iterable() -> None:
    async def desired() -> AsyncIterator[dict[str, str]]:
        for name in ("x", "y"):
            yield {"name": name}

    stub = FakeLists()
    report = await run(stub, desired())
    assert [o.status for o in report.outcomes] == ["created", "created"]


async def test_a_failed_read_raises_and_writes_nothing() -> None:
    stub = mixed_account()
    stub.fail = {"list:": kca.APIConnectionError("refused")}
    with pytest.raises(kca.APIConnectionError):
        await run(stub)
    assert stub.writes() == []


async def test_cancelling_a_sync_leaves_no_worker_running() -> None:
    stub = FakeLists()
    stub.gate = asyncio.Event()
    job = asyncio.create_task(run(stub, [{"name": f"l{i}"} for i in range(10)], concurrency=4))
    while stub.in_flight < 4:
        stub.busy.clear()
        await stub.busy.wait()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("kore-sync-")] == []
    assert stub.in_flight == 0


def accounts(*stubs: FakeLists) -> dict[FakeAccount, Any]:
    return {FakeAccount(stub): DESIRED for stub in stubs}


async def test_sync_many_runs_every_account_and_isolates_a_failing_one() -> None:
    good, bad, other = mixed_account("acc-1"), mixed_account("acc-2"), FakeLists("acc-3")
    bad.fail = {"list:": kca.AuthenticationError("no", status=401, method="POST", url="u")}
    plans: list[str | None] = []
    seen: list[str] = []
    reports = await sync_many(
        accounts(good, bad, other),
        prune=True,
        on_plan=lambda plan: plans.append(plan.account_id),
        on_outcome=lambda o: seen.append(o.account_id),
    )
    assert list(reports) == ["acc-1", "acc-2", "acc-3"]
    assert reports["acc-1"].ok
    assert reports["acc-3"].counts == {"created": 3}
    failed = reports["acc-2"]
    assert not failed.ok
    assert isinstance(failed.error, kca.AuthenticationError)
    assert failed.plan is None
    assert failed.outcomes == ()
    assert str(failed).startswith("acc-2: failed: AuthenticationError: 401")
    assert bad.writes() == []
    assert sorted(plans, key=str) == ["acc-1", "acc-3"]
    assert seen.count("acc-1") == 6
    assert seen.count("acc-3") == 3


async def test_sync_many_takes_account_targets_and_dry_runs() -> None:
    first, second = mixed_account("acc-1"), mixed_account("acc-2")
    targets = [
        AccountTarget(FakeAccount(first), DESIRED),
        AccountTarget(FakeAccount(second), [{"name": "only"}]),
    ]
    reports = await sync_many(targets, dry_run=True)
    assert first.writes() == second.writes() == []
    assert reports["acc-2"].counts == {"planned": 1}
    assert all(report.dry_run for report in reports.values())


async def test_sync_many_checks_every_input_before_sending_anything() -> None:
    first, second = mixed_account("acc-1"), mixed_account("acc-2")
    targets = [
        AccountTarget(FakeAccount(first), DESIRED),
        AccountTarget(FakeAccount(second), [{"name": "a"}, {"name": ""}]),
    ]
    with pytest.raises(kca.ValidationError) as info:
        await sync_many(targets)
    assert info.value.field == "acc-2.desired[1].name"
    assert first.calls == second.calls == []


async def test_sync_many_refuses_an_account_given_twice() -> None:
    stub = FakeLists()
    twice = [AccountTarget(FakeAccount(stub), []) for _ in range(2)]
    with pytest.raises(kca.ValidationError, match="appears twice") as info:
        await sync_many(twice)
    assert info.value.field == "targets[1]"
    assert stub.calls == []


async def test_a_spec_without_description_keeps_the_lists_and_sends_nothing() -> None:
    stub = FakeLists(lists=[api_list("Keep", "keep me", allow_duplicates=True)])
    report = await run(stub, [{"name": "keep"}, {"name": "keep2", "allow_duplicates": True}])
    assert [(o.name, o.status) for o in report.outcomes] == [
        ("Keep", "unchanged"),
        ("keep2", "created"),
    ]
    assert stub.writes() == ["create"]
    assert stub.lists["cl-Keep"].description == "keep me"


async def test_an_update_of_the_flag_alone_keeps_the_description() -> None:
    stub = FakeLists(lists=[api_list("Keep", "keep me", allow_duplicates=False)])
    report = await run(stub, [{"name": "Keep", "allow_duplicates": True}], keep_results=True)
    ((_, changes),) = [arg for operation, arg in stub.calls if operation == "update"]
    assert changes.description is None  # not sent: nothing to change
    (outcome,) = report.outcomes
    assert outcome.contact_list is not None
    assert outcome.contact_list.description == "keep me"
    assert outcome.contact_list.allow_duplicates is True


async def test_an_unknown_flag_is_never_sent_as_false() -> None:
    stub = FakeLists(lists=[api_list("Keep", "old", allow_duplicates=None)])
    report = await run(stub, [{"name": "Keep", "description": "new"}])
    ((_, changes),) = [arg for operation, arg in stub.calls if operation == "update"]
    assert changes.allow_duplicates is None  # left for update() to read or refuse, not False
    (outcome,) = report.outcomes
    assert outcome.reason == "description 'old' -> 'new'"


async def test_only_a_flag_change_carries_the_flag_and_update_picks_the_version() -> None:
    stub = FakeLists(
        lists=[
            api_list("Flag", "same", allow_duplicates=False),
            api_list("Text", "old", allow_duplicates=True),
        ]
    )
    report = await run(
        stub,
        [
            {"name": "Flag", "description": "same", "allow_duplicates": True},
            {"name": "Text", "description": "new"},
        ],
    )
    assert report.ok
    sent = {arg[0]: arg[1].allow_duplicates for op, arg in stub.calls if op == "update"}
    # The flag goes only with a flag change, and update() (not sync) routes it to v1.
    assert sent == {"cl-Flag": True, "cl-Text": None}
    assert stub.update_versions == [None, None]
    flag, text = (stub.lists["cl-Flag"], stub.lists["cl-Text"])
    assert (flag.allow_duplicates, text.description, text.allow_duplicates) == (True, "new", True)


async def test_a_flag_change_is_applied_even_when_v2_is_named() -> None:
    stub = FakeLists(lists=[api_list("Flag", "same", allow_duplicates=False)])
    report = await run(
        stub, [{"name": "Flag", "description": "same", "allow_duplicates": True}], api_version="v2"
    )
    assert report.ok
    assert stub.update_versions == [None]  # left to update(), which sends it through v1


async def test_a_prune_delete_that_finds_the_list_gone_counts_as_done() -> None:
    stub = mixed_account()
    gone = kca.NotFoundError("no such list", status=404, method="DELETE", url="u")
    gone.attempts = 1
    stub.fail = {"delete:gone": gone}  # a concurrent sync deleted it first
    report = await run(stub, prune=True)
    assert report.ok
    (deleted,) = report.with_status("deleted")
    assert (deleted.name, deleted.list_id, deleted.attempts) == ("gone", "cl-gone", 1)
    assert deleted.error is None
    assert deleted.reason == "already gone (deleted elsewhere since the plan was made)"


async def test_a_credentials_failure_stops_the_accounts_writes() -> None:
    stub = FakeLists()
    refused = kca.AuthenticationError("invalid token", status=401, method="POST", url="u")
    desired = [{"name": f"l{i}"} for i in range(50)]
    stub.fail = {f"create:l{i}": refused for i in range(50)}
    report = await run(stub, desired, concurrency=2)
    assert stub.writes() == ["create", "create"]  # the two in flight, then nothing
    assert report.counts == {"failed": 50}
    assert all(o.attempts == 0 for o in report.outcomes[2:])
    assert all(str(o.reason).startswith("not sent: the job stopped") for o in report.outcomes[2:])


async def test_sync_many_goes_on_with_other_accounts_when_one_is_refused() -> None:
    refused_account, other = FakeLists("acc-1", bulk_concurrency=1), FakeLists("acc-2")
    denied = kca.PermissionDeniedError("no scope", status=403, method="POST", url="u")
    refused_account.fail = {"create:same": denied, "create:CHANGED": denied, "create:new": denied}
    reports = await sync_many({FakeAccount(refused_account): DESIRED, FakeAccount(other): DESIRED})
    assert reports["acc-1"].counts == {"failed": 3}
    assert refused_account.writes() == ["create"]  # one at a time: the first refusal stops it
    assert reports["acc-2"].counts == {"created": 3}


async def test_outcomes_keep_list_ids_and_lists_only_when_asked() -> None:
    report = await run(mixed_account(), prune=True)
    ids = {o.name: o.list_id for o in report.outcomes}
    assert ids == {
        "same": "cl-same",
        "changed": "cl-changed",
        "new": "cl-new",
        "gone": "cl-gone",
        "uploaded": "cl-uploaded",
        "used": "cl-used",
    }
    assert all(o.contact_list is None for o in report.outcomes)
    kept = await run(mixed_account(), prune=True, keep_results=True)
    assert all(o.contact_list is not None for o in kept.outcomes)
    assert [o.list_id for o in kept.outcomes] == [o.list_id for o in report.outcomes]


async def test_sync_many_takes_list_operations_as_well_as_accounts() -> None:
    first, second = mixed_account("acc-1"), FakeLists("acc-2")
    reports = await sync_many([AccountTarget(first, DESIRED), AccountTarget(second, DESIRED)])
    assert reports["acc-1"].ok
    assert reports["acc-2"].counts == {"created": 3}


async def test_a_lost_prune_lease_stops_the_writes_not_sent_yet() -> None:
    stub = FakeLists(bulk_concurrency=1)
    lease = FakeLease()
    stub.lease = lambda name: lease.hold(name)  # type: ignore[method-assign]
    desired: list[kca.ContactListSpec] = [{"name": f"l{i}"} for i in range(5)]
    stub.turns = {"l0": 1}

    def lose_after_first(outcome: Outcome) -> None:
        lease.held = False  # e.g. Redis lost it, or it expired: another run may hold it now

    report = await sync(stub, desired, prune=True, concurrency=1, on_outcome=lose_after_first)
    assert lease.names == ["sync-prune"]
    assert stub.sent == ["l0"]
    assert report.counts == {"created": 1, "failed": 4}
    assert all(o.attempts == 0 for o in report.outcomes[1:])
    assert all(
        "lost the account's 'sync-prune' lease" in str(o.reason) for o in report.outcomes[1:]
    )


async def test_lists_read_before_another_prune_run_are_read_again() -> None:
    stub = FakeLists(lists=[api_list("stale")])
    first = asyncio.Event()
    stub.gate = first
    stale = list(stub.lists.values())
    # Both were handed the same listing; the second waits for the first's lease, so its
    # listing is stale by then and it reads the lists again.
    one = asyncio.ensure_future(
        sync(stub, [{"name": "a"}], prune=True, concurrency=1, existing=stale)
    )
    two = asyncio.ensure_future(
        sync(stub, [{"name": "a"}], prune=True, concurrency=1, existing=stale)
    )
    await asyncio.sleep(0)
    first.set()
    reports = await asyncio.gather(one, two)
    assert [operation for operation, _ in stub.calls].count("list") == 1
    assert reports[0].counts == {"created": 1, "deleted": 1}
    assert reports[1].counts == {"unchanged": 1}


async def test_a_prune_run_without_writes_or_a_dry_run_takes_no_lease() -> None:
    stub = FakeLists()
    lease = FakeLease()
    stub.lease = lambda name: lease.hold(name)  # type: ignore[method-assign]
    await sync(stub, [{"name": "a"}], prune=True, dry_run=True, concurrency=1)
    await sync(stub, [{"name": "a"}], concurrency=1)
    assert lease.names == []


class FakeLease:
    """A lease that records who asked for it and can be lost on demand."""

    def __init__(self) -> None:
        self.held = True
        self.waited = False
        self.names: list[str] = []

    @contextlib.asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[FakeLease]:
        self.names.append(name)
        yield self
