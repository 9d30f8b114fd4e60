"""How many places on the wire a client keeps: FLOOR at first, twice as many after each calm
round up to the pool's size, half as many (not below FLOOR) when a hand-off runs late."""

from __future__ import annotations

import asyncio

import pytest

from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.pauses import Bounds
from kore_campaign_async._quota.places import BEHIND, FLOOR, KEEPING_UP, PlaceSizing, WirePlaces

LATE = BEHIND * 2
CALM = KEEPING_UP / 2
BETWEEN = (BEHIND + KEEPING_UP) / 2
ANY = Bounds()


def full(ceiling: int) -> PlaceSizing:
    """Sizing that has grown to the whole pool."""
    return PlaceSizing(ceiling, limit=ceiling)


def test_places_start_at_the_floor_and_double_each_calm_round_up_to_the_pool() -> None:
    sizing = PlaceSizing(1000)
    assert sizing.limit == FLOOR
    seen = [sizing.heard(CALM, 0.0) for _ in range(32 + 64 + 128 + 256 + 512 + 1000)]
    # Each round is one hand-off per place held; the last hand-off of a round doubles them.
    ends = [32, 32 + 64, 32 + 64 + 128, 32 + 64 + 128 + 256, 32 + 64 + 128 + 256 + 512]
    assert [seen[end - 1] for end in ends] == [64, 128, 256, 512, 1000]
    assert [seen[end - 2] for end in ends] == [32, 64, 128, 256, 512]
    assert set(seen[ends[-1] - 1 :]) == {1000}


def test_a_pool_smaller_than_the_floor_starts_whole() -> None:
    assert PlaceSizing(10).limit == 10


def test_a_late_hand_off_halves_the_places_down_to_the_floor() -> None:
    sizing = full(1000)
    seen = []
    now = 0.0
    for _ in range(12):
        seen.append(sizing.heard(LATE, now))
        now += LATE  # each cut settles one lag later
    assert seen[:6] == [500, 250, 125, 62, FLOOR, FLOOR]
    assert set(seen[5:]) == {FLOOR}


def test_a_pool_smaller_than_the_floor_is_never_cut() -> None:
    sizing = PlaceSizing(FLOOR // 2)
    assert [sizing.heard(LATE, at) for at in (0.0, 1.0, 2.0)] == [FLOOR // 2] * 3


def test_no_second_cut_before_the_answers_of_the_first_are_read() -> None:
    sizing = full(400)
    assert sizing.heard(0.05, now=10.0) == 200
    # The loop stays as far behind until what was on the wire is read, 0.05 s on.
    assert sizing.heard(0.05, now=10.04) == 200
    assert sizing.heard(0.05, now=10.05) == 100


def _round(sizing: PlaceSizing, lags: list[float], now: float = 1.0) -> list[int]:
    return [sizing.heard(lag, now) for lag in lags]


def test_a_calm_round_doubles_the_places_up_to_the_pool() -> None:
    sizing = full(100)
    assert sizing.heard(LATE, 0.0) == 50
    # A round is one hand-off for each place held: 50 calm ones double the places.
    assert _round(sizing, [CALM] * 49) == [50] * 49
    assert sizing.heard(CALM, 1.0) == 100
    assert _round(sizing, [CALM] * 300) == [100] * 300  # never past the pool


def test_a_round_with_more_than_one_slow_hand_off_in_ten_keeps_the_places() -> None:
    sizing = full(400)
    sizing.heard(LATE, 0.0)  # 200
    # 21 of 200 between calm and late: not a calm round.
    assert _round(sizing, [BETWEEN] * 21 + [CALM] * 179) == [200] * 200
    # 20 of 200: a calm round.
    assert _round(sizing, [BETWEEN] * 20 + [CALM] * 180)[-1] == 400


def test_late_hand_offs_that_cut_nothing_still_spoil_the_round() -> None:
    sizing = full(128)
    assert sizing.heard(1.0, now=0.0) == 64  # a second-long pause: no cut for a second
    # The hand-offs queued behind the pause are late too, though they cut nothing more.
    assert _round(sizing, [LATE] * 10 + [CALM] * 54, now=0.5) == [64] * 64
    assert _round(sizing, [CALM] * 64, now=0.5)[-1] == 128


def test_a_cut_starts_a_new_round() -> None:
    sizing = full(128)
    sizing.heard(LATE, 0.0)  # 64
    _round(sizing, [CALM] * 63)
    assert sizing.heard(LATE, 1.0) == 32
    # A fresh round of 32, not the 64th hand-off of the old one.
    assert _round(sizing, [CALM] * 31) == [32] * 31
    assert sizing.heard(CALM, 1.0) == 64


async def _queue(places: WirePlaces, count: int) -> list[asyncio.Task[bool]]:
    waiting = [asyncio.ensure_future(places.acquire(ANY)) for _ in range(count)]
    await asyncio.sleep(0)
    assert places.waiting == count
    return waiting


async def _hand_off(places: WirePlaces, clock: ManualClock, lag: float) -> None:
    """Release a place and let ``lag`` seconds pass before the waiter it goes to runs."""
    places.release()
    clock.advance(lag)
    await asyncio.sleep(0)


async def test_fresh_places_let_no_more_than_the_floor_out() -> None:
    places = WirePlaces(PlaceSizing(64), clock=ManualClock())
    for _ in range(FLOOR):
        assert await places.acquire(ANY)
    (more,) = await _queue(places, 1)
    assert not more.done()
    more.cancel()
    with pytest.raises(asyncio.CancelledError):
        await more


async def test_places_a_cut_took_go_to_nobody() -> None:
    clock = ManualClock()
    places = WirePlaces(full(64), clock=clock)
    for _ in range(64):
        assert await places.acquire(ANY)
    first, second, third = await _queue(places, 3)
    await _hand_off(places, clock, LATE)
    assert first.done()
    assert places.limit == 32
    # 64 are out, the limit is 32: the next 32 places released go with the cut.
    for _ in range(32):
        await _hand_off(places, clock, 0.0)
    assert not second.done()
    assert places.waiting == 2
    await _hand_off(places, clock, 0.0)
    assert second.done()
    assert not third.done()


async def test_places_given_back_go_to_the_next_waiters_at_once() -> None:
    clock = ManualClock()
    places = WirePlaces(full(64), clock=clock)
    for _ in range(64):
        assert await places.acquire(ANY)
    waiting = await _queue(places, 80)
    await _hand_off(places, clock, LATE)  # 32 places now
    for _ in range(32):
        await _hand_off(places, clock, 0.0)  # the cut's 32
    served = sum(future.done() for future in waiting)
    # A round of 32 calm hand-offs: the last one doubles the places, and the 32 given back go
    # to the next waiters with no release.
    for _ in range(32):
        await _hand_off(places, clock, 0.0)
    await asyncio.sleep(0)
    assert places.limit == 64
    assert sum(future.done() for future in waiting) == served + 32 + 32


async def test_once_every_place_is_back_no_more_than_the_limit_go_out() -> None:
    clock = ManualClock()
    places = WirePlaces(full(64), clock=clock)
    for _ in range(64):
        assert await places.acquire(ANY)
    (first,) = await _queue(places, 1)
    await _hand_off(places, clock, LATE)
    assert first.done()
    assert places.limit == 32
    for _ in range(64):  # every place back, the waiter's too: 32 go with the cut
        places.release()
    took = [await asyncio.wait_for(places.acquire(ANY), 1.0) for _ in range(32)]
    assert len(took) == 32
    extra = asyncio.ensure_future(places.acquire(ANY))
    await asyncio.sleep(0)
    assert not extra.done()  # the 33rd waits: 32 is the limit
    extra.cancel()
    with pytest.raises(asyncio.CancelledError):
        await extra


def test_a_pool_of_no_connections_is_refused() -> None:
    with pytest.raises(ValueError, match="'ceiling' must be >= 1: 0"):
        PlaceSizing(0)
