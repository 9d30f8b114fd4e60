"""create_many, sync and sync_many end to end: the fake server on loopback, faults switched on."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pytest

import kore_campaign_async as kca
from kore_campaign_async._bulk.outcomes import Outcome
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import FakeKoreServer, Fault, ServerRateLimit
from tests.helpers.clients import MakeClient
from tests.helpers.e2e import PATIENT_RETRY, Connect
from tests.helpers.fake_server import settle

IID = "st-bulk"
WRITES = ("create", "update", "delete")


def writes(server: FakeKoreServer, account_id: str | None = None, status: int | None = None) -> int:
    """Write requests the server saw (only those answered ``status``, when given)."""
    return sum(server.count(operation=op, account_id=account_id, status=status) for op in WRITES)


def names_on(server: FakeKoreServer, account_id: str) -> Counter[str]:
    return Counter(item["name"].lower() for item in server.lists(account_id))


def bulk_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith("kore-")]


async def test_create_many_over_three_accounts_with_faults_loses_and_duplicates_nothing(
    connect: Connect,
) -> None:
    accounts = ("acc-a", "acc-b", "acc-c")
    # Over a thousand items: at 4 % per fault kind, each kind strikes dozens of times. Each
    # lookup after a lost answer lists the whole account, so the cost grows with the square
    # of this number.
    per_account = 350
    async with FakeKoreServer(seed=7) as server:
        server.faults.add_many(
            [
                Fault("reset", operation="create", probability=0.04, times=None),
                Fault("status", operation="create", status=503, probability=0.04, times=None),
                Fault("commit_then_drop", operation="create", probability=0.04, times=None),
                Fault(
                    "status",
                    status=429,
                    headers={"Retry-After": "0.005"},
                    probability=0.02,
                    times=None,
                ),
                Fault("reset", operation="list", probability=0.05, times=None),
            ]
        )
        inputs: dict[str, list[Any]] = {}
        for account_id in accounts:
            # One list exists already (adopted), one spec is bad, one repeats a name.
            server.seed_list(account_id, IID, f"{account_id}-list-0005", "seeded")
            items: list[Any] = [
                {"name": f"{account_id}-list-{i:04d}", "description": f"#{i}"}
                for i in range(per_account - 2)
            ]
            items.insert(100, {"name": f"{account_id}-LIST-0003"})
            items.insert(200, {"name": "x" * 49})
            inputs[account_id] = items
        seen: Counter[tuple[str, int]] = Counter()

        def on_outcome(outcome: Outcome) -> None:
            seen[outcome.account_id, outcome.index] += 1

        async with connect(server, max_concurrency=16) as client:
            handles = [client.account(account_id, iid=IID) for account_id in accounts]
            reports = await asyncio.gather(
                *(
                    handle.contact_lists.create_many(
                        inputs[handle.account_id], on_outcome=on_outcome
                    )
                    for handle in handles
                )
            )
            for report, account_id in zip(reports, accounts, strict=True):
                items = inputs[account_id]
                assert report.account_id == account_id
                assert len(report) == len(items) == per_account
                assert [o.index for o in report.outcomes] == list(range(per_account))
                assert all(seen[account_id, i] == 1 for i in range(per_account))
                by_name = {o.name.lower(): o for o in report.outcomes if o.ok}
                assert report.counts["failed"] == 2
                assert isinstance(report.outcomes[100].error, kca.ValidationError)
                assert "duplicate of item 3" in str(report.outcomes[100].reason)
                assert isinstance(report.outcomes[200].error, kca.ValidationError)
                assert by_name[f"{account_id}-list-0005"].status == "adopted"
                # Exactly one server list per name, and it is the one the report holds.
                on_server = names_on(server, account_id)
                assert set(on_server.values()) == {1}
                assert set(on_server) == set(by_name)
                for item in server.lists(account_id):
                    outcome = by_name[item["name"].lower()]
                    assert outcome.list_id == item["_id"]
            assert server.count(status=429) > 0  # Retry-After was honoured
            # Lists committed before their answer was dropped were adopted, not made twice.
            assert any(r.fault == "commit_then_drop" for r in server.requests)
            assert sum(report.counts["adopted"] for report in reports) > len(accounts)

            # The same job as a sync: only the seeded list's description differs, once.
            desired = {
                handle: [item for item in inputs[handle.account_id] if len(item["name"]) <= 48]
                for handle in handles
            }
            for items in desired.values():
                del items[100]  # the repeated name
            # Counted by answers 200: the run's 2 % of 429s may refuse an update, which is
            # then resent (the refused one took no effect).
            before = writes(server, status=200)
            synced = await client.sync_many(desired)
            assert writes(server, status=200) == before + len(accounts)
            for sync_report in synced.values():
                assert sync_report.ok
                assert sync_report.counts == {"unchanged": per_account - 3, "updated": 1}
            # And again: nothing left to write, faults or not.
            resynced = await client.sync_many(desired)
            assert writes(server, status=200) == before + len(accounts)
            assert all(r.ok and r.writes == 0 for r in resynced.values())


@pytest.mark.parametrize("api_version", ["v1", "v2"])
async def test_sync_dry_run_prune_safety_and_second_run(
    server: FakeKoreServer, connect: Connect, api_version: kca.ApiVersion
) -> None:
    account_id = "acc-1"
    server.seed_list(account_id, IID, "Keep", "old words", allow_duplicates=True)
    server.seed_list(account_id, IID, "Stale")
    server.seed_list(account_id, IID, "Uploaded", source="localDrive", status="Validated")
    server.seed_list(account_id, IID, "Busy", campaign_in_use=[{"id": "c-1", "name": "July"}])
    desired: list[kca.ContactListSpec] = [
        {"name": "keep", "description": "new words", "allow_duplicates": False},
        {"name": "Fresh one", "description": "f"},
        {"name": "Fresh two", "allow_duplicates": True},
    ]
    async with connect(server, api_version=api_version) as client:
        lists = client.account(account_id, iid=IID).contact_lists

        dry = await lists.sync(desired, prune=True, dry_run=True)
        assert [(r.operation, r.method) for r in server.requests] == [("list", "POST")]
        assert [(o.name, o.status) for o in dry.outcomes] == [
            ("Keep", "planned"),
            ("Fresh one", "planned"),
            ("Fresh two", "planned"),
            ("Busy", "blocked"),
            ("Stale", "planned"),
            ("Uploaded", "blocked"),
        ]

        applied = await lists.sync(desired, prune=True)
        assert applied.ok
        assert [(o.name, o.status) for o in applied.outcomes] == [
            ("Keep", "updated"),
            ("Fresh one", "created"),
            ("Fresh two", "created"),
            ("Busy", "blocked"),
            ("Stale", "deleted"),
            ("Uploaded", "blocked"),
        ]
        # v1 updates need name, source and allowDuplicates: sync sends them, no extra read.
        assert server.count(operation="get") == 0
        on_server = {item["name"]: item for item in server.lists(account_id)}
        assert sorted(on_server) == ["Busy", "Fresh one", "Fresh two", "Keep", "Uploaded"]
        assert on_server["Keep"]["description"] == "new words"
        assert on_server["Keep"]["allowDuplicates"] is False
        assert on_server["Keep"]["source"] == "passiveApi"
        assert on_server["Fresh two"]["allowDuplicates"] is True

        before = writes(server)
        again = await lists.sync(desired, prune=True)
        assert writes(server) == before
        assert again.writes == 0
        assert again.plan is not None
        assert again.plan.writes == 0
        assert again.counts == {"unchanged": 3, "blocked": 2}


async def test_a_stopped_sync_runs_again_without_duplicates(connect: Connect) -> None:
    account_id = "acc-stop"
    desired: list[kca.ContactListSpec] = [
        {"name": f"list-{i:03d}", "description": "d"} for i in range(150)
    ]
    async with FakeKoreServer() as server, connect(server, max_concurrency=8) as client:
        # Slow creates, so the job is surely mid-flight when it is stopped.
        server.faults.add(Fault("delay", operation="create", delay=0.01, times=None))
        lists = client.account(account_id, iid=IID).contact_lists
        enough = asyncio.Event()
        done = 0

        def on_outcome(_: Outcome) -> None:
            nonlocal done
            done += 1
            if done == 30:
                enough.set()

        job = asyncio.create_task(lists.sync(desired, on_outcome=on_outcome))
        await enough.wait()
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        assert bulk_tasks() == []
        assert 30 <= len(server.lists(account_id)) < 150

        server.faults.clear()
        rerun = await lists.sync(desired)
        assert rerun.ok
        assert rerun.counts["created"] + rerun.counts["adopted"] < 150 - 29
        on_server = names_on(server, account_id)
        assert len(on_server) == 150
        assert set(on_server.values()) == {1}
        third = await lists.sync(desired)
        assert third.writes == 0


async def test_failing_items_do_not_cancel_their_siblings(
    server: FakeKoreServer, client: kca.CampaignClient
) -> None:
    server.faults.add(
        Fault(
            "status",
            operation="create",
            status=400,
            body={"errors": [{"msg": "description: rejected", "code": 412}]},
            times=3,
        )
    )
    lists = client.account("acc-1", iid=IID).contact_lists
    report = await lists.create_many(({"name": f"l{i}"} for i in range(30)), concurrency=5)
    assert report.counts == {"created": 27, "failed": 3}
    for outcome in report.failed:
        assert isinstance(outcome.error, kca.BadRequestError)
        assert outcome.attempts == 1
    assert len(server.lists("acc-1")) == 27


async def test_sync_many_isolates_an_account_that_cannot_be_read(
    server: FakeKoreServer, connect: Connect
) -> None:
    server.faults.add(
        Fault("status", operation="list", account_id="acc-bad", status=403, times=None)
    )
    async with connect(server) as client:
        good = client.account("acc-good", iid=IID)
        bad = client.account("acc-bad", iid=IID)
        desired: list[kca.ContactListSpec] = [{"name": f"n{i}"} for i in range(20)]
        reports = await client.sync_many({good: desired, bad: desired}, prune=True)
    assert reports["acc-good"].counts == {"created": 20}
    failed = reports["acc-bad"]
    assert isinstance(failed.error, kca.PermissionDeniedError)
    assert not failed.ok
    assert writes(server, "acc-bad") == 0
    assert len(server.lists("acc-good")) == 20


async def test_accounts_go_each_at_their_own_pace(connect: Connect) -> None:
    """A paced account does not hold back another: limits are per account.

    Client and server count on one virtual clock, so the pacing costs no real time. The big
    account sleeps all along, and virtual time jumps whenever ready work has run for the
    clock's settle turns: 1,000 turns (a loopback request needs about 50) keep it from
    jumping while the small account's requests are still on the socket.
    """
    clock = ManualClock(settle_turns=1_000)
    window = ServerRateLimit(limit=20, window=0.4)
    async with (
        FakeKoreServer(rate_limit=window, clock=clock) as server,
        connect(
            server, rate_limit=kca.RateLimit(20, per=0.4), clock=clock, sleep=clock.sleep
        ) as client,
    ):
        big = client.account("acc-big", iid=IID).contact_lists
        small = client.account("acc-small", iid=IID).contact_lists
        paced = asyncio.Event()
        done = 0

        def on_big(_: Outcome) -> None:
            nonlocal done
            done += 1
            if done == 25:  # past its first 20 permits: the big account is being paced now
                paced.set()

        started = clock.now
        big_job = asyncio.create_task(
            big.sync([{"name": f"big-{i}"} for i in range(60)], on_outcome=on_big)
        )
        await paced.wait()
        small_started = clock.now
        small_report = await small.sync([{"name": f"small-{i}"} for i in range(5)])
        small_took = clock.now - small_started
        big_report = await big_job
        big_took = clock.now - started
    assert small_report.ok
    assert big_report.ok
    assert len(server.lists("acc-big")) == 60
    # 61 requests at 20 per 0.4 s take at least two more windows; the small account's six
    # requests, sent while the big one waits for permits, are not queued behind it: they
    # take their own pace (five intervals of 0.4 / 20 * 1.02 s, no burst), not the big one's.
    assert big_took >= 0.8
    assert small_took < 0.2


async def test_a_wrong_secret_stops_create_many_instead_of_sending_every_item(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    wrong_secret = "not-the-secret-" + "x" * 32
    async with make_client(server, client_secret=wrong_secret, retry=PATIENT_RETRY) as client:
        lists = client.account("acc-1", iid=IID).contact_lists
        report = await lists.create_many(({"name": f"l{i}"} for i in range(200)), concurrency=4)
    assert report.counts == {"failed": 200}
    # The four items in flight each sent twice (the SDK renews its token once); no more.
    assert len(server.requests) == 8
    assert {r.status for r in server.requests} == {401}
    not_sent = [o for o in report.outcomes if o.attempts == 0]
    assert len(not_sent) == 196
    assert all(isinstance(o.error, kca.AuthenticationError) for o in report.outcomes)
    assert "not sent: the job stopped after" in str(not_sent[0].reason)


async def test_concurrent_pruning_syncs_take_turns_through_the_accounts_lease(
    connect: Connect,
) -> None:
    async with FakeKoreServer() as server, connect(server) as client:
        server.seed_list("acc-1", IID, "Stale")
        lists = client.account("acc-1", iid=IID).contact_lists
        desired: list[kca.ContactListSpec] = [{"name": "Keep"}, {"name": "New"}]
        first, second = await asyncio.gather(
            lists.sync(desired, prune=True), lists.sync(desired, prune=True)
        )
    # The second waited for the first's lease, then planned from the lists the first left:
    # its listing was read after the first's last write, and it had nothing left to do.
    operations = [str(r.operation) for r in server.requests]
    assert operations[0] == operations[-1] == "list"
    assert sorted(operations[1:-1]) == ["create", "create", "delete"]
    assert first.ok
    assert first.plan is not None
    assert first.plan.writes == 3
    assert second.ok
    assert second.plan is not None
    assert second.plan.writes == 0
    assert sorted(item["name"] for item in server.lists("acc-1")) == ["Keep", "New"]


async def test_create_many_iter_streams_every_outcome_through_the_client(
    server: FakeKoreServer, client: kca.CampaignClient
) -> None:
    lists = client.account("acc-1", iid=IID).contact_lists
    items: Iterable[kca.ContactListSpec] = ({"name": f"l{i}"} for i in range(30))
    async with contextlib.aclosing(lists.create_many_iter(items, concurrency=5)) as outcomes:
        seen = [outcome async for outcome in outcomes]
    assert sorted(o.index for o in seen) == list(range(30))
    on_server = {item["name"]: item["_id"] for item in server.lists("acc-1")}
    assert {o.name: o.list_id for o in seen} == on_server
    assert bulk_tasks() == []


async def test_an_account_refusing_for_good_stops_create_many_after_its_pause_limits(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    # Every request answered 429 for good; each pause is one the policy waits out.
    server.faults.add(Fault("status", status=429, headers={"Retry-After": "2"}, times=None))
    async with make_client(server, retry=kca.RetryPolicy(), max_concurrency=2) as client:
        lists = client.account("acc-1", iid=IID).contact_lists
        report = await lists.create_many(({"name": f"l{i}"} for i in range(20)), concurrency=2)
    assert report.counts == {"failed": 20}
    # The two items in flight spent their attempts on 429s; no other item was sent.
    assert len(server.requests) <= 2 * kca.RetryPolicy().max_attempts
    not_sent = [o for o in report.outcomes if o.attempts == 0]
    assert len(not_sent) >= 18
    assert all(isinstance(o.error, kca.RateLimitError) for o in report.outcomes)
    assert "not sent: the job stopped after" in str(not_sent[-1].reason)
    assert "run again later" in str(not_sent[-1].reason)


async def test_a_cancelled_create_many_reports_every_list_it_may_have_committed(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    names = [f"l{i}" for i in range(20)]
    specs: list[kca.ContactListSpec] = [{"name": name} for name in names]
    seen: list[Outcome] = []
    job: asyncio.Task[kca.CreateReport] | None = None

    def on_outcome(outcome: Outcome) -> None:
        seen.append(outcome)
        if sum(o.status == "created" for o in seen) == 8 and job is not None:
            job.cancel()  # as a caller's timeout would, with creates in flight

    async with make_client(server) as client:
        lists = client.account("acc-1", iid=IID).contact_lists
        job = asyncio.ensure_future(lists.create_many(specs, concurrency=4, on_outcome=on_outcome))
        with pytest.raises(asyncio.CancelledError):
            await job
        # Requests that reached the server before the cancel are answered there all the same.
        await settle(lambda: all(r.status is not None for r in server.requests), turns=100_000)
        created = {o.name for o in seen if o.status == "created"}
        maybe = {o.name for o in seen if o.attempts and "may have been created" in str(o.reason)}
        assert len(created) >= 8
        assert maybe  # creates were in flight: their lists may or may not be on the server
        # Every create the server saw ended reported: created, or "may have been created".
        assert len(created) + len(maybe) == server.count("create")
        assert {n.lower() for n in created} <= set(names_on(server, "acc-1"))
        assert set(names_on(server, "acc-1")) <= {n.lower() for n in created | maybe}
        assert all(isinstance(o.error, asyncio.CancelledError) for o in seen if o.name in maybe)
        # Running the job again completes it exactly: no list twice.
        again = await lists.create_many(specs, concurrency=4)
    assert again.ok
    assert names_on(server, "acc-1") == Counter(names)
