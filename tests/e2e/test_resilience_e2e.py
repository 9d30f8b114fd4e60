"""Faults on every operation against the fake server: what is retried, adopted, or fails."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import jwt
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._config import RATE_LIMIT_MESSAGE
from kore_campaign_async.testing import FakeKoreServer, Fault, ServerRateLimit
from tests.helpers.clients import MakeClient

Op = Callable[[kca.ContactLists, str], Awaitable[Any]]

OPERATIONS: dict[str, Op] = {
    "create": lambda lists, _id: lists.create("Made By Test", "d"),
    "get": lambda lists, list_id: lists.get(list_id),
    "update": lambda lists, list_id: lists.update(list_id, description="new"),
    "list": lambda lists, _id: lists.list(),
    "delete": lambda lists, list_id: lists.delete(list_id),
    "contacts": lambda lists, list_id: lists.list_contacts(list_id),
    "add_contacts": lambda lists, _id: lists.add_contacts(
        "Seeded", [kca.Contact(phone_number="+14155550100")]
    ),
}


@pytest.fixture
def seeded(server: FakeKoreServer) -> str:
    return str(server.seed_list("acct-1", "st-app-1", "Seeded", "d")["_id"])


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_retried(
    account: kca.Account, server: FakeKoreServer, seeded: str, operation: str, status: int
) -> None:
    server.faults.add(Fault("status", operation=operation, status=status))
    ambiguous = status in (500, 502, 504)
    if operation == "add_contacts" and ambiguous:
        # The contacts may be queued already: resending could add them twice.
        with pytest.raises(kca.InternalServerError) as info:
            await OPERATIONS[operation](account.contact_lists, seeded)
        assert info.value.attempts == 1
        return
    result = await OPERATIONS[operation](account.contact_lists, seeded)
    assert server.count(operation=operation, status=status) == 1
    meta = getattr(result, "meta", None)
    if meta is not None:
        assert meta.attempts >= 2


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("status", [400, 403, 404, 409])
async def test_other_client_errors_are_not_retried(
    account: kca.Account, server: FakeKoreServer, seeded: str, operation: str, status: int
) -> None:
    server.faults.add(
        Fault(
            "status",
            operation=operation,
            status=status,
            body={"status": "failure", "message": "refused by test"},
        )
    )
    with pytest.raises(kca.APIStatusError) as info:
        await OPERATIONS[operation](account.contact_lists, seeded)
    assert info.value.status == status
    assert info.value.attempts == 1


@pytest.mark.parametrize("operation", sorted(set(OPERATIONS) - {"add_contacts"}))
@pytest.mark.parametrize("kind", ["reset", "malformed_json", "commit_then_drop"])
async def test_lost_answers_are_retried_without_duplicates(
    account: kca.Account, server: FakeKoreServer, seeded: str, operation: str, kind: str
) -> None:
    server.faults.add(Fault(kind, operation=operation))  # type: ignore[arg-type]
    result = await OPERATIONS[operation](account.contact_lists, seeded)
    names = [doc["name"] for doc in server.lists("acct-1")]
    if operation == "create":
        assert sorted(names) == ["Made By Test", "Seeded"]  # exactly one made
        assert result.meta.adopted is (kind != "reset")  # reset happens before the commit
    if operation == "delete":
        assert names == []
        assert result.id == seeded


@pytest.mark.parametrize("kind", ["reset", "malformed_json", "commit_then_drop"])
async def test_add_contacts_is_not_resent_after_a_lost_answer(
    account: kca.Account, server: FakeKoreServer, seeded: str, kind: str
) -> None:
    server.faults.add(Fault(kind, operation="add_contacts"))  # type: ignore[arg-type]
    # An unreadable answer is no connection failure: the server did answer.
    raised = kca.APIResponseDecodeError if kind == "malformed_json" else kca.APIConnectionError
    with pytest.raises(raised) as info:
        await OPERATIONS["add_contacts"](account.contact_lists, seeded)
    assert info.value.attempts == 1
    assert server.count(operation="add_contacts") == 1


async def test_create_commit_then_drop_makes_exactly_one_list(
    account: kca.Account, server: FakeKoreServer
) -> None:
    server.faults.add_many(
        [Fault("commit_then_drop", operation="create"), Fault("status", operation="list")]
    )
    made = await account.contact_lists.create("Lost Answer", "d", allow_duplicates=True)
    assert [d["name"] for d in server.lists("acct-1")] == ["Lost Answer"]
    assert made.meta is not None
    assert made.meta.adopted
    assert made.allow_duplicates is True
    # create (dropped), lookup (503), lookup (found): three attempts, one list.
    assert made.meta.attempts == 3
    assert server.count(operation="create") == 1


async def test_plain_retry_after_unambiguous_failure_does_not_look_up(
    account: kca.Account, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("status", operation="create", status=503))
    made = await account.contact_lists.create("Plain Retry")
    assert made.meta is not None
    assert (made.meta.attempts, made.meta.adopted) == (2, False)
    assert server.count(operation="list") == 0


async def test_timeouts_are_retried(server: FakeKoreServer, make_client: MakeClient) -> None:
    server.faults.add(Fault("delay", operation="get", delay=0.5))
    seeded = server.seed_list("acct-1", "st", "Slow", "d")
    async with make_client(server, timeout=kca.Timeout(total=0.1, connect=0.1)) as client:
        got = await client.account("acct-1", iid="st").contact_lists.get(seeded["_id"])
    assert got.meta is not None
    assert got.meta.attempts == 2


async def test_timeout_per_call_overrides_client_default(
    account: kca.Account, server: FakeKoreServer, seeded: str
) -> None:
    server.faults.add(Fault("delay", operation="get", delay=0.5, times=None))
    with pytest.raises(kca.APITimeoutError) as info:
        await account.contact_lists.get(seeded, timeout=0.05, retry=kca.RetryPolicy.none())
    assert info.value.attempts == 1


async def test_401_renews_the_token_once_and_retries(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    calls = 0

    async def provider() -> str:
        nonlocal calls
        calls += 1
        secret = "x" * 40 if calls == 1 else server.client_secret  # first token is bad
        claims = {"appId": server.client_id, "sub": "t", "exp": int(time.time()) + 300}
        return jwt.encode(claims, secret, algorithm="HS256")

    async with make_client(server, token_provider=provider) as client:
        lists = await client.account("acct-1", iid="st").contact_lists.list()
    assert lists == []
    assert calls == 2
    assert server.count(status=401) == 1


async def test_long_retry_after_fails_fast_with_the_delay(
    account: kca.Account, server: FakeKoreServer
) -> None:
    server.faults.add(Fault("status", status=429, headers={"Retry-After": "600"}, times=None))
    started = time.monotonic()
    with pytest.raises(kca.RateLimitError) as info:
        await account.contact_lists.list()
    assert info.value.retry_after == 600.0
    assert info.value.attempts == 1
    assert time.monotonic() - started < 1.0


async def test_rate_limit_message_in_a_200_is_rate_limiting(
    account: kca.Account, server: FakeKoreServer
) -> None:
    server.faults.add(
        Fault(
            "status",
            status=200,
            operation="list",
            body={"status": "failure", "message": RATE_LIMIT_MESSAGE},
        )
    )
    assert await account.contact_lists.list() == []
    assert server.count(operation="list") == 2


async def test_retry_budget_fails_fast_once_spent(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    server.faults.add(Fault("status", status=503, times=None))
    budget = kca.RetryBudget(capacity=10, retry_cost=5)
    async with make_client(server, retry_budget=budget) as client:
        lists = client.account("acct-1", iid="st").contact_lists
        with pytest.raises(kca.RetryBudgetExhaustedError) as first:
            await lists.list()
        assert first.value.attempts == 3  # two retries afforded
        assert isinstance(first.value.last_error, kca.InternalServerError)
        with pytest.raises(kca.RetryBudgetExhaustedError) as second:
            await lists.list()
        assert second.value.attempts == 1


async def test_hooks_see_every_attempt_and_retry(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    attempts: list[kca.AttemptEvent] = []
    retries: list[kca.RetryEvent] = []
    server.faults.add(Fault("status", status=503, operation="list"))
    hooks = kca.Hooks(on_attempt=attempts.append, on_retry=retries.append)
    async with make_client(server, hooks=hooks) as client:
        await client.account("acct-1", iid="st").contact_lists.list()
    assert [(e.attempt, e.status) for e in attempts] == [(1, 503), (2, 200)]
    assert isinstance(attempts[0].error, kca.InternalServerError)
    assert [(r.attempt, r.operation) for r in retries] == [(1, "list")]


@attrs.define
class InFlight:
    now: int = 0
    peak: int = 0


async def traced_session(gauge: InFlight) -> aiohttp.ClientSession:
    trace = aiohttp.TraceConfig()

    async def start(*_: Any) -> None:
        gauge.now += 1
        gauge.peak = max(gauge.peak, gauge.now)

    async def end(*_: Any) -> None:
        gauge.now -= 1

    trace.on_request_start.append(start)
    trace.on_request_end.append(end)
    trace.on_request_exception.append(end)
    return aiohttp.ClientSession(trace_configs=[trace])


async def test_concurrency_per_account_is_never_exceeded(
    server: FakeKoreServer, make_client: MakeClient
) -> None:
    server.faults.add(Fault("delay", delay=0.01, times=None))
    gauge = InFlight()
    session = await traced_session(gauge)
    async with session, make_client(server, max_concurrency=3, session=session) as client:
        lists = client.account("acct-1", iid="st").contact_lists
        await asyncio.gather(*(lists.list() for _ in range(30)))
    assert gauge.peak == 3


@pytest.fixture
async def limited_server(client_clock: ManualClock) -> AsyncIterator[FakeKoreServer]:
    """10 requests per 0.1 s per account, counted on the same virtual clock as the client's.

    On real time, a loaded machine delays requests between client and server by tens of
    milliseconds and turns a 0.1 s window into noise; on one virtual clock it cannot.
    """
    async with FakeKoreServer(
        rate_limit=ServerRateLimit(limit=10, window=0.1, mode="sliding"), clock=client_clock
    ) as fake:
        yield fake


async def test_client_pacing_avoids_429s(
    limited_server: FakeKoreServer, make_client: MakeClient, client_clock: ManualClock
) -> None:
    server = limited_server
    async with make_client(server, rate_limit=kca.RateLimit(10, per=0.1)) as client:
        lists = client.account("acct-1", iid="st").contact_lists
        await asyncio.gather(*(lists.list() for _ in range(40)))
    assert server.count(status=200) == 40
    assert server.count(status=429) == 0
    # No slower than the pace requires: 39 intervals of 0.1 / 10 s after the first request,
    # each with the 2 % safety margin (no burst: an idle account is paced from its first).
    assert client_clock.now == pytest.approx(39 * 0.1 / 10 * 1.02)


async def test_a_429_pauses_the_whole_account_not_others(
    limited_server: FakeKoreServer, make_client: MakeClient, client_clock: ManualClock
) -> None:
    server = limited_server
    async with make_client(server, max_concurrency=4) as client:
        noisy = client.account("acct-noisy", iid="st").contact_lists
        quiet = client.account("acct-quiet", iid="st").contact_lists
        # The client does not know the server's limit: it learns it from 429s.
        await asyncio.gather(*(noisy.list() for _ in range(40)), quiet.list())
    assert server.count(account_id="acct-noisy", status=200) == 40
    assert server.count(account_id="acct-quiet", status=429) == 0
    # Pausing the account (not each request) keeps refusals near the in-flight count per window.
    assert 0 < server.count(account_id="acct-noisy", status=429) <= 12
    # 40 requests at 10 per 0.1 s need the window to move on three times, and the account waits
    # for each move exactly as long as the server said.
    assert client_clock.now == pytest.approx(0.3)


async def test_cancellation_leaks_nothing(server: FakeKoreServer, make_client: MakeClient) -> None:
    server.faults.add(Fault("delay", delay=0.5, times=None))
    gauge = InFlight()
    session = await traced_session(gauge)
    async with session:
        client = make_client(
            server, rate_limit=kca.RateLimit(100, per=1.0), max_concurrency=2, session=session
        )
        account = client.account("acct-1", iid="st")
        tasks = [asyncio.ensure_future(account.contact_lists.list()) for _ in range(6)]
        # Cancel once both slots hold a request the server is sitting on: a state, not a time.
        while server.count(operation="list") < 2:
            assert not any(task.done() for task in tasks)  # every list() is held by the delay
            await asyncio.sleep(0)
        assert account.limiter.in_flight == 2
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, asyncio.CancelledError) for r in results)
        assert account.limiter.in_flight == 0
        assert gauge.now == 0
        await client.aclose()
    gc.collect()
