"""Idle accounts are freed, yet no pause, pacing debt, spent budget or limit is ever forgotten."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tracemalloc
import weakref
from collections.abc import Iterator

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.outcomes import Turn
from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.store import AccountKey, LocalLimitStore
from kore_campaign_async.testing import MockTransport
from tests.helpers.clients import MakeClient, RecordingSleep
from tests.helpers.scripts import LIST, ok

TWO_PER_MINUTE = kca.RateLimit(2, per=60.0)
SETTINGS = PacingSettings(2, 60.0)


async def one_request(account: kca.Account) -> Turn:
    """Go through the account's limiter as a request does; return its turn."""
    async with account.limiter.slot() as turn:
        pass
    turn.succeeded()
    return turn


def dropped_limiter(client: kca.CampaignClient, account_id: str) -> weakref.ref[AccountLimiter]:
    """Make a handle, drop it and collect: a weak reference to the limiter it had."""
    limiter = weakref.ref(client.account(account_id, iid="st-1").limiter)
    gc.collect()
    return limiter


def forget_idle_states(client: kca.CampaignClient) -> int:
    assert isinstance(client.limit_store, LocalLimitStore)
    return client.limit_store.forget_idle()


async def test_a_handle_is_the_same_while_referenced_and_freed_when_idle(
    make_client: MakeClient,
) -> None:
    client = make_client(rate_limit=TWO_PER_MINUTE)
    handle = client.account("acc-1", iid="st-1")
    await one_request(handle)
    assert client.account("acc-1", iid="st-1") is handle
    limiter = weakref.ref(handle.limiter)
    del handle
    gc.collect()
    assert limiter() is None


async def test_an_unused_handle_leaves_no_limiter_and_no_store_listener(
    make_client: MakeClient,
) -> None:
    client = make_client(rate_limit=TWO_PER_MINUTE)
    assert dropped_limiter(client, "acc-1")() is None
    assert isinstance(client.limit_store, LocalLimitStore)
    assert not client.limit_store._listeners._listeners


async def test_a_new_handle_after_reclaim_still_refuses_other_limits(
    make_client: MakeClient,
) -> None:
    client = make_client()
    first = weakref.ref(client.account("acc-1", iid="st-1", rate_limit=TWO_PER_MINUTE).limiter)
    gc.collect()
    assert first() is None
    with pytest.raises(kca.ConfigurationError, match="already has rate_limit"):
        client.account("acc-1", iid="st-1", rate_limit=kca.RateLimit(3, per=60.0))
    with pytest.raises(kca.ConfigurationError, match="already has max_concurrency"):
        client.account("acc-1", iid="st-2", max_concurrency=99)
    # Not giving them again means the account's limits, not the client's defaults.
    again = client.account("acc-1", iid="st-1")
    assert again.limiter.rate_limit == TWO_PER_MINUTE


async def test_pacing_debt_survives_a_freed_handle(
    make_client: MakeClient, client_clock: ManualClock
) -> None:
    client = make_client(rate_limit=TWO_PER_MINUTE)
    await one_request(client.account("acc-1", iid="st-1"))
    gc.collect()
    # Nothing held the limiter: it is gone, and the debt lives in the store, which keeps it.
    assert dropped_limiter(client, "acc-1")() is None
    assert forget_idle_states(client) == 0
    assert (await one_request(client.account("acc-1", iid="st-1"))).began == pytest.approx(30.6)


@pytest.mark.parametrize("rate_limit", [TWO_PER_MINUTE, None])
async def test_a_pause_survives_a_handle_dropped_mid_pause(
    make_client: MakeClient, client_clock: ManualClock, rate_limit: kca.RateLimit | None
) -> None:
    client = make_client(rate_limit=rate_limit)
    handle = client.account("acc-1", iid="st-1")
    turn = await one_request(handle)
    turn.rate_limited(100.0)
    del handle
    gc.collect()
    client_clock.advance(40.0)
    assert client.forget_idle() == 0
    forget_idle_states(client)
    gc.collect()
    assert (await one_request(client.account("acc-1", iid="st-1"))).began == pytest.approx(100.0)


async def test_a_kept_account_is_freed_once_idle(
    make_client: MakeClient, client_clock: ManualClock
) -> None:
    client = make_client()
    handle = client.account("acc-1", iid="st-1")
    handle.limiter.on_rate_limited(10.0)
    limiter = weakref.ref(handle.limiter)
    del handle
    gc.collect()
    assert limiter() is not None
    client_clock.advance(10.0)
    assert client.forget_idle() == 1
    gc.collect()
    assert limiter() is None


async def test_kept_accounts_are_swept_as_they_grow(
    make_client: MakeClient, client_clock: ManualClock
) -> None:
    client = make_client()

    def paused_and_dropped(prefix: str) -> list[weakref.ref[AccountLimiter]]:
        limiters = []
        for i in range(100):
            handle = client.account(f"{prefix}-{i}", iid="st-1")
            handle.limiter.on_rate_limited(10.0)
            limiters.append(weakref.ref(handle.limiter))
        return limiters

    first = paused_and_dropped("first")
    gc.collect()
    assert all(limiter() is not None for limiter in first)
    client_clock.advance(10.0)
    # No call to forget_idle: keeping more accounts than at the last sweep starts one.
    second = paused_and_dropped("second")
    gc.collect()
    assert all(limiter() is None for limiter in first)
    assert all(limiter() is not None for limiter in second)


async def test_a_spent_retry_budget_survives_a_dropped_handle(make_client: MakeClient) -> None:
    client = make_client()
    handle = client.account("acc-1", iid="st-1")
    assert handle.retry_budget is not None
    assert handle.retry_budget.try_spend(RuntimeError())
    left = handle.retry_budget.available
    del handle
    gc.collect()
    again = client.account("acc-1", iid="st-1")
    assert again.retry_budget is not None
    assert again.retry_budget.available == left


async def test_a_handle_dropped_with_a_request_in_flight_keeps_its_limiter(
    make_client: MakeClient, client_sleep: RecordingSleep
) -> None:
    client = make_client(max_concurrency=1)
    handle = client.account("acc-1", iid="st-1")
    async with handle.limiter.slot():
        limiter = weakref.ref(handle.limiter)
        del handle
        gc.collect()
        assert client.account("acc-1", iid="st-2").limiter is limiter()
        assert client.account("acc-1", iid="st-2").limiter.in_flight == 1


async def test_an_idle_account_keeps_a_small_fraction_of_a_handle() -> None:
    clock = ManualClock()
    async with kca.CampaignClient(
        "https://kore.example", token="t", clock=clock, sleep=clock.sleep
    ) as client:
        count = 2_000
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            handles = [client.account(f"acc-{i}", iid="st-1") for i in range(count)]
            for handle in handles[:100]:
                await one_request(handle)
            held = tracemalloc.get_traced_memory()[0] - before
            del handles, handle
            clock.advance(3600.0)
            forget_idle_states(client)
            gc.collect()
            kept = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    assert held / count > 1_000  # a handle (it was 2.4 KB, shared structures made it smaller)
    assert kept / count < 300
    assert kept < held / 5


async def test_client_forget_idle_drops_the_pacing_of_its_own_store_only(
    make_client: MakeClient, client_clock: ManualClock
) -> None:
    own = make_client(rate_limit=TWO_PER_MINUTE)
    given = LocalLimitStore(clock=client_clock)
    sharing = make_client(rate_limit=TWO_PER_MINUTE, limit_store=given)
    for client in (own, sharing):
        await one_request(client.account("acc-1", iid="st-1"))
    gc.collect()
    key = AccountKey(own.host, "acc-1")
    own.forget_idle()
    assert isinstance(own.limit_store, LocalLimitStore)
    assert own.limit_store.state(key) is not None  # the pace still owes: kept
    client_clock.advance(60.0)
    own.forget_idle()
    sharing.forget_idle()
    assert own.limit_store.state(key) is None
    # A store the client was given is its owner's to sweep.
    assert given.state(key) is not None


def test_the_store_drops_only_states_that_pace_as_fresh_ones() -> None:
    clock = ManualClock()
    store = LocalLimitStore(clock=clock)
    owed, paused, idle = (AccountKey("h", name) for name in ("owed", "paused", "idle"))
    for key in (owed, paused, idle):
        store.apply(key, SETTINGS, "permit")
    store.apply(paused, SETTINGS, "429", retry_after=100.0)
    clock.advance(31.0)  # the idle account's next permit is due; the paused one still waits
    store.apply(owed, SETTINGS, "permit")
    assert store.forget_idle() == 1
    assert store.state(idle) is None
    assert store.state(owed) is not None
    assert store.state(paused) is not None
    with pytest.raises(kca.ConfigurationError, match="already paced"):
        store.apply(idle, PacingSettings(3, 60.0), "permit")


def test_the_store_forgets_idle_states_as_it_grows() -> None:
    clock = ManualClock()
    store = LocalLimitStore(clock=clock)
    for i in range(10_000):
        store.apply(AccountKey("h", f"acc-{i}"), SETTINGS, "permit")
        clock.advance(1.0)
    # States older than a pacing interval (30.6 s) pace as fresh ones: at most twice the rest.
    assert len(store._states) < 200


@contextlib.contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """Collect what only the cyclic collector could free while the block runs, into the list."""
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    found: list[object] = []
    try:
        yield found
        gc.collect()
        found.extend(gc.garbage)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize("rate_limit", [kca.RateLimit(60, per=60.0), None])
async def test_requests_and_dropped_accounts_leave_no_reference_cycles(
    make_client: MakeClient, rate_limit: kca.RateLimit | None
) -> None:
    client = make_client(transport=MockTransport(lambda request: ok(LIST)), rate_limit=rate_limit)
    await client.account("warm", iid="st-1").contact_lists.create("warm", "d")
    with cyclic_garbage() as garbage:
        accounts = [client.account(f"acc-{i}", iid="st-1") for i in range(5)]
        made = await asyncio.gather(
            *(account.contact_lists.create(f"l-{n}", "d") for account in accounts for n in range(3))
        )
        del accounts
    assert len(made) == 15
    # Freed by reference counting alone: nothing waits for the collector, whose every pass
    # walks what thousands of accounts keep alive.
    assert [type(thing).__name__ for thing in garbage] == []


async def test_a_freed_limiter_leaves_no_entry_behind(make_client: MakeClient) -> None:
    client = make_client(transport=MockTransport(lambda request: ok(LIST)))
    handle = client.account("acc-1", iid="st-1")
    await handle.contact_lists.create("l-1", "d")
    limiter = handle.limiter
    assert client._accounts.limiter("acc-1") == (limiter, handle.retry_budget)
    del handle, limiter
    # Freed by reference counting: the one entry of the account (limiter and budget) goes too.
    assert client._accounts.limiter("acc-1") is None
    assert "acc-1" not in client._accounts._alive
    assert client._accounts.all_limiters() == []


def test_accounts_with_equal_rate_limits_share_one_pacing_settings(make_client: MakeClient) -> None:
    client = make_client(rate_limit=kca.RateLimit(60, per=60.0))
    first = client.account("acc-1", iid="st-1").limiter._settings
    second = client.account("acc-2", iid="st-1", rate_limit=kca.RateLimit(60, per=60.0))
    other = client.account("acc-3", iid="st-1", rate_limit=kca.RateLimit(30, per=60.0))
    assert first is not None
    assert second.limiter._settings is first
    assert other.limiter._settings is not None
    assert other.limiter._settings.requests == 30
