"""sync and sync_many against an in-process stand-in for ContactLists."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import attrs
import pytest

import kore_campaign_async as kca
from kore_campaign_async._bulk.create import Outcome
from kore_campaign_async._bulk.plan import SyncPlan
from kore_campaign_async._bulk.sync import AccountTarget, SyncReport, sync, sync_many
from kore_campaign_async._client import Account
from kore_campaign_async._resources.contact_lists import ContactLists
from kore_campaign_async._wire.endpoints import AccountRef


class StubLists:
    """An account's lists in memory, with the ContactLists methods sync uses."""

    def __init__(self, account_id: str = "acc-1", lists: Sequence[kca.ContactList] = ()) -> None:
        self._ref = AccountRef(account_id, "st-1", "st-1")
        self.account_id = account_id
        self.api_version = "v2"
        #: The api_version each update was sent with.
        self.update_versions: list[Any] = []
        self.bulk_concurrency = 3
        self.lists = {item.id: item for item in lists}
        self.calls: list[tuple[str, Any]] = []
        self.fail: dict[str, BaseException] = {}
        self.gate: asyncio.Event | None = None
        self.waiting = 0
        self.busy = asyncio.Event()

    def as_lists(self) -> ContactLists:
        return cast(ContactLists, self)

    async def _step(self, operation: str, key: str, arg: Any) -> None:
        self.calls.append((operation, arg))
        if self.gate is not None and operation != "list":
            self.waiting += 1
            self.busy.set()
            try:
                await self.gate.wait()
            finally:
                self.waiting -= 1
        await asyncio.sleep(0)
        error = self.fail.get(f"{operation}:{key}")
        if error is not None:
            raise error

    async def list(self, *, api_version: Any = None) -> list[kca.ContactList]:
        await self._step("list", "", None)
        return list(self.lists.values())

    async def create(
        self, spec: kca.ContactListCreate, *, if_exists: str, api_version: Any
    ) -> kca.ContactList:
        assert if_exists == "adopt"  # sync must adopt so a re-run after a stop is safe
        await self._step("create", spec.name, spec)
        created = kca.ContactList(
            id=f"cl-{spec.name}",
            name=spec.name,
            description=spec.description or "",  # what create sends for None
            allow_duplicates=bool(spec.allow_duplicates),
            source=spec.source,
            meta=kca.ResponseMeta(attempts=1),
        )
        self.lists[created.id] = created
        return created

    async def update(
        self, list_id: str, changes: kca.ContactListUpdate, *, api_version: Any
    ) -> kca.UpdatedContactList:
        current = self.lists[list_id]
        if api_version == "v2":
            assert changes.allow_duplicates is None, "Kore's v2 update takes no allowDuplicates"
        self.update_versions.append(api_version)
        await self._step("update", current.name, (list_id, changes))
        self.lists[list_id] = attrs.evolve(
            current,
            description=current.description if changes.description is None else changes.description,
            allow_duplicates=(
                current.allow_duplicates
                if changes.allow_duplicates is None
                else changes.allow_duplicates
            ),
        )
        return kca.UpdatedContactList(id=list_id, meta=kca.ResponseMeta(attempts=3))

    async def delete(self, list_id: str, *, api_version: Any) -> kca.ContactList:
        await self._step("delete", self.lists[list_id].name, list_id)
        return self.lists.pop(list_id)

    def writes(self) -> builtins.list[str]:
        return [operation for operation, _ in self.calls if operation != "list"]


class StubAccount:
    def __init__(self, lists: StubLists) -> None:
        self.contact_lists = lists
        self.account_id = lists._ref.account_id


def api_list(name: str, description: str = "", **kwargs: Any) -> kca.ContactList:
    kwargs.setdefault("source", "passiveApi")
    return kca.ContactList(id=f"cl-{name}", name=name, description=description, **kwargs)


def mixed_account(account_id: str = "acc-1") -> StubLists:
    """An account with one list of every fate under DESIRED and prune."""
    return StubLists(
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


async def run(stub: StubLists, desired: Any = DESIRED, **kwargs: Any) -> SyncReport:
    kwargs.setdefault("concurrency", 2)
    return await sync(stub.as_lists(), desired, **kwargs)


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
    stub = StubLists(
        lists=[api_list("Keep", "old", allow_duplicates=True, source="passiveApiIntegration")]
    )
    stub.api_version = "v1"
    report = await run(stub, [{"name": "keep", "description": "new"}])
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

    stub = StubLists()
    report = await run(stub, desired())
    assert [o.status for o in report.outcomes] == ["created", "created"]


async def test_a_failed_read_raises_and_writes_nothing() -> None:
    stub = mixed_account()
    stub.fail = {"list:": kca.APIConnectionError("refused")}
    with pytest.raises(kca.APIConnectionError):
        await run(stub)
    assert stub.writes() == []


async def test_cancelling_a_sync_leaves_no_worker_running() -> None:
    stub = StubLists()
    stub.gate = asyncio.Event()
    job = asyncio.create_task(run(stub, [{"name": f"l{i}"} for i in range(10)], concurrency=4))
    while stub.waiting < 4:
        stub.busy.clear()
        await stub.busy.wait()
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("kore-sync-")] == []
    assert stub.waiting == 0


def accounts(*stubs: StubLists) -> dict[Account, Any]:
    return {cast(Account, StubAccount(stub)): DESIRED for stub in stubs}


async def test_sync_many_runs_every_account_and_isolates_a_failing_one() -> None:
    good, bad, other = mixed_account("acc-1"), mixed_account("acc-2"), StubLists("acc-3")
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
        AccountTarget(cast(Account, StubAccount(first)), DESIRED),
        AccountTarget(cast(Account, StubAccount(second)), [{"name": "only"}]),
    ]
    reports = await sync_many(targets, dry_run=True)
    assert first.writes() == second.writes() == []
    assert reports["acc-2"].counts == {"planned": 1}
    assert all(report.dry_run for report in reports.values())


async def test_sync_many_checks_every_input_before_sending_anything() -> None:
    first, second = mixed_account("acc-1"), mixed_account("acc-2")
    targets = [
        AccountTarget(cast(Account, StubAccount(first)), DESIRED),
        AccountTarget(cast(Account, StubAccount(second)), [{"name": "a"}, {"name": ""}]),
    ]
    with pytest.raises(kca.ValidationError) as info:
        await sync_many(targets)
    assert info.value.field == "acc-2.desired[1].name"
    assert first.calls == second.calls == []


async def test_sync_many_refuses_an_account_given_twice() -> None:
    stub = StubLists()
    twice = [AccountTarget(cast(Account, StubAccount(stub)), []) for _ in range(2)]
    with pytest.raises(kca.ValidationError, match="appears twice") as info:
        await sync_many(twice)
    assert info.value.field == "targets[1]"
    assert stub.calls == []


async def test_a_spec_without_description_keeps_the_lists_and_sends_nothing() -> None:
    stub = StubLists(lists=[api_list("Keep", "keep me", allow_duplicates=True)])
    report = await run(stub, [{"name": "keep"}, {"name": "keep2", "allow_duplicates": True}])
    assert [(o.name, o.status) for o in report.outcomes] == [
        ("Keep", "unchanged"),
        ("keep2", "created"),
    ]
    assert stub.writes() == ["create"]
    assert stub.lists["cl-Keep"].description == "keep me"


async def test_an_update_of_the_flag_alone_keeps_the_description() -> None:
    stub = StubLists(lists=[api_list("Keep", "keep me", allow_duplicates=False)])
    report = await run(stub, [{"name": "Keep", "allow_duplicates": True}])
    ((_, changes),) = [arg for operation, arg in stub.calls if operation == "update"]
    assert changes.description is None  # not sent: nothing to change
    (outcome,) = report.outcomes
    assert outcome.contact_list is not None
    assert outcome.contact_list.description == "keep me"
    assert outcome.contact_list.allow_duplicates is True


async def test_an_unknown_flag_is_never_sent_as_false() -> None:
    stub = StubLists(lists=[api_list("Keep", "old", allow_duplicates=None)])
    report = await run(stub, [{"name": "Keep", "description": "new"}])
    ((_, changes),) = [arg for operation, arg in stub.calls if operation == "update"]
    assert changes.allow_duplicates is None  # left for update() to read or refuse, not False
    (outcome,) = report.outcomes
    assert outcome.reason == "description 'old' -> 'new'"


async def test_only_a_flag_change_carries_the_flag_and_update_picks_the_version() -> None:
    stub = StubLists(
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
    stub = StubLists(lists=[api_list("Flag", "same", allow_duplicates=False)])
    report = await run(
        stub, [{"name": "Flag", "description": "same", "allow_duplicates": True}], api_version="v2"
    )
    assert report.ok
    assert stub.update_versions == [None]  # left to update(), which sends it through v1
