"""How many places on the wire a client keeps: the pool's size while the loop keeps up, half as
many (not below FLOOR) each time a hand-off runs late, one back per calm round (virtual time)."""

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


def test_a_late_hand_off_halves_the_places_down_to_the_floor() -> None:
    sizing = PlaceSizing(1000)
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
    sizing = PlaceSizing(400)
    assert sizing.heard(0.05, now=10.0) == 200
    # The loop stays as far behind until what was on the wire is read, 0.05 s on.
    assert sizing.heard(0.05, now=10.04) == 200
    assert sizing.heard(0.05, now=10.05) == 100


def test_calm_hand_offs_give_back_one_place_a_round_up_to_the_pool() -> None:
    sizing = PlaceSizing(66)
    assert sizing.heard(LATE, 0.0) == 33
    # One round is one calm hand-off for each place held: 33 of them earn the 34th place.
    assert [sizing.heard(CALM, 1.0) for _ in range(32)] == [33] * 32
    assert sizing.heard(CALM, 1.0) == 34
    for _ in range(34 + 35 + 36 + 100 * 66):
        sizing.heard(CALM, 1.0)
    assert sizing.limit == 66


def test_hand_offs_between_calm_and_late_change_nothing() -> None:
    sizing = PlaceSizing(100)
    sizing.heard(LATE, 0.0)
    assert [sizing.heard(BETWEEN, 1.0) for _ in range(500)] == [50] * 500
    assert sizing.calm == 0


def test_a_cut_forgets_the_calm_hand_offs_of_the_round() -> None:
    sizing = PlaceSizing(128)
    sizing.heard(LATE, 0.0)  # 64
    for _ in range(63):
        sizing.heard(CALM, 1.0)
    assert sizing.heard(LATE, 1.0) == 32
    assert sizing.heard(CALM, 1.0) == 32  # a fresh round of 32, not the 64th of the old one


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


async def test_places_a_cut_took_go_to_nobody() -> None:
    clock = ManualClock()
    places = WirePlaces(64, clock=clock)
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


async def test_a_place_given_back_goes_to_the_next_waiter_at_once() -> None:
    clock = ManualClock()
    places = WirePlaces(64, clock=clock)
    for _ in range(64):
        assert await places.acquire(ANY)
    waiting = await _queue(places, 40)
    await _hand_off(places, clock, LATE)  # 32 places now
    for _ in range(32):
        await _hand_off(places, clock, 0.0)  # the cut's 32
    served = sum(future.done() for future in waiting)
    # A round of 32 calm hand-offs: the last one earns a 33rd place, handed on with no release.
    for _ in range(32):
        await _hand_off(places, clock, 0.0)
    await asyncio.sleep(0)
    assert places.limit == 33
    assert sum(future.done() for future in waiting) == served + 32 + 1


async def test_once_every_place_is_back_no_more_than_the_limit_go_out() -> None:
    clock = ManualClock()
    places = WirePlaces(64, clock=clock)
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
    with pytest.raises(ValueError, match="ceiling must be at least 1"):
        WirePlaces(0, clock=ManualClock())
