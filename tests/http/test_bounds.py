"""Every wait of a call is bounded: the token, the account's turn, the attempt in flight.

MockTransport and a virtual clock: the handlers and providers below "take" seconds by sleeping
on the ManualClock, so hung providers and slow answers cost no real time.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import Expired, ManualClock, within
from kore_campaign_async._http.bounds import attempt_timeout
from kore_campaign_async.testing import MockTransport, json_response

HOST = "https://kore.test"
LIST: dict[str, Any] = {"_id": "cl-1", "name": "Renewal Due"}
NO_JITTER = kca.RetryPolicy(jitter=False)
# Guards the tests against hanging when a bound is missing (they then fail, not hang).
REAL_GUARD = 5.0


def ok(data: Any = LIST) -> kca.RawResponse:
    return json_response({"status": "success", "message": "", "data": data})


def client_for(
    handler: Callable[[kca.HttpRequest], Awaitable[kca.RawResponse]],
    client_clock: ManualClock,
    **kwargs: Any,
) -> kca.CampaignClient:
    kwargs.setdefault("token", "jwt-token")
    kwargs.setdefault("rate_limit", None)
    kwargs.setdefault("retry", NO_JITTER)
    return kca.CampaignClient(
        HOST,
        transport=MockTransport(handler),
        clock=client_clock,
        sleep=client_clock.sleep,
        **kwargs,
    )


def lists_of(client: kca.CampaignClient) -> kca.ContactLists:
    return client.account("acct-1", iid="st-1").contact_lists


async def answer_ok(request: kca.HttpRequest) -> kca.RawResponse:
    return ok()


class Recorder:
    """A handler that records each request and answers it with the list."""

    def __init__(self) -> None:
        self.sent: list[kca.HttpRequest] = []

    async def __call__(self, request: kca.HttpRequest) -> kca.RawResponse:
        self.sent.append(request)
        return ok()


async def never() -> str:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


# -- within: a bound on the injected clock -----------------------------------------------------


async def test_within_returns_the_result_or_cancels_at_the_bound(client_clock: ManualClock) -> None:
    assert await within(5.0, client_clock.sleep, asyncio.sleep(0, "in time")) == "in time"
    await within(5.0, client_clock.sleep, client_clock.sleep(1.0))
    assert client_clock.now == 1.0
    hung = asyncio.ensure_future(asyncio.Event().wait())
    with pytest.raises(Expired):
        await within(2.0, client_clock.sleep, hung)
    assert client_clock.now == 3.0
    assert hung.cancelled()
    assert await within(math.inf, client_clock.sleep, asyncio.sleep(0, "no bound")) == "no bound"


async def test_within_passes_errors_and_cancellation_on(client_clock: ManualClock) -> None:
    async def fails() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await within(5.0, client_clock.sleep, fails())
    inner = asyncio.ensure_future(asyncio.Event().wait())
    outer = asyncio.ensure_future(within(5.0, client_clock.sleep, inner))
    await asyncio.sleep(0)
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    await asyncio.sleep(0)
    assert inner.cancelled()


# -- 1. a token provider that hangs ----------------------------------------------------------


async def test_a_hung_provider_fails_its_waiters_then_the_next_call_fetches_afresh(
    client_clock: ManualClock,
) -> None:
    calls = 0

    async def provider() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            return await never()
        return "fresh-token"

    handler = Recorder()
    seen = handler.sent

    client = client_for(
        handler, client_clock, token=None, token_provider=provider, token_timeout=5.0
    )
    lists = lists_of(client)
    waiters = [asyncio.ensure_future(lists.get("cl-1")) for _ in range(3)]
    done = await asyncio.wait_for(
        asyncio.gather(*waiters, return_exceptions=True), timeout=REAL_GUARD
    )
    assert all(isinstance(error, kca.TokenError) for error in done)
    assert "within token_timeout (5s)" in str(done[0])
    assert [error.attempts for error in done] == [0, 0, 0]  # type: ignore[union-attr]
    assert (client_clock.now, calls, seen) == (5.0, 1, [])
    got = await asyncio.wait_for(lists.get("cl-1"), timeout=REAL_GUARD)
    assert got.id == "cl-1"
    assert calls == 2
    assert [r.headers["auth"] for r in seen] == ["fresh-token"]


async def test_a_failed_fetch_is_not_reused_even_when_every_waiter_gave_up(
    client_clock: ManualClock,
) -> None:
    outcomes: list[str | Exception] = [RuntimeError("vault down"), "fresh-token"]

    async def provider() -> str:
        await client_clock.sleep(1.0)
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    auth = kca.ProviderToken(provider, sleep=client_clock.sleep)
    waiter = asyncio.ensure_future(auth.token())
    await asyncio.sleep(0)
    waiter.cancel()  # nobody awaits the fetch when it fails
    await client_clock.sleep(2.0)
    assert await auth.token() == "fresh-token"


async def test_no_slot_is_held_while_waiting_for_a_token(client_clock: ManualClock) -> None:
    release = asyncio.Event()

    async def provider() -> str:
        await release.wait()
        return "slow-token"

    client = client_for(
        answer_ok, client_clock, token=None, token_provider=provider, max_concurrency=1
    )
    account = client.account("acct-1", iid="st-1")
    call = asyncio.ensure_future(account.contact_lists.get("cl-1"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert (account.limiter.in_flight, account.limiter.waiting) == (0, 0)
    release.set()
    assert (await asyncio.wait_for(call, timeout=REAL_GUARD)).id == "cl-1"


class StaleWhileQueued:
    """A token source whose token goes stale once, between the wait for it and the turn."""

    renewable = True

    def __init__(self) -> None:
        self.reads = 0
        self.fetches = 0

    def ready_token(self) -> str | None:
        self.reads += 1
        return None if self.reads in (2, 3) else "tok"

    async def token(self) -> str:
        self.fetches += 1
        return "tok"

    def invalidate(self, token: str) -> None:
        """Nothing to forget."""


async def test_a_token_gone_stale_in_the_queue_is_renewed_out_of_the_slot(
    client_clock: ManualClock,
) -> None:
    handler = Recorder()
    seen = handler.sent

    lists = lists_of(client_for(handler, client_clock))
    auth = StaleWhileQueued()
    lists._requester.client.auth = auth
    got = await lists.get("cl-1")
    assert got.meta is not None
    assert (got.meta.attempts, len(seen), auth.fetches) == (1, 1, 1)
    assert seen[0].headers["auth"] == "tok"


async def test_the_call_deadline_bounds_the_wait_for_a_token(client_clock: ManualClock) -> None:
    client = client_for(
        answer_ok,
        client_clock,
        token=None,
        token_provider=never,
        token_timeout=None,
        retry=kca.RetryPolicy(deadline=2.0),
    )
    with pytest.raises(kca.TokenError, match=r"deadline \(2s\)"):
        await asyncio.wait_for(lists_of(client).get("cl-1"), timeout=REAL_GUARD)
    assert client_clock.now == 2.0


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, "5", True])
def test_token_timeout_is_checked(bad: Any) -> None:
    with pytest.raises(kca.ConfigurationError, match="token_timeout"):
        kca.CampaignClient(HOST, token_provider=never, token_timeout=bad)


# -- 2. the deadline bounds the attempt in flight --------------------------------------------


def test_attempt_timeout_is_cut_to_what_is_left_of_the_deadline() -> None:
    default = kca.Timeout()
    cut = attempt_timeout
    assert cut(default, math.inf, method="GET", url="u") is default
    assert cut(default, 61.0, method="GET", url="u") is default
    assert cut(default, 4.0, method="GET", url="u") == kca.Timeout(total=4.0, connect=4.0)
    assert cut(default, 30.0, method="GET", url="u") == kca.Timeout(total=30.0, connect=10.0)
    unbounded = kca.Timeout(total=None, connect=None)
    assert cut(unbounded, 0.5, method="GET", url="u") == kca.Timeout(total=0.5, connect=0.5)
    with pytest.raises(kca.APITimeoutError, match="deadline passed before sending") as caught:
        cut(default, 0.0, method="GET", url="u")
    assert caught.value.request_sent is False


async def test_each_attempt_gets_what_is_left_of_the_deadline(client_clock: ManualClock) -> None:
    seen: list[kca.HttpRequest] = []

    async def slow_then_ok(request: kca.HttpRequest) -> kca.RawResponse:
        seen.append(request)
        if len(seen) == 1:
            await client_clock.sleep(4.0)
            return json_response({"errors": [{"msg": "busy"}]}, status=503)
        return ok()

    policy = kca.RetryPolicy(deadline=10.0, jitter=False, backoff_base=0.5)
    client = client_for(slow_then_ok, client_clock, retry=policy, timeout=None)
    got = await lists_of(client).get("cl-1")
    assert got.meta is not None
    assert got.meta.attempts == 2
    assert [r.timeout for r in seen] == [
        kca.Timeout(total=10.0, connect=10.0),
        kca.Timeout(total=5.5, connect=5.5),  # retried at 4.5 s
    ]


async def test_time_queued_for_the_turn_does_not_count_against_the_deadline(
    client_clock: ManualClock,
) -> None:
    seen: list[tuple[float, kca.Timeout]] = []

    async def handler(request: kca.HttpRequest) -> kca.RawResponse:
        seen.append((client_clock.now, request.timeout))
        return ok()

    client = client_for(
        handler,
        client_clock,
        rate_limit=kca.RateLimit(1, per=60.0),
        retry=kca.RetryPolicy(deadline=30.0),
    )
    lists = lists_of(client)
    await asyncio.gather(lists.get("cl-1"), lists.get("cl-1"))
    # The second waited one interval (60 s plus the pacer's 2 % margin) for its permit, longer
    # than its deadline, and still has it all.
    assert seen[1][0] == pytest.approx(61.2)
    assert seen[1][1].total == pytest.approx(30.0)


# -- 3. a bound on the wait for the account's turn -------------------------------------------


async def test_a_turn_further_than_max_queue_wait_fails_unsent_with_an_estimate(
    client_clock: ManualClock,
) -> None:
    handler = Recorder()
    seen = handler.sent

    client = client_for(handler, client_clock, rate_limit=kca.RateLimit(1, per=60.0))
    lists = lists_of(client)
    await lists.get("cl-1")
    impatient = attrs.evolve(NO_JITTER, max_queue_wait=5.0)
    with pytest.raises(kca.RateLimitError, match=r"max_queue_wait \(5s\)") as caught:
        await asyncio.wait_for(lists.get("cl-1", retry=impatient), timeout=REAL_GUARD)
    error = caught.value
    assert (error.request_sent, error.attempts, error.method) == (False, 0, "GET")
    assert error.retry_after == pytest.approx(60.0)
    assert client_clock.now == pytest.approx(5.0)  # gave up once, never retried
    assert len(seen) == 1
    account = client.account("acct-1", iid="st-1")
    assert (account.limiter.in_flight, account.limiter.waiting) == (0, 0)
    await lists.get("cl-1")  # the refused call left nothing behind
    assert len(seen) == 2


async def test_max_queue_wait_bounds_a_wait_for_a_concurrency_slot(
    client_clock: ManualClock,
) -> None:
    release = asyncio.Event()

    async def handler(request: kca.HttpRequest) -> kca.RawResponse:
        await release.wait()
        return ok()

    client = client_for(handler, client_clock, max_concurrency=1)
    lists = lists_of(client)
    first = asyncio.ensure_future(lists.get("cl-1"))
    await asyncio.sleep(0)
    impatient = attrs.evolve(NO_JITTER, max_queue_wait=1.0)
    with pytest.raises(kca.RateLimitError) as caught:
        await asyncio.wait_for(lists.get("cl-1", retry=impatient), timeout=REAL_GUARD)
    assert caught.value.retry_after is None  # no rate, no pause: nothing to estimate from
    release.set()
    assert (await first).id == "cl-1"


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_max_queue_wait_is_checked(bad: float) -> None:
    with pytest.raises(kca.ConfigurationError, match="max_queue_wait"):
        kca.RetryPolicy(max_queue_wait=bad)
