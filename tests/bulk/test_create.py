"""create_many and create_many_iter over FakeLists: order, isolation, bounds, cancel, halts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import attrs
import pytest

import kore_campaign_async as kca
from kore_campaign_async._bulk.create import create_many, create_many_iter
from kore_campaign_async._bulk.outcomes import CreateReport, Outcome
from tests.helpers.fakes import FakeLists

WORKER_PREFIX = "kore-create-many-"


def spec(name: str) -> kca.ContactListCreate:
    return kca.ContactListCreate(name=name, description=f"about {name}")


def workers_left() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks() if task.get_name().startswith(WORKER_PREFIX)]


async def run(stub: FakeLists, items: Any, concurrency: int = 4, **kwargs: Any) -> CreateReport:
    return await create_many(stub, items, concurrency=concurrency, **kwargs)


async def test_outcomes_come_back_in_input_order_whatever_the_finishing_order() -> None:
    stub = FakeLists()
    names = [f"list-{i}" for i in range(20)]
    # Earlier items take longer, so they finish last.
    stub.turns = {name: 40 - 2 * i for i, name in enumerate(names)}
    finished: list[int] = []
    report = await run(
        stub,
        [spec(n) for n in names],
        on_outcome=lambda o: finished.append(o.index),
        keep_results=True,
    )
    assert [o.index for o in report.outcomes] == list(range(20))
    assert [o.name for o in report.outcomes] == names
    assert finished != sorted(finished)  # they really finished out of order
    assert sorted(finished) == list(range(20))
    assert all(o.status == "created" and o.action == "create" for o in report.outcomes)
    assert all(o.account_id == "acc-1" and o.attempts == 2 for o in report.outcomes)
    assert report.outcomes[3].list_id == "cl-list-3"
    assert report.outcomes[3].contact_list == kca.ContactList(
        id="cl-list-3",
        name="list-3",
        description="about list-3",
        allow_duplicates=False,
        source="passiveApi",
    )


async def test_a_failing_item_does_not_cancel_its_siblings() -> None:
    stub = FakeLists()
    error = kca.BadRequestError("name: bad", status=400, method="POST", url="u")
    error.attempts = 1
    stub.fail = {"create:b": error, "create:d": RuntimeError("bug in a hook")}
    stub.turns = {"a": 30, "c": 30, "e": 30}  # siblings still running when b fails
    report = await run(stub, [spec(n) for n in "abcde"], concurrency=5)
    assert [o.status for o in report.outcomes] == [
        "created",
        "failed",
        "created",
        "failed",
        "created",
    ]
    assert stub.cancelled == 0
    bad = report.outcomes[1]
    assert bad.error is error
    assert bad.attempts == 1
    assert bad.reason == "BadRequestError: 400 POST u: name: bad"
    assert bad.contact_list is None
    assert not bad.ok
    assert report.outcomes[3].attempts == 0  # a non-Kore error carries no attempts
    assert not report.ok
    assert report.failed == (report.outcomes[1], report.outcomes[3])


async def test_bad_specs_fail_their_item_without_sending_anything() -> None:
    stub = FakeLists()
    items: list[Any] = [
        {"name": "ok-1", "description": "x", "allowDuplicates": True},
        {"name": "n" * 49},
        {"description": "no name"},
        {"name": "ok-2", "colour": "blue"},
        42,
        spec("ok-3"),
    ]
    report = await run(stub, items)
    assert stub.sent == ["ok-1", "ok-3"]
    statuses = [(o.name, o.status) for o in report.outcomes]
    assert statuses == [
        ("ok-1", "created"),
        ("n" * 49, "failed"),
        ("", "failed"),
        ("ok-2", "failed"),
        ("", "failed"),
        ("ok-3", "created"),
    ]
    fields = [o.error.field for o in report.outcomes if isinstance(o.error, kca.ValidationError)]
    assert fields == ["items[1].name", "items[2].name", "items[3].colour", "items[4]"]
    assert all(o.attempts == 0 for o in report.failed)


async def test_a_repeated_name_fails_as_a_duplicate_of_the_first() -> None:
    stub = FakeLists()
    stub.turns = {"Alpha": 50}  # the first is still in flight when its duplicate is pulled
    report = await run(stub, [spec("Alpha"), spec("beta"), spec("ALPHA"), spec("alpha")])
    assert stub.sent == ["Alpha", "beta"]
    assert [o.status for o in report.outcomes] == ["created", "created", "failed", "failed"]
    dup = report.outcomes[2]
    assert isinstance(dup.error, kca.ValidationError)
    assert dup.error.field == "items[2].name"
    assert dup.reason is not None
    assert "duplicate of item 0" in dup.reason


async def test_repeats_are_caught_while_the_first_is_in_flight_and_after_it_ended() -> None:
    stub = FakeLists()
    names = [f"list-{n % 300}" for n in range(900)]  # each name three times, 300 apart
    names[450] = names[450].upper()
    stub.turns = {name: (n * 7) % 13 for n, name in enumerate(names[:300])}
    report = await run(stub, [spec(name) for name in names], concurrency=16)
    assert sorted(stub.sent) == sorted(names[:300])
    assert [o.status for o in report.outcomes] == ["created"] * 300 + ["failed"] * 600
    firsts = [int(str(o.reason).split("item ")[1].split(" ")[0]) for o in report.outcomes[300:]]
    assert firsts == [n % 300 for n in range(300, 900)]


async def test_adopted_lists_are_reported_as_adopted() -> None:
    stub = FakeLists()
    stub.adopt = {"b"}
    report = await run(stub, [spec("a"), spec("b")])
    assert [o.status for o in report.outcomes] == ["created", "adopted"]
    assert report.ok
    assert report.adopted == (report.outcomes[1],)
    assert report.created == (report.outcomes[0],)


async def test_report_counts_and_summary() -> None:
    stub = FakeLists("acc-9")
    stub.adopt = {"b"}
    stub.fail = {"create:c": kca.APIConnectionError("reset")}
    report = await run(stub, [spec("a"), spec("b"), spec("c"), spec("d")])
    assert report.counts == {"created": 2, "adopted": 1, "failed": 1}
    assert report.counts["updated"] == 0
    assert len(report) == 4
    assert str(report) == "acc-9: 4 items: 2 created, 1 adopted, 1 failed"
    assert repr(report) == "CreateReport('acc-9', 4 outcomes: 2 created, 1 adopted, 1 failed)"
    empty = await run(FakeLists(), [])
    assert empty.outcomes == ()
    assert empty.ok
    assert empty.summary == "acc-1: 0 items: 0 created, 0 failed"


async def test_on_outcome_is_called_once_per_item_as_it_ends() -> None:
    stub = FakeLists()
    stub.turns = {"slow": 200}
    seen: list[Outcome] = []
    in_flight_when_first_seen: list[int] = []

    def on_outcome(outcome: Outcome) -> None:
        if not seen:
            in_flight_when_first_seen.append(stub.in_flight)
        seen.append(outcome)

    items = [spec("slow"), {"name": ""}, spec("fast")]
    report = await run(stub, items, on_outcome=on_outcome)
    assert sorted(o.index for o in seen) == [0, 1, 2]
    assert seen[-1].name == "slow"
    assert in_flight_when_first_seen == [1]  # reported while "slow" was still running
    assert sorted(seen, key=lambda o: o.index) == list(report.outcomes)


async def test_never_more_than_concurrency_creates_in_flight() -> None:
    stub = FakeLists()
    stub.turns = {f"l{i}": i % 7 for i in range(60)}
    report = await run(stub, (spec(f"l{i}") for i in range(60)), concurrency=5)
    assert stub.max_in_flight == 5
    assert report.ok
    assert len(report) == 60


async def test_async_iterables_are_accepted() -> None:
    async def specs() -> AsyncIterator[dict[str, Any]]:
        for i in range(10):
            await asyncio.sleep(0)
            yield {"name": f"a{i}"}

    report = await run(FakeLists(), specs(), concurrency=3)
    assert [o.name for o in report.outcomes] == [f"a{i}" for i in range(10)]
    assert report.ok


#: Far more than the pool: a bound that depends on the item count shows.
ITEMS = 10_000


@pytest.mark.parametrize("kind", ["async generator", "plain generator"])
async def test_10k_items_are_pulled_lazily_by_a_fixed_pool(kind: str) -> None:
    """10,000 items never mean 10,000 tasks nor 10,000 items held in flight.

    Every check is a maximum over the run, which a task per item or a read-ahead beyond the
    pool breaks at 10,000 items as surely as at 100,000; what a job costs per item at scale
    is the memory benchmark's to measure (``benchmarks/_scale.py``).
    """
    stub = FakeLists()
    stub.remember = False
    concurrency = 16
    pulled = 0
    ahead: list[int] = []

    def pull(i: int) -> kca.ContactListCreate:
        nonlocal pulled
        ahead.append(pulled - stub.finished)
        pulled += 1
        return kca.ContactListCreate(name=f"list-{i}")

    async def async_specs() -> AsyncIterator[kca.ContactListCreate]:
        for i in range(ITEMS):
            yield pull(i)

    specs = async_specs if kind == "async generator" else lambda: map(pull, range(ITEMS))

    count = 0

    def on_outcome(_: Outcome) -> None:
        nonlocal count
        count += 1

    report = await run(stub, specs(), concurrency=concurrency, on_outcome=on_outcome)
    assert len(report) == count == pulled == ITEMS
    assert report.counts["created"] == ITEMS
    assert max(ahead) <= concurrency
    # The test task, the workers and nothing else.
    assert stub.max_tasks <= concurrency + 2
    assert stub.max_in_flight == concurrency


async def test_cancelling_create_many_cancels_and_awaits_every_worker() -> None:
    stub = FakeLists()
    stub.gate = asyncio.Event()  # never set: every create hangs
    stub.busy_at = 6
    job = asyncio.create_task(run(stub, [spec(f"l{i}") for i in range(50)], concurrency=6))
    await stub.busy.wait()
    assert len(workers_left()) == 6
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert workers_left() == []
    assert stub.cancelled == 6
    assert stub.in_flight == 0
    assert len(stub.sent) == 6  # nothing was pulled after the cancel


async def test_an_error_in_on_outcome_stops_the_job_and_propagates() -> None:
    stub = FakeLists()
    stub.turns = {f"l{i}": 50 for i in range(1, 10)}

    def on_outcome(outcome: Outcome) -> None:
        raise ValueError(f"progress bar broke on {outcome.name}")

    with pytest.raises(ValueError, match="broke on l0"):
        await run(stub, [spec(f"l{i}") for i in range(10)], on_outcome=on_outcome)
    assert workers_left() == []
    assert stub.in_flight == 0
    assert stub.cancelled == 3  # the other three workers were mid-create


async def test_an_error_from_the_input_lets_items_in_flight_finish_then_propagates() -> None:
    stub = FakeLists()
    stub.turns = {"slow": 100}

    def specs() -> Iterator[kca.ContactListCreate]:
        yield spec("slow")
        yield spec("quick")
        raise OSError("input file vanished")

    seen: list[str] = []
    with pytest.raises(OSError, match="vanished"):
        await run(stub, specs(), on_outcome=lambda o: seen.append(o.name))
    assert sorted(seen) == ["quick", "slow"]
    assert stub.cancelled == 0
    assert workers_left() == []


@pytest.mark.parametrize(
    ("items", "kwargs", "field"),
    [
        ("abc", {}, "items"),
        ({"name": "one"}, {}, "items"),
        (kca.ContactListCreate(name="one"), {}, "items"),
        (5, {}, "items"),
        ([], {"concurrency": 0}, "concurrency"),
        ([], {"if_exists": "replace"}, "if_exists"),
    ],
)
async def test_bad_arguments_are_refused_before_anything_is_sent(
    items: Any, kwargs: dict[str, Any], field: str
) -> None:
    stub = FakeLists()
    kwargs.setdefault("concurrency", 2)
    with pytest.raises(kca.ValidationError) as info:
        await create_many(stub, items, **kwargs)
    assert info.value.field == field
    assert stub.sent == []


def test_outcome_ok_is_false_only_for_failures() -> None:
    base = Outcome(index=0, account_id="a", name="n", action="delete", status="blocked")
    assert base.ok
    assert not attrs.evolve(base, status="failed").ok


# -- results kept only when asked ------------------------------------------------------------


async def test_outcomes_keep_the_list_id_and_not_the_list_unless_asked() -> None:
    stub = FakeLists()
    stub.adopt = {"b"}
    lean = await run(stub, [spec("a"), spec("b")])
    assert [o.list_id for o in lean.outcomes] == ["cl-a", "cl-b"]
    assert [o.contact_list for o in lean.outcomes] == [None, None]
    kept = await run(FakeLists(), [spec("a")], keep_results=True)
    (outcome,) = kept.outcomes
    assert outcome.contact_list is not None
    assert outcome.contact_list.id == outcome.list_id == "cl-a"
    assert outcome.contact_list.description == "about a"


# -- an account-wide refusal stops the sending -------------------------------------------------


def refused(status: int) -> kca.APIStatusError:
    kind = kca.AuthenticationError if status == 401 else kca.PermissionDeniedError
    error = kind("invalid token", status=status, method="POST", url="u")
    error.attempts = 2  # the SDK renewed its token once and resent
    return error


@pytest.mark.parametrize("status", [401, 403])
async def test_a_credentials_failure_stops_sending_for_the_account(status: int) -> None:
    stub = FakeLists()
    names = [f"l{i}" for i in range(200)]
    error = refused(status)
    stub.fail = {f"create:{name}": error for name in names}
    report = await run(stub, [spec(name) for name in names], concurrency=4)
    # The four in flight when the first answer came back were sent; nothing after them.
    assert stub.sent == names[:4]
    assert report.counts == {"failed": 200}
    sent, not_sent = report.outcomes[:4], report.outcomes[4:]
    assert all(o.attempts == 2 and o.error is error for o in sent)
    assert all(o.attempts == 0 and o.error is error for o in not_sent)
    reason = not_sent[0].reason
    assert reason is not None
    assert reason.startswith("not sent: the job stopped after 'l0' failed with ")
    assert f"{type(error).__name__}: {status} POST u: invalid token" in reason


async def test_an_item_failure_does_not_stop_the_others_being_sent() -> None:
    stub = FakeLists()
    error = kca.BadRequestError("bad", status=400, method="POST", url="u")
    stub.fail = {f"create:l{i}": error for i in range(10)}
    report = await run(stub, [spec(f"l{i}") for i in range(20)])
    assert len(stub.sent) == 20
    assert report.counts == {"failed": 10, "created": 10}


# -- the streaming form ------------------------------------------------------------------------


async def collect(stream: AsyncIterator[Outcome]) -> list[Outcome]:
    return [outcome async for outcome in stream]


async def test_the_stream_yields_every_outcome_as_it_ends() -> None:
    stub = FakeLists()
    names = [f"list-{i}" for i in range(20)]
    stub.turns = {name: 40 - 2 * i for i, name in enumerate(names)}
    seen = await collect(create_many_iter(stub, [spec(n) for n in names], concurrency=4))
    assert sorted(o.index for o in seen) == list(range(20))
    assert [o.index for o in seen] != list(range(20))  # as they ended, not in input order
    assert all(o.status == "created" and o.list_id == f"cl-{o.name}" for o in seen)
    assert all(o.contact_list is None for o in seen)
    assert workers_left() == []


async def test_the_stream_waits_for_its_consumer() -> None:
    stub = FakeLists()
    stream = create_many_iter(stub, (spec(f"l{i}") for i in range(100)), concurrency=4)
    first = await anext(stream)
    for _ in range(50):
        await asyncio.sleep(0)
    # Nobody took the next outcomes: the workers wait with a full hand-over queue.
    assert len(stub.sent) <= 1 + 4 + 4
    assert first.status == "created"
    rest = await collect(stream)
    assert len(rest) == 99
    assert len(stub.sent) == 100


async def test_leaving_the_stream_early_stops_the_job() -> None:
    stub = FakeLists()
    stub.turns = {f"l{i}": 10 for i in range(100)}
    items = [spec(f"l{i}") for i in range(100)]
    async with contextlib.aclosing(create_many_iter(stub, items, concurrency=4)) as stream:
        async for _ in stream:
            break
    assert workers_left() == []
    assert stub.in_flight == 0
    sent = len(stub.sent)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(stub.sent) == sent < 100


async def test_the_stream_sends_repeats_and_raises_an_input_error_after_the_outcomes() -> None:
    stub = FakeLists()
    stub.adopt = {"A"}

    def specs() -> Iterator[kca.ContactListCreate]:
        yield spec("a")
        yield spec("A")  # not compared across the input: sent, and adopted
        yield {"name": ""}  # type: ignore[misc]  # a bad spec still fails on its own
        raise OSError("input file vanished")

    seen: list[Outcome] = []

    async def consume() -> None:
        async for outcome in create_many_iter(stub, specs(), concurrency=2):
            seen.append(outcome)

    with pytest.raises(OSError, match="vanished"):
        await consume()
    assert sorted((o.name, o.status) for o in seen) == [
        ("", "failed"),
        ("A", "adopted"),
        ("a", "created"),
    ]
    assert stub.sent == ["a", "A"]
    assert workers_left() == []


async def test_the_stream_refuses_bad_arguments_before_it_is_iterated() -> None:
    with pytest.raises(kca.ValidationError) as info:
        create_many_iter(FakeLists(), [], concurrency=0)
    assert info.value.field == "concurrency"
