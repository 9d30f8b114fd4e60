"""AccountLimiter pacing, pauses and cancellation, in virtual time (and ManualClock itself)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable
from typing import TypeVar

import pytest

from kore_campaign_async._clock import ManualClock
from kore_campaign_async._exceptions import ConfigurationError, RateLimitError
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.outcomes import Turn
from kore_campaign_async._quota.rate_limit import RateLimit
from kore_campaign_async._quota.store import AccountKey, LocalLimitStore

T = TypeVar("T")

# Half-open windows a hair shorter than the limiter's, so float rounding cannot hide a breach.
TOLERANCE = 1e-6


PER_MINUTE = RateLimit(60, 60.0)
# The old default: an idle account may start its whole allowance at once.
BURSTY = RateLimit(60, 60.0, burst=60)
# The pacing margin: starts are spaced per / requests * (1 + MARGIN).
MARGIN = 0.02


def limiter_for(
    clock: ManualClock,
    rate: RateLimit | None = PER_MINUTE,
    concurrency: int = 8,
    *,
    adaptive: bool = True,
) -> AccountLimiter:
    return AccountLimiter(rate, concurrency, clock=clock, sleep=clock.sleep, adaptive=adaptive)


def strays_spent(clock: ManualClock, rate: RateLimit = PER_MINUTE) -> AccountLimiter:
    """A limiter whose account has no stray 429 left to forgive: every paced 429 teaches."""
    store, key = LocalLimitStore(clock=clock), AccountKey("h", "spent")
    limiter = AccountLimiter(rate, 8, clock=clock, sleep=clock.sleep, store=store, key=key)
    limiter.on_success()  # the account's state exists from here
    state = store.state(key)
    assert state is not None
    state.strays = 0.0
    return limiter


async def run_requests(
    limiter: AccountLimiter, clock: ManualClock, n: int, latency: float = 0.05
) -> list[float]:
    """Send ``n`` concurrent requests of ``latency`` virtual seconds; return permit times."""
    return [turn.began for turn in await take_turns(limiter, clock, n, latency)]


async def take_turns(
    limiter: AccountLimiter, clock: ManualClock, n: int, latency: float = 0.05
) -> list[Turn]:
    """Send ``n`` concurrent requests of ``latency`` virtual seconds; return their turns."""
    turns: list[Turn] = []

    async def one() -> None:
        async with limiter.slot() as turn:
            assert turn.began == clock.now
            turns.append(turn)
            await clock.sleep(latency)

    await asyncio.gather(*(one() for _ in range(n)))
    return turns


async def no_hang(work: Awaitable[T]) -> T:
    """Fail, not hang, when a leaked slot blocks ``work`` (virtual time makes it instant)."""
    return await asyncio.wait_for(work, timeout=2.0)


async def enter(limiter: AccountLimiter) -> float:
    """Pass through one slot at once; return the permit time."""
    async with limiter.slot() as turn:
        return turn.began


def most_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + window) for i, start in enumerate(times))


# ManualClock


async def test_manual_clock_wakes_sleepers_in_deadline_order() -> None:
    clock = ManualClock(start=100.0)
    woke: list[tuple[str, float]] = []

    async def nap(name: str, delay: float) -> None:
        await clock.sleep(delay)
        woke.append((name, clock()))

    await asyncio.gather(nap("c", 3.0), nap("a", 1.0), nap("b", 2.0), nap("a2", 1.0))
    assert woke == [("a", 101.0), ("a2", 101.0), ("b", 102.0), ("c", 103.0)]
    assert clock.sleepers == 0


async def test_manual_clock_advance_and_cancelled_sleepers() -> None:
    clock = ManualClock()
    never = asyncio.ensure_future(clock.sleep(1000.0))
    short = asyncio.ensure_future(clock.sleep(5.0))
    await asyncio.sleep(0)
    clock.advance(2.0)
    assert clock.now == 2.0
    assert not short.done()
    never.cancel()
    await short
    # The cancelled sleeper does not drag time to 1000.
    assert clock.now == 5.0
    with pytest.raises(ValueError, match="seconds"):
        clock.advance(-1.0)


# Configuration


@pytest.mark.parametrize(
    ("requests", "per", "field"),
    [
        (0, 60.0, "requests"),
        (True, 60.0, "requests"),
        (1.5, 60.0, "requests"),
        (60, 0.0, "per"),
        (60, float("nan"), "per"),
        (60, float("inf"), "per"),
    ],
)
def test_rate_limit_rejects_bad_values(requests: int, per: float, field: str) -> None:
    with pytest.raises(ConfigurationError, match=f"RateLimit.{field} must be"):
        RateLimit(requests, per)


def test_limiter_rejects_bad_values() -> None:
    clock = ManualClock()
    with pytest.raises(ConfigurationError, match="max_concurrency must be"):
        AccountLimiter(None, 0, clock=clock, sleep=clock.sleep)
    with pytest.raises(ConfigurationError, match="safety_margin must be"):
        AccountLimiter(None, 1, clock=clock, sleep=clock.sleep, safety_margin=-0.1)


# Pacing


async def test_exact_pacing_at_sixty_per_minute() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock)
    real_start = time.perf_counter()
    sent = await run_requests(limiter, clock, 200)
    real_seconds = time.perf_counter() - real_start

    # No burst: one start every margin-widened interval, so no window of any shape, fixed
    # or sliding, ever holds more than 60.
    assert most_in_any_window(sent, 60.0) <= 60
    assert sent == sorted(sent)
    for k in range(200):
        assert sent[k] == pytest.approx(k * 1.0 * (1 + MARGIN))
    # Never more than 3 % behind a client that uses the server's whole allowance.
    for k, t in enumerate(sent):
        assert t <= k * 1.0 / 0.97
    assert clock.now > 180.0
    assert real_seconds < 2.0


async def test_a_configured_burst_starts_at_once_then_paces() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(60, 60.0, burst=10), concurrency=10)
    sent = await run_requests(limiter, clock, 20)
    assert sent[:10] == [0.0] * 10
    # Then the pace (GCRA: at most burst + t / interval starts in any t seconds).
    assert sent[10:] == [pytest.approx(k * (1 + MARGIN)) for k in range(1, 11)]


async def test_long_run_at_sixty_per_second_uses_the_allowance() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(60, 1.0), concurrency=8)
    n = 1200
    sent = await run_requests(limiter, clock, n, latency=0.005)
    # Neither a sliding nor a fixed server window of 60 per second ever overflows...
    assert most_in_any_window(sent, 1.0) <= 60
    for second in range(int(max(sent)) + 1):
        assert sum(1 for t in sent if second <= t < second + 1) <= 60
    # ...and the run gets >= 97 % of what the server allows by the last start (no burst
    # ahead: the allowance counts from the first start, not one window before it).
    allowed = 60 * max(sent) / 1.0
    assert n / allowed >= 0.97


async def test_slow_answers_do_not_hold_back_the_pace() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(2, 1.0), concurrency=5)
    sent = await run_requests(limiter, clock, 4, latency=3.0)
    # Starts are paced, whatever is in flight: the server counts what arrives, not answers.
    assert sent == [pytest.approx(k * 0.5 * (1 + MARGIN)) for k in range(4)]


async def test_latency_jitter_within_the_margin_never_overflows_a_server_window() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(10, 1.0), concurrency=6)
    rng = random.Random(7)
    arrivals: list[float] = []

    async def one() -> None:
        async with limiter.slot() as turn:
            sent_at = turn.began
            # Jitter up to the margin (0.02 s here; 1.2 s at 60 per minute). Beyond it a
            # window may see one more, the server answers 429 and the pacing learns.
            await clock.sleep(rng.uniform(0.0, MARGIN * 1.0))
            finished = clock.now
        # The server saw it at some moment in between; try the extremes too.
        arrivals.append(rng.choice([sent_at, finished, rng.uniform(sent_at, finished)]))

    await asyncio.gather(*(one() for _ in range(300)))
    assert most_in_any_window(arrivals, 1.0) <= 10
    assert len(arrivals) / (max(arrivals) + 1.0) > 0.8 * 10  # still close to the allowance


async def test_concurrency_never_exceeds_the_limit() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1000, 1.0), concurrency=5)
    peak = 0

    async def one(latency: float) -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            assert limiter.in_flight <= 5
            await clock.sleep(latency)

    await asyncio.gather(*(one(0.01 * (i % 7 + 1)) for i in range(50)))
    assert peak == 5
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_slots_are_granted_first_come_first_served() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(2, 1.0), concurrency=1)
    order: list[int] = []

    async def one(i: int) -> None:
        async with limiter.slot():
            order.append(i)
            await clock.sleep(0.1)

    tasks = []
    for i in range(10):
        tasks.append(asyncio.ensure_future(one(i)))
        await asyncio.sleep(0)  # each task queues before the next is made
    await asyncio.gather(*tasks)
    assert order == list(range(10))


async def test_slot_is_released_when_the_body_fails() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=1)
    with pytest.raises(RuntimeError, match="send failed"):
        async with limiter.slot():
            raise RuntimeError("send failed")
    assert limiter.in_flight == 0
    assert await run_requests(limiter, clock, 1) == [0.0]


async def test_no_rate_limit_means_concurrency_only() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=3)
    sent = await run_requests(limiter, clock, 12, latency=1.0)
    assert sent == [float(i // 3) for i in range(12)]
    assert limiter.effective_limit is None
    limiter.on_success()
    limiter.on_rate_limited(None)
    assert limiter.effective_limit is None
    assert limiter.paused_until == pytest.approx(clock.now + 1.0)


async def test_a_held_slot_blocks_the_next_until_it_is_left() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, BURSTY, concurrency=1)
    held = limiter.slot()
    assert ((await held.__aenter__()).began, limiter.in_flight) == (0.0, 1)
    blocked = asyncio.ensure_future(enter(limiter))
    await asyncio.sleep(0)
    assert not blocked.done()
    await held.__aexit__(None, None, None)
    assert await no_hang(blocked) == 0.0
    assert (limiter.in_flight, limiter.waiting) == (0, 0)


async def test_a_turn_ended_inside_its_slot_block_frees_its_slot_once() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=2)
    async with limiter.slot() as turn:
        other = await limiter.take_turn()
        assert limiter.in_flight == 2
        turn.end()
        turn.end()
        assert limiter.in_flight == 1
    assert limiter.in_flight == 1  # the block's end did not free the other turn's slot
    other.end()
    assert (limiter.in_flight, limiter.idle) == (0, True)


async def test_a_free_permit_never_overtakes_a_task_already_waiting_for_one() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None)
    limiter.on_rate_limited(2.0)
    order: list[str] = []

    async def first() -> None:
        await enter(limiter)
        order.append("first")

    task = asyncio.ensure_future(first())
    for _ in range(3):
        await asyncio.sleep(0)
    assert limiter.waiting == 1
    clock.advance(2.0)  # the pause is over, but the waiter has not run yet
    await enter(limiter)
    order.append("late")
    await task
    assert order == ["first", "late"]


# 429s


async def test_a_429_pauses_every_task_of_its_account_only() -> None:
    clock = ManualClock()
    account_a, account_b = limiter_for(clock, BURSTY), limiter_for(clock, BURSTY)
    await run_requests(account_a, clock, 1, latency=0.0)
    account_a.on_rate_limited(5.0)
    assert account_a.paused_until == 5.0
    assert account_b.paused_until is None

    sent_a, sent_b = await asyncio.gather(
        run_requests(account_a, clock, 10, latency=0.01),
        run_requests(account_b, clock, 10, latency=0.01),
    )
    assert min(sent_a) == pytest.approx(5.0)
    assert max(sent_b) < 0.05  # account B never waited for A's pause
    assert account_a.paused_until is None


async def test_a_429_holds_tasks_already_waiting_for_a_permit() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1, 1.0, max_pause=10.0))
    await run_requests(limiter, clock, 1, latency=0.0)
    waiter = asyncio.ensure_future(run_requests(limiter, clock, 1, latency=0.0))
    await clock.sleep(0.5)
    assert limiter.waiting == 1
    limiter.on_rate_limited(4.0)  # now 0.5: paused until 4.5, past the permit at 1.02
    assert await waiter == [pytest.approx(4.5)]


async def test_concurrent_429s_do_not_stack() -> None:
    clock = ManualClock()
    limiter = strays_spent(clock)
    admitted, refused = await take_turns(limiter, clock, 2, latency=0.0)
    admitted.succeeded()
    refused.rate_limited(3.0)
    for retry_after in (5.0, 4.0, None):
        limiter.on_rate_limited(retry_after)  # requests sent before the cut
    assert limiter.paused_until == pytest.approx(clock.now + 5.0)
    # Cut once for the whole episode, and by at most 30 % (one admitted: little to learn from).
    assert limiter.effective_limit == 42


async def test_429_without_retry_after_pauses_one_interval() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, adaptive=False)
    limiter.on_rate_limited(None)
    # Pacing keeps no log to wait out: one interval, and the pace does the rest.
    assert limiter.paused_until == pytest.approx(1.0 * (1 + MARGIN))


async def test_adaptive_pacing_learns_the_servers_rate_then_probes_back() -> None:
    clock = ManualClock()
    limiter = strays_spent(clock, RateLimit(60, 60.0))
    first = await take_turns(limiter, clock, 45, latency=0.0)
    for turn in first:
        turn.succeeded()
    # The server refused the 46th: it admitted 45 from the start until the pause ends (60 s).
    [refused] = await take_turns(limiter, clock, 1, latency=0.0)
    retry_after = 60.0 - clock.now
    refused.rate_limited(retry_after)
    first[0].rate_limited(retry_after)  # sent before the cut: same overload
    assert limiter.effective_limit == 45
    [after] = await take_turns(limiter, clock, 1, latency=0.0)
    assert after.began == pytest.approx(60.0)
    after.succeeded()
    [paced] = await take_turns(limiter, clock, 1, latency=0.0)
    assert paced.began - after.began == pytest.approx(60.0 / 45 * (1 + MARGIN))
    # Sent after the cut and still refused: 1 admitted in 1.36 s is 44/min, one lower anyway.
    paced.rate_limited(0.0)
    assert limiter.effective_limit == 44

    # One window of successes without a 429 climbs halfway back to the ceiling: the
    # configured 60, since no climb has failed yet.
    for _ in range(44):
        limiter.on_success()
    assert limiter.effective_limit == 52
    for _ in range(2000):
        limiter.on_success()
    assert limiter.effective_limit == 60


async def test_without_adaptive_a_429_only_pauses() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, adaptive=False)
    limiter.on_rate_limited(2.0)
    assert limiter.effective_limit == 60
    assert limiter.paused_until == 2.0


# Cancellation


async def test_cancelled_slot_waiter_leaks_nothing() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=1)
    release = asyncio.Event()

    async def holder() -> None:
        async with limiter.slot():
            await release.wait()

    held = asyncio.ensure_future(holder())
    waiter = asyncio.ensure_future(enter(limiter))
    await asyncio.sleep(0)
    assert (limiter.in_flight, limiter.waiting) == (1, 1)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limiter.waiting == 0
    release.set()
    await held
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    assert await no_hang(run_requests(limiter, clock, 1)) == [0.0]


async def test_waiter_cancelled_right_after_the_handover_passes_the_slot_on() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=1)
    held = limiter.slot()
    await held.__aenter__()
    unlucky = asyncio.ensure_future(enter(limiter))
    await asyncio.sleep(0)
    assert limiter.waiting == 1
    # Hand the slot over and cancel the new owner before it ever runs.
    await held.__aexit__(None, None, None)
    assert limiter.waiting == 0
    unlucky.cancel()
    with pytest.raises(asyncio.CancelledError):
        await unlucky
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    assert await no_hang(run_requests(limiter, clock, 2, latency=1.0)) == [0.0, 1.0]


async def test_cancelled_permit_waiter_consumes_no_permit() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, RateLimit(1, 10.0), concurrency=4)
    assert await run_requests(limiter, clock, 1, latency=0.0) == [0.0]
    waiter = asyncio.ensure_future(enter(limiter))
    await clock.sleep(3.0)
    assert limiter.waiting == 1
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    # The next request gets the permit the cancelled one would have had.
    assert await no_hang(run_requests(limiter, clock, 1)) == [pytest.approx(10.2)]


async def test_a_freed_slot_goes_to_the_queued_call_not_a_newcomer() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=1)
    held = limiter.slot()
    await held.__aenter__()
    order: list[str] = []

    async def one(label: str) -> None:
        async with limiter.slot():
            order.append(label)
            await asyncio.sleep(0)

    queued = asyncio.ensure_future(one("queued"))
    await asyncio.sleep(0)
    await held.__aexit__(None, None, None)  # hands the slot to the queued call
    await no_hang(asyncio.gather(one("newcomer"), queued))
    assert order == ["queued", "newcomer"]


async def test_max_wait_bounds_the_whole_turn_and_leaves_no_trace() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, PER_MINUTE, concurrency=1)
    held = limiter.slot()
    await held.__aenter__()
    with pytest.raises(RateLimitError, match=r"no turn within max_queue_wait \(5s\)") as caught:
        await no_hang(enter_within(limiter, 5.0))
    assert (caught.value.request_sent, caught.value.status) == (False, 429)
    assert caught.value.retry_after == pytest.approx(1.0)  # served next, at one a second
    assert clock.now == pytest.approx(5.0)
    assert (limiter.in_flight, limiter.waiting) == (1, 0)
    await held.__aexit__(None, None, None)
    assert await no_hang(enter(limiter)) == pytest.approx(5.0)  # the refusal spent no permit


async def enter_within(limiter: AccountLimiter, max_wait: float) -> float:
    async with limiter.slot(max_wait=max_wait) as turn:
        return turn.began


async def test_a_slot_taken_within_max_wait_is_released_when_the_body_fails() -> None:
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=1)
    seen_in_flight = []

    async def send_and_fail() -> None:
        async with limiter.slot(max_wait=5.0):
            seen_in_flight.append(limiter.in_flight)
            raise RuntimeError("send failed")

    with pytest.raises(RuntimeError, match="send failed"):
        await send_and_fail()
    assert seen_in_flight == [1]
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    assert await no_hang(enter_within(limiter, 0.0)) == 0.0  # the slot is free at once


@pytest.mark.parametrize("turns", [1, 2, 3])
async def test_a_turn_won_just_as_its_caller_is_cancelled_is_passed_on(turns: int) -> None:
    # max_wait takes the turn in a task of its own: it can win the turn a loop turn before
    # its caller hears it, and the caller can be cancelled in between.
    clock = ManualClock()
    limiter = limiter_for(clock, None, concurrency=1)
    call = asyncio.ensure_future(enter_within(limiter, 5.0))
    for _ in range(turns):
        await asyncio.sleep(0)
    call.cancel()
    await asyncio.gather(call, return_exceptions=True)
    assert (limiter.in_flight, limiter.waiting) == (0, 0)
    assert await no_hang(enter(limiter)) == 0.0
