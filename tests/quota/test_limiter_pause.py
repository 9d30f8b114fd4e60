"""AccountLimiter: an account pause is never waited out past what a caller accepts."""

from __future__ import annotations

import asyncio
import math

import pytest

from kore_campaign_async._clock import ManualClock, asyncio_sleep, monotonic
from kore_campaign_async._exceptions import RateLimitError
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.rate_limit import RateLimit

# An hour's cap: these tests pause accounts for up to ten minutes to test the callers' bounds
# (by default one 429 pauses an account for at most two windows: see the test at the end).
PER_MINUTE = RateLimit(60, 60.0, max_pause=3600.0)


def limiter_for(
    clock: ManualClock, rate: RateLimit | None = PER_MINUTE, concurrency: int = 8
) -> AccountLimiter:
    return AccountLimiter(rate, concurrency, clock=clock, sleep=clock.sleep)


async def settle() -> None:
    """Let started tasks park (fewer loop turns than ManualClock waits before a jump)."""
    for _ in range(8):
        await asyncio.sleep(0)


async def enter(limiter: AccountLimiter, max_pause: float, deadline_at: float = math.inf) -> float:
    async with limiter.slot(max_pause=max_pause, deadline_at=deadline_at) as turn:
        return turn.began


def assert_refused(outcome: object, left: float) -> None:
    assert isinstance(outcome, RateLimitError)
    assert outcome.retry_after == pytest.approx(left)
    assert outcome.request_sent is False
    assert outcome.status == 429


def assert_idle(limiter: AccountLimiter) -> None:
    assert limiter.in_flight == 0
    assert limiter.waiting == 0


async def test_a_pause_longer_than_the_bound_refuses_at_once() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock)
    limiter.on_rate_limited(600.0)
    with pytest.raises(RateLimitError) as caught:
        await enter(limiter, max_pause=120.0)
    assert_refused(caught.value, 600.0)
    assert clock.now == 0.0  # nothing waited
    assert_idle(limiter)
    # Unbounded callers still honour the pause, and the refusal leaked no slot or turn.
    assert await enter(limiter, max_pause=math.inf) == pytest.approx(600.0)


async def test_a_pause_within_the_bound_is_waited_out() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock)
    limiter.on_rate_limited(30.0)
    assert await enter(limiter, max_pause=30.0) == pytest.approx(30.0)


async def test_a_pause_ending_past_the_deadline_refuses() -> None:
    clock = ManualClock(100.0)
    limiter = limiter_for(clock)
    limiter.on_rate_limited(30.0)
    with pytest.raises(RateLimitError, match="deadline") as caught:
        await enter(limiter, max_pause=120.0, deadline_at=110.0)
    assert_refused(caught.value, 30.0)
    assert clock.now == 100.0
    assert await enter(limiter, max_pause=120.0, deadline_at=130.0) == pytest.approx(130.0)


async def test_the_bound_applies_to_what_is_left_of_the_pause() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock)
    limiter.on_rate_limited(200.0)
    await clock.sleep(150.0)
    assert await enter(limiter, max_pause=60.0) == pytest.approx(200.0)


async def test_tasks_queued_for_a_slot_are_refused_when_a_long_pause_arrives() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, concurrency=1)
    held = limiter.slot()
    await held.__aenter__()
    short = asyncio.ensure_future(enter(limiter, max_pause=120.0))
    patient = asyncio.ensure_future(enter(limiter, max_pause=1000.0))
    unbounded = asyncio.ensure_future(enter(limiter, max_pause=math.inf))
    await settle()
    assert limiter.waiting == 3
    limiter.on_rate_limited(600.0)
    await settle()
    assert short.done()
    assert_refused(short.exception(), 600.0)
    assert clock.now == 0.0
    assert limiter.waiting == 2  # the others keep their places
    await held.__aexit__(None, None, None)
    assert await patient == pytest.approx(600.0)
    assert await unbounded >= 600.0
    assert_idle(limiter)


async def test_a_task_sleeping_for_its_permit_is_refused_at_once() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1, per=10.0, max_pause=3600.0))
    await enter(limiter, max_pause=math.inf)
    sleeper = asyncio.ensure_future(enter(limiter, max_pause=120.0))  # paced to ~10.1
    behind = asyncio.ensure_future(enter(limiter, max_pause=120.0))  # queued for the turn
    await settle()
    assert limiter.waiting == 2
    limiter.on_rate_limited(600.0)
    outcomes = await asyncio.gather(sleeper, behind, return_exceptions=True)
    for outcome in outcomes:
        assert_refused(outcome, 600.0)
    assert clock.now == 0.0
    assert clock.sleepers == 0  # the paced sleep was abandoned, not left to pull time on
    assert_idle(limiter)


async def test_on_the_loops_own_clock_a_paced_sleep_is_cut_short_by_a_pause() -> None:
    # The default clock and sleep: the pace's sleep is a timer of the loop, not a task.
    limiter = AccountLimiter(
        RateLimit(1, per=600.0, max_pause=3600.0), 8, clock=monotonic, sleep=asyncio_sleep
    )
    await enter(limiter, max_pause=math.inf)
    sleeper = asyncio.ensure_future(enter(limiter, max_pause=120.0))  # paced to ~10 minutes
    await settle()
    assert limiter.waiting == 1
    limiter.on_rate_limited(900.0)
    (outcome,) = await asyncio.gather(asyncio.wait_for(sleeper, 5.0), return_exceptions=True)
    assert_refused(outcome, 900.0)
    assert_idle(limiter)


async def test_a_task_waiting_for_a_request_to_finish_is_refused_at_once() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1, per=10.0, max_pause=3600.0))
    held = limiter.slot()
    await held.__aenter__()  # the one request the limit allows, still in flight
    waiter = asyncio.ensure_future(enter(limiter, max_pause=120.0))
    await settle()
    limiter.on_rate_limited(600.0)
    with pytest.raises(RateLimitError) as caught:
        await waiter
    assert_refused(caught.value, 600.0)
    await held.__aexit__(None, None, None)
    assert_idle(limiter)


async def test_a_patient_turn_holder_does_not_hold_back_an_impatient_task() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock)
    limiter.on_rate_limited(50.0)
    patient = asyncio.ensure_future(enter(limiter, max_pause=1000.0))  # holds the permit turn
    await settle()
    impatient = asyncio.ensure_future(enter(limiter, max_pause=100.0))  # waits behind it
    await settle()
    limiter.on_rate_limited(600.0)
    with pytest.raises(RateLimitError):
        await impatient
    assert clock.now == 0.0
    assert await patient == pytest.approx(600.0)


async def test_a_pause_within_the_bound_leaves_waiters_alone() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1, per=10.0, max_pause=3600.0), concurrency=1)
    await enter(limiter, max_pause=math.inf)
    waiters = [asyncio.ensure_future(enter(limiter, max_pause=120.0)) for _ in range(3)]
    await settle()
    limiter.on_rate_limited(60.0)
    sent = await asyncio.gather(*waiters)
    assert sent[0] == pytest.approx(60.0)
    assert sent == sorted(sent)


async def test_cancelling_a_bounded_waiter_leaks_nothing() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1, per=10.0, max_pause=3600.0), concurrency=2)
    await enter(limiter, max_pause=math.inf)
    tasks = [asyncio.ensure_future(enter(limiter, max_pause=120.0)) for _ in range(3)]
    await settle()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert_idle(limiter)
    limiter.on_rate_limited(600.0)  # no stale waiter left to wake
    assert await enter(limiter, max_pause=math.inf) == pytest.approx(600.0)


async def test_one_429_pauses_the_account_for_at_most_two_windows_by_default() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(60, 60.0))
    limiter.on_rate_limited(86_400.0)
    assert limiter.paused_until == 120.0
    assert await enter(limiter, max_pause=math.inf) == pytest.approx(120.0)
    capped = limiter_for(clock, RateLimit(60, 60.0, max_pause=5.0))
    capped.on_rate_limited(86_400.0)
    assert capped.paused_until == pytest.approx(clock.now + 5.0)


async def test_without_a_rate_a_pause_heard_while_queued_is_waited_out_after_the_slot() -> None:
    # No rate: nothing to wait for once a slot is free, unless a pause began meanwhile.
    clock = ManualClock()
    limiter = limiter_for(clock, rate=None, concurrency=1)
    held = limiter.slot()
    await held.__aenter__()
    queued = asyncio.ensure_future(enter(limiter, max_pause=60.0))
    await settle()
    limiter.on_rate_limited(30.0)  # within its bound: it keeps its place
    await settle()
    assert not queued.done()
    await held.__aexit__(None, None, None)
    assert await queued == pytest.approx(30.0)
    assert_idle(limiter)


async def test_a_waiter_refused_and_cancelled_before_it_runs_leaks_nothing() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, concurrency=1)
    held = limiter.slot()
    await held.__aenter__()
    refused = asyncio.ensure_future(enter(limiter, max_pause=120.0))
    behind = asyncio.ensure_future(enter(limiter, max_pause=math.inf))
    await settle()
    limiter.on_rate_limited(600.0)  # wakes the bounded waiter to refuse...
    refused.cancel()  # ...and it is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await refused
    assert limiter.waiting == 1
    await held.__aexit__(None, None, None)  # the slot goes to the call behind, not lost
    assert await behind == pytest.approx(600.0)
    assert_idle(limiter)
