"""Retry decisions, policy validation, the retry budget and retry_failed.

``attempts`` on the errors a call raises is the request path's to set: see
tests/http/test_request_errors.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
import tenacity

from kore_campaign_async._clock import Deadline, ManualClock
from kore_campaign_async._exceptions import (
    APIConnectionError,
    APIResponseDecodeError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryBudgetExhaustedError,
    TokenError,
    ValidationError,
)
from kore_campaign_async._http.policy import (
    RetryBudget,
    RetryPolicy,
    is_ambiguous,
    is_retryable,
)
from kore_campaign_async._http.responses import status_error
from kore_campaign_async._http.retry import retry_failed
from kore_campaign_async._http.transport import RawResponse
from kore_campaign_async._observe.events import RetryEvent
from kore_campaign_async._observe.hooks import Hooks, HookSubscriber
from kore_campaign_async._observe.log import LOGS
from kore_campaign_async._observe.observer import ObservedCall, Observer
from tests.helpers.clients import RecordingSleep
from tests.helpers.scripts import LIST, ListsFor, Script, ok

URL = "https://platform.kore.ai/x"


def status(cls: type[APIStatusError], code: int, **kwargs: object) -> APIStatusError:
    return cls("boom", status=code, method="POST", url=URL, **kwargs)  # type: ignore[arg-type]


def rate_limited(retry_after: float | None = None) -> RateLimitError:
    return RateLimitError("slow down", retry_after=retry_after, status=429, method="GET", url=URL)


POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("error", "retryable", "ambiguous"),
    [
        pytest.param(APIConnectionError("refused", request_sent=False), True, False, id="refused"),
        pytest.param(APIConnectionError("reset", request_sent=True), True, True, id="reset"),
        pytest.param(APITimeoutError("connect", request_sent=False), True, False, id="timeout-c"),
        pytest.param(APITimeoutError("read", request_sent=True), True, True, id="timeout-read"),
        pytest.param(APIResponseDecodeError("bad json", status=200), True, True, id="decode"),
        pytest.param(rate_limited(), True, False, id="429"),
        pytest.param(status(RateLimitError, 200), True, False, id="rate-limit-message-in-200"),
        pytest.param(status(APIStatusError, 408), True, False, id="408"),
        pytest.param(status(InternalServerError, 500), True, True, id="500"),
        pytest.param(status(InternalServerError, 502), True, True, id="502"),
        pytest.param(status(InternalServerError, 503), True, False, id="503"),
        pytest.param(status(InternalServerError, 504), True, True, id="504"),
        pytest.param(status(InternalServerError, 501), False, False, id="501"),
        pytest.param(status(BadRequestError, 400), False, False, id="400"),
        pytest.param(status(AuthenticationError, 401), False, False, id="401"),
        pytest.param(status(PermissionDeniedError, 403), False, False, id="403"),
        pytest.param(status(NotFoundError, 404), False, False, id="404"),
        pytest.param(status(ConflictError, 409), False, False, id="409"),
        pytest.param(ValidationError("name", "too long"), False, False, id="validation"),
        pytest.param(ConfigurationError("bad"), False, False, id="configuration"),
        pytest.param(TokenError("no jwt"), False, False, id="token"),
        pytest.param(RetryBudgetExhaustedError("spent"), False, False, id="budget"),
        pytest.param(asyncio.CancelledError(), False, False, id="cancelled"),
        pytest.param(ValueError("bug"), False, False, id="other"),
    ],
)
def test_retry_and_ambiguity_table(error: BaseException, retryable: bool, ambiguous: bool) -> None:
    assert is_retryable(error, POLICY) is retryable
    assert is_ambiguous(error) is ambiguous


def test_retry_statuses_are_the_policys() -> None:
    only_503 = RetryPolicy(retry_statuses={503})
    assert not is_retryable(status(InternalServerError, 500), only_503)
    assert is_retryable(status(InternalServerError, 503), only_503)
    assert is_retryable(rate_limited(), RetryPolicy(retry_statuses=()))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"backoff_base": -1.0}, "backoff_base"),
        ({"backoff_base": float("nan")}, "backoff_base"),
        ({"backoff_cap": 0.1}, "backoff_cap"),
        ({"backoff_cap": float("inf")}, "backoff_cap"),
        ({"deadline": 0.0}, "deadline"),
        ({"deadline": float("inf")}, "deadline"),
        ({"max_retry_after": -0.5}, "max_retry_after"),
        ({"retry_statuses": {429, 99}}, "retry_statuses"),
    ],
)
def test_policy_rejects_bad_values(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"RetryPolicy.{field} must be"):
        RetryPolicy(**changes)
    with pytest.raises(ConfigurationError, match=field):
        attrs.evolve(POLICY, **changes)


def test_policy_defaults_and_none() -> None:
    assert POLICY.max_attempts == 5
    assert POLICY.deadline == 300.0
    assert POLICY.retry_statuses == frozenset({408, 429, 500, 502, 503, 504})
    assert RetryPolicy(deadline=None, backoff_base=0, backoff_cap=0).deadline is None
    assert RetryPolicy.none().enabled is False
    assert RetryPolicy.none().max_attempts == 1


def test_budget_spends_refunds_and_caps() -> None:
    budget = RetryBudget(capacity=20)
    assert budget.try_spend(status(InternalServerError, 503))
    assert budget.available == 15
    assert budget.try_spend(APITimeoutError("slow"))
    assert budget.available == 5
    assert not budget.try_spend(APITimeoutError("slow"))
    assert budget.available == 5  # a refused spend takes nothing
    assert budget.try_spend(rate_limited())
    assert not budget.try_spend(rate_limited())
    budget.refund()
    assert budget.available == 1
    budget.refund(100)
    assert budget.available == 20


@pytest.mark.parametrize("field", ["capacity", "retry_cost", "timeout_cost", "success_refund"])
def test_budget_rejects_bad_values(field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"RetryBudget.{field} must be"):
        RetryBudget(**{field: -1})


Outcome = Callable[[], Awaitable[str]]


def failing(*errors: BaseException) -> tuple[Outcome, list[int]]:
    """Raise ``errors`` in turn, then succeed; record the attempt numbers seen."""
    seen: list[int] = []

    async def fn() -> str:
        attempt = len(seen) + 1
        seen.append(attempt)
        if attempt <= len(errors):
            raise errors[attempt - 1]
        return f"ok@{attempt}"

    return fn, seen


def observing(on_retry: Callable[[RetryEvent], None] | None) -> ObservedCall:
    """The observation of one call: its logs, and the caller's ``on_retry`` hook."""
    observer = Observer([LOGS, HookSubscriber(Hooks(on_retry=on_retry))])
    return observer.call("create", "acct-1", "POST", URL)


async def run_with_retries(
    fn: Outcome,
    *,
    policy: RetryPolicy,
    budget: RetryBudget | None,
    clock: ManualClock,
    sleep: Callable[[float], Awaitable[None]],
    operation: str = "",
    observed: ObservedCall | None = None,
) -> str:
    """A call's attempts as ``Requester.call`` runs them: the first bare, a failure handed to
    ``retry_failed`` (a first success's refund is the requester's: tested through a client)."""
    try:
        return await fn()
    except Exception as failure:
        first = failure
    deadline = Deadline(policy.deadline, clock)
    return await retry_failed(
        fn,
        first,
        policy=policy,
        budget=budget,
        sleep=sleep,
        deadline=deadline,
        operation=operation,
        observed=observed,
    )


async def run(
    fn: Outcome,
    client_clock: ManualClock,
    client_sleep: RecordingSleep,
    policy: RetryPolicy = POLICY,
    budget: RetryBudget | None = None,
    on_retry: Callable[[RetryEvent], None] | None = None,
) -> str:
    return await run_with_retries(
        fn,
        policy=policy,
        budget=budget,
        clock=client_clock,
        sleep=client_sleep,
        operation="contact_lists.create",
        observed=observing(on_retry),
    )


async def test_retries_until_success_and_reports_each_retry(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    fn, seen = failing(status(InternalServerError, 503), APIConnectionError("reset"))
    events: list[RetryEvent] = []
    policy = RetryPolicy(jitter=False)
    assert await run(fn, client_clock, client_sleep, policy, on_retry=events.append) == "ok@3"
    assert seen == [1, 2, 3]
    assert client_sleep.waits == [0.5, 1.0]
    assert [(e.attempt, e.wait, e.operation) for e in events] == [
        (1, 0.5, "contact_lists.create"),
        (2, 1.0, "contact_lists.create"),
    ]
    assert isinstance(events[1].error, APIConnectionError)
    assert client_clock.now == pytest.approx(1.5)


async def test_backoff_doubles_up_to_the_cap(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    errors = [status(InternalServerError, 502)] * 6
    fn, _ = failing(*errors)
    policy = RetryPolicy(max_attempts=7, backoff_base=1.0, backoff_cap=5.0, jitter=False)
    await run(fn, client_clock, client_sleep, policy)
    assert client_sleep.waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


async def test_jitter_stays_between_half_and_all_of_the_backoff(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    for _ in range(20):
        fn, _ = failing(*[status(InternalServerError, 500)] * 4)
        await run(fn, client_clock, client_sleep, RetryPolicy(backoff_base=1.0, backoff_cap=6.0))
    firsts, seconds, thirds, fourths = (client_sleep.waits[i::4] for i in range(4))
    for waits, full in ((firsts, 1.0), (seconds, 2.0), (thirds, 4.0), (fourths, 6.0)):
        assert all(full / 2 <= w <= full for w in waits)
        assert len(set(waits)) > 1  # really random


async def test_gives_up_with_the_last_error_itself(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    last = status(InternalServerError, 504)
    fn, seen = failing(status(InternalServerError, 500), status(InternalServerError, 502), last)
    with pytest.raises(InternalServerError) as caught:
        await run(fn, client_clock, client_sleep, RetryPolicy(max_attempts=3))
    assert caught.value is last
    assert seen == [1, 2, 3]
    assert len(client_sleep.waits) == 2


@pytest.mark.parametrize(
    "error",
    [status(BadRequestError, 400), ValidationError("name", "empty"), TokenError("no")],
)
async def test_non_retryable_errors_fail_at_once(
    client_clock: ManualClock, client_sleep: RecordingSleep, error: Exception
) -> None:
    fn, seen = failing(error)
    with pytest.raises(type(error)) as caught:
        await run(fn, client_clock, client_sleep)
    assert caught.value is error
    assert seen == [1]
    assert client_sleep.waits == []


async def test_disabled_policy_makes_exactly_one_attempt(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    fn, seen = failing(status(InternalServerError, 503))
    with pytest.raises(InternalServerError):
        await run(fn, client_clock, client_sleep, RetryPolicy(enabled=False))
    assert seen == [1]
    fn, _ = failing()
    assert await run(fn, client_clock, client_sleep, RetryPolicy.none()) == "ok@1"


async def test_deadline_stops_instead_of_waiting_past_it(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    tries: list[float] = []

    async def slow_failure() -> str:
        client_clock.advance(1.0)  # each attempt itself takes a second
        tries.append(client_clock.now)
        raise status(InternalServerError, 503)

    policy = RetryPolicy(max_attempts=10, backoff_base=2.0, jitter=False, deadline=12.0)
    with pytest.raises(InternalServerError) as caught:
        await run(slow_failure, client_clock, client_sleep, policy)
    # t=1 wait 2 -> t=4 wait 4 -> t=9, a wait of 8 would end at 17 > 12: stop.
    assert client_sleep.waits == [2.0, 4.0]
    assert len(tries) == 3
    assert isinstance(caught.value, InternalServerError)
    assert client_clock.now == pytest.approx(9.0)


async def test_retry_after_is_waited_exactly(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    fn, _ = failing(rate_limited(7.25), rate_limited(None), rate_limited(0.0))
    policy = RetryPolicy(backoff_base=3.0, jitter=False)
    assert await run(fn, client_clock, client_sleep, policy) == "ok@4"
    # Server-directed waits as given, even shorter than the backoff; else the backoff.
    assert client_sleep.waits == [7.25, 6.0, 0.0]


@pytest.mark.parametrize("code", [408, 500, 502, 503, 504])
async def test_retry_after_on_other_statuses_is_honoured(
    client_clock: ManualClock, client_sleep: RecordingSleep, code: int
) -> None:
    cls = InternalServerError if code >= 500 else APIStatusError
    fn, _ = failing(status(cls, code, retry_after=1.75))
    await run(fn, client_clock, client_sleep, RetryPolicy(jitter=False))
    assert client_sleep.waits == [1.75]


async def test_too_long_retry_after_on_a_503_raises_the_503_at_once(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    error = status(InternalServerError, 503, retry_after=121.0)
    assert error.retry_after == 121.0
    fn, seen = failing(error)
    with pytest.raises(InternalServerError) as caught:
        await run(fn, client_clock, client_sleep, RetryPolicy(max_retry_after=120.0))
    assert caught.value is error
    assert seen == [1]
    assert client_sleep.waits == []


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after": "nan"}, None),
        ({"Retry-After": "-1"}, None),
        ({"Retry-After": "999999"}, 999999.0),  # reported in full: no cliff at one day
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
    ],
)
def test_every_status_error_reads_retry_after(
    headers: dict[str, str], expected: float | None
) -> None:
    for code in (503, 400):
        answer = RawResponse(code, headers, b"")
        assert status_error(answer, method="POST", url=URL).retry_after == expected
    # Given explicitly (as for a 429), the value wins over the headers.
    assert status(InternalServerError, 503, headers=headers, retry_after=4.0).retry_after == 4.0


async def test_too_long_retry_after_raises_at_once(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    error = rate_limited(120.5)
    fn, seen = failing(error)
    with pytest.raises(RateLimitError) as caught:
        await run(fn, client_clock, client_sleep, RetryPolicy(max_retry_after=120.0))
    assert caught.value is error
    assert seen == [1]
    assert client_sleep.waits == []


async def test_retry_after_past_the_deadline_stops(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    fn, seen = failing(rate_limited(90.0))
    with pytest.raises(RateLimitError):
        await run(fn, client_clock, client_sleep, RetryPolicy(deadline=60.0))
    assert seen == [1]
    assert client_sleep.waits == []


async def test_exhausted_budget_fails_fast(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    budget = RetryBudget(capacity=10)
    errors = [status(InternalServerError, 503) for _ in range(5)]
    fn, seen = failing(*errors)
    with pytest.raises(RetryBudgetExhaustedError, match="retry budget exhausted") as caught:
        await run(fn, client_clock, client_sleep, RetryPolicy(max_attempts=5), budget=budget)
    assert seen == [1, 2, 3]  # two retries of cost 5, the third refused
    assert caught.value.last_error is errors[2]
    assert caught.value.__cause__ is errors[2]
    assert budget.available == 0
    # The next call fails fast after its first failure: no more storms.
    fn, seen = failing(status(InternalServerError, 503))
    with pytest.raises(RetryBudgetExhaustedError):
        await run(fn, client_clock, client_sleep, budget=budget)
    assert seen == [1]


async def test_budget_refunds_botocore_style(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    budget = RetryBudget(capacity=100)
    fn, _ = failing(APITimeoutError("slow"), status(InternalServerError, 503))
    await run(fn, client_clock, client_sleep, budget=budget)
    # Spent 10 + 5; the success after retries gives back its last retry's cost.
    assert budget.available == 90


async def test_cancellation_is_never_retried(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    budget = RetryBudget(capacity=10)
    fn, seen = failing(asyncio.CancelledError())
    with pytest.raises(asyncio.CancelledError):
        await run(fn, client_clock, client_sleep, budget=budget)
    assert seen == [1]
    assert client_sleep.waits == []
    assert budget.available == 10


async def test_cancellation_during_backoff_stops_the_call(client_clock: ManualClock) -> None:
    fn, seen = failing(*[status(InternalServerError, 503)] * 5)
    backing_off = asyncio.Event()
    task = asyncio.ensure_future(
        run_with_retries(
            fn,
            policy=POLICY,
            budget=None,
            clock=client_clock,
            sleep=client_clock.sleep,
            observed=observing(lambda _: backing_off.set()),
        )
    )
    await backing_off.wait()
    assert client_clock.sleepers == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [1]
    assert client_clock.sleepers == 0


async def test_retries_are_logged_at_info(
    client_clock: ManualClock, client_sleep: RecordingSleep, caplog: pytest.LogCaptureFixture
) -> None:
    fn, _ = failing(status(InternalServerError, 503))
    with caplog.at_level(logging.DEBUG, logger="kore_campaign_async"):
        await run(fn, client_clock, client_sleep, RetryPolicy(jitter=False))
    [record] = caplog.records
    assert record.levelno == logging.INFO
    assert record.getMessage().startswith(
        "contact_lists.create for account acct-1: retrying in 0.5 s after attempt 1: "
        "InternalServerError: 503 "
    )


async def test_concurrent_calls_keep_their_own_state(client_clock: ManualClock) -> None:
    budget = RetryBudget(capacity=10_000)

    async def call(i: int) -> str:
        fn, _ = failing(*[status(InternalServerError, 503)] * (i % 4))
        return await run_with_retries(
            fn, policy=POLICY, budget=budget, clock=client_clock, sleep=client_clock.sleep
        )

    results = await asyncio.gather(*(call(i) for i in range(100)))
    assert results == [f"ok@{i % 4 + 1}" for i in range(100)]


_AsyncRetrying = tenacity.AsyncRetrying


class CountingRetrying(_AsyncRetrying):
    """Stand in for tenacity.AsyncRetrying and count the instances made."""

    made = 0

    def __init__(self, **kwargs: Any) -> None:
        type(self).made += 1
        super().__init__(**kwargs)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingRetrying]:
    CountingRetrying.made = 0
    monkeypatch.setattr(tenacity, "AsyncRetrying", CountingRetrying)
    return CountingRetrying


async def test_a_first_attempt_that_succeeds_builds_no_tenacity_machinery(
    lists_for: ListsFor, counting: type[CountingRetrying]
) -> None:
    budget = RetryBudget(capacity=10, success_refund=1)
    budget.try_spend(status(InternalServerError, 503))
    script = Script(ok(LIST), ok(LIST))
    lists = lists_for(script, retry_budget=budget)
    await lists.get("cl-1")
    assert counting.made == 0
    assert budget.available == 6  # a first-attempt success refunds success_refund
    await lists.get("cl-1")
    assert budget.available == 7
    assert len(script.sent) == 2


async def test_each_failed_first_attempt_hands_over_to_a_fresh_async_retrying(
    client_clock: ManualClock, client_sleep: RecordingSleep, counting: type[CountingRetrying]
) -> None:
    for _ in range(3):
        fn, seen = failing(status(InternalServerError, 503))
        assert await run(fn, client_clock, client_sleep, RetryPolicy(jitter=False)) == "ok@2"
        assert seen == [1, 2]
    assert counting.made == 3
    assert client_sleep.waits == [0.5, 0.5, 0.5]


async def test_later_errors_do_not_chain_to_the_first(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> None:
    first, last = status(InternalServerError, 503), APIConnectionError("reset")
    fn, seen = failing(first, last)
    with pytest.raises(APIConnectionError) as caught:
        await run(fn, client_clock, client_sleep, RetryPolicy(max_attempts=2))
    assert caught.value is last
    assert caught.value.__context__ is None
    assert seen == [1, 2]
