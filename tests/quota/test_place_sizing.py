"""How many places on the wire a client keeps: FLOOR at first, then only those that carry more
requests a second (a hill-climb on the hand-off rate, fed synthetic rates here)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable

import pytest

from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.pauses import Bounds
from kore_campaign_async._quota.places import (
    FLOOR,
    LONGEST_WAIT,
    MIN_ROUND,
    PROBE_EVERY,
    PlaceSizing,
    WirePlaces,
)

ANY = Bounds()


def run_rounds(sizing: PlaceSizing, rate_of: Callable[[int], float], rounds: int) -> list[int]:
    """Hand places off at the rate ``rate_of(places)`` for ``rounds`` rounds; return the places
    kept after each round."""
    now = 0.0
    sizing.idle()
    sizing.handed(now)  # starts a round
    kept = []
    for _ in range(rounds):
        rate = rate_of(sizing.limit)
        count = max(sizing.limit, round(rate * MIN_ROUND) + 1)
        for _ in range(count):
            now += 1 / rate
            sizing.handed(now)
        kept.append(sizing.limit)
    return kept


def on_the_wire(places: int) -> float:
    """A remote Kore: a request spends 0.25 s on the wire, so the rate follows the places."""
    return places / 0.25


def in_the_loop(places: int) -> float:
    """A client whose loop is the bottleneck: 3,000 requests a second whatever the places."""
    return 3000.0


def test_places_start_at_the_floor_or_the_whole_pool_if_smaller() -> None:
    assert PlaceSizing(1000).limit == FLOOR
    assert PlaceSizing(10).limit == 10


def test_a_wire_bound_client_climbs_to_the_pool_and_stays() -> None:
    sizing = PlaceSizing(1000)
    kept = run_rounds(sizing, on_the_wire, 200)
    assert kept[:6] == [64, 128, 256, 512, 1000, 1000]
    # Round 5 found the pool's size paid. At the pool, it probes down now and then: half the
    # places carry half the requests, so each probe is undone after one round, and the next
    # waits twice as long.
    probes = [n for n, places in enumerate(kept) if n > 4 and places < 1000]
    assert probes[0] == 5 + PROBE_EVERY
    gaps = [later - earlier for earlier, later in itertools.pairwise(probes)]
    assert gaps == [17, 33, 65, 65]  # then one round in 65 at half the places


def test_a_loop_bound_client_keeps_the_floor() -> None:
    sizing = PlaceSizing(1000)
    kept = run_rounds(sizing, in_the_loop, 300)
    assert kept[0] == 2 * FLOOR  # the first probe
    assert kept[1] == FLOOR  # undone: twice the places carried no more
    probes = [n for n, places in enumerate(kept) if places > FLOOR]
    gaps = [later - earlier for earlier, later in itertools.pairwise(probes)]
    assert gaps == [17, 33, 65, 65, 65]
    assert sizing.spacing == LONGEST_WAIT


def test_probes_alternate_up_and_down_around_the_best_size() -> None:
    rates = {128: 600.0, 256: 1000.0, 512: 1050.0}  # neither half nor twice pays
    sizing = PlaceSizing(1000, limit=256)
    kept = run_rounds(sizing, rates.__getitem__, 30)
    probes = [places for places in kept if places != 256]
    assert probes == [512, 128]  # up, then (after twice the wait) down
    assert kept.index(128) - kept.index(512) == 17


def test_a_probe_that_pays_brings_the_next_probe_near_again() -> None:
    sizing = PlaceSizing(1000)
    run_rounds(sizing, in_the_loop, 120)  # probes that never pay: 64 rounds apart
    assert sizing.spacing == LONGEST_WAIT
    # Kore slows down: the requests now wait on the wire, and the next probe pays.
    kept = run_rounds(sizing, on_the_wire, 100)
    reached = kept.index(1000)
    # Once at the pool, it probes down after PROBE_EVERY rounds, not LONGEST_WAIT.
    assert kept.index(500, reached) - reached == PROBE_EVERY + 1


def test_a_loop_bound_client_with_many_places_halves_them_to_the_floor() -> None:
    sizing = PlaceSizing(1000, limit=1000, upward=False)
    kept = run_rounds(sizing, in_the_loop, 8)
    # Each halving kept the rate, so the next follows at once, down to the floor.
    assert kept[:6] == [500, 250, 125, 62, FLOOR, FLOOR]


def test_a_pool_of_the_floor_or_less_is_never_probed() -> None:
    sizing = PlaceSizing(FLOOR)
    assert set(run_rounds(sizing, on_the_wire, 50)) == {FLOOR}
    assert sizing.wait > 0  # nothing to try: it waits, rather than trying every round


@pytest.mark.parametrize(
    ("start", "ceiling", "gain", "after"),
    [
        # Twice the places: kept from 1.1x the rate (and the next probe follows at once).
        (32, 1000, 1.12, 128),
        (32, 1000, 1.08, 32),
        # 1.5625x the places (up to the pool): kept from 1.056x the rate.
        (64, 100, 1.07, 100),
        (64, 100, 1.04, 64),
        # Half the places (a probe down): kept if they still carry 95 % of the rate.
        (200, 1000, 0.96, 50),
        (200, 1000, 0.93, 200),
    ],
)
def test_a_probe_is_kept_if_the_rate_moved_a_tenth_as_much_as_the_places(
    start: int, ceiling: int, gain: float, after: int
) -> None:
    sizing = PlaceSizing(ceiling, limit=start, upward=gain > 1)
    tried = min(ceiling, start * 2) if gain > 1 else start // 2
    rates = {start: 1000.0, tried: 1000.0 * gain}
    result = run_rounds(sizing, lambda places: rates[places], 2)
    assert result == [tried, after]


def test_a_round_needs_a_hand_off_per_place_and_the_shortest_round() -> None:
    sizing = PlaceSizing(1000)
    sizing.handed(0.0)
    for n in range(1, FLOOR):  # too few hand-offs, however long
        sizing.handed(n * 1.0)
    assert sizing.limit == FLOOR
    sizing.handed(FLOOR * 1.0)
    assert sizing.limit == 2 * FLOOR  # the round ended: a probe
    # Many hand-offs, but less than MIN_ROUND: no round ends.
    sizing.idle()
    sizing.handed(100.0)
    start = 100.0
    for n in range(1, 1000):
        sizing.handed(start + n * MIN_ROUND / 2000)
    assert sizing.limit == 2 * FLOOR
    assert sizing.tried_from == FLOOR  # still waiting to judge the probe


def test_a_place_freed_with_nobody_waiting_voids_the_round() -> None:
    sizing = PlaceSizing(1000)
    sizing.handed(0.0)
    for n in range(1, FLOOR):
        sizing.handed(n * 0.01)
    sizing.idle()  # the requests, not the places, were the bound
    sizing.handed(10.0)  # a new round starts here
    for n in range(1, FLOOR):
        sizing.handed(10.0 + n * 0.01)
    assert sizing.limit == FLOOR
    sizing.handed(10.0 + FLOOR * 0.01)
    assert sizing.limit == 2 * FLOOR


def test_a_pool_of_no_connections_is_refused() -> None:
    with pytest.raises(ValueError, match="'ceiling' must be >= 1: 0"):
        PlaceSizing(0)


class Scripted(PlaceSizing):
    """Sizing whose next hand-offs return the sizes given, to test how WirePlaces applies them."""

    def __init__(self, ceiling: int, limit: int, script: list[int]) -> None:
        super().__init__(ceiling, limit=limit)
        self.script = script

    def handed(self, now: float) -> int:
        if self.script:
            self.limit = self.script.pop(0)
        return self.limit


async def _queue(places: WirePlaces, count: int) -> list[asyncio.Task[bool]]:
    waiting = [asyncio.ensure_future(places.acquire(ANY)) for _ in range(count)]
    await asyncio.sleep(0)
    assert places.waiting == count
    return waiting


async def _take(places: WirePlaces, count: int) -> None:
    for _ in range(count):
        assert await asyncio.wait_for(places.acquire(ANY), 1.0)


async def test_fresh_places_let_no_more_than_the_floor_out() -> None:
    places = WirePlaces(PlaceSizing(64), clock=ManualClock())
    await _take(places, FLOOR)
    (more,) = await _queue(places, 1)
    assert not more.done()
    more.cancel()
    with pytest.raises(asyncio.CancelledError):
        await more


async def test_places_given_up_go_to_nobody() -> None:
    places = WirePlaces(Scripted(64, 64, [32]), clock=ManualClock())
    await _take(places, 64)
    first, second, third = await _queue(places, 3)
    places.release()  # handed to the first; the sizing then keeps 32
    await asyncio.sleep(0)
    assert first.done()
    assert places.limit == 32
    # 64 are out and 32 kept: the next 32 places released go to nobody.
    for _ in range(32):
        places.release()
    await asyncio.sleep(0)
    assert not second.done()
    places.release()
    await asyncio.sleep(0)
    assert second.done()
    assert not third.done()


async def test_places_added_go_to_the_next_waiters_at_once() -> None:
    places = WirePlaces(Scripted(128, 32, [64]), clock=ManualClock())
    await _take(places, 32)
    waiting = await _queue(places, 40)
    places.release()  # handed on, and the sizing keeps 64: 32 more go out at once
    await asyncio.sleep(0)
    assert places.limit == 64
    assert sum(future.done() for future in waiting) == 1 + 32
    for future in waiting:
        future.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


async def test_a_place_freed_with_nobody_waiting_tells_the_sizing() -> None:
    places = WirePlaces(PlaceSizing(64), clock=ManualClock())
    await _take(places, 1)
    places.sizing.started = 5.0
    places.release()
    assert places.sizing.started is None


async def test_a_place_given_back_for_a_refused_permit_carried_nothing() -> None:
    places = WirePlaces(Scripted(128, 32, [64]), clock=ManualClock())
    await _take(places, 32)
    first, second = await _queue(places, 2)
    places.give_back()  # the account must wait for its pace: its place goes on, uncounted
    await asyncio.sleep(0)
    assert first.done()
    assert places.limit == 32  # the sizing was not told of a request carried
    places.release()  # a turn that ended is counted
    await asyncio.sleep(0)
    assert second.done()
    assert places.limit == 64
