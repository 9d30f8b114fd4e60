"""NameIndex: concurrent adoption lookups share one listing; a miss or an old map lists again."""

from __future__ import annotations

import asyncio

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._resources.names import LISTING_MAX_AGE, LISTING_SPACING, NameIndex
from kore_campaign_async._wire.listing import ListingByName


class Listings:
    """A listing the test releases by hand; counts how many were sent."""

    def __init__(self, *names: str, clock: ManualClock | None = None, took: float = 0.0) -> None:
        self.names = list(names)
        self.sent = 0
        self.begun_at: list[float] = []
        self.clock = clock
        self.took = took
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_next: BaseException | None = None

    async def __call__(self) -> ListingByName:
        self.sent += 1
        snapshot = list(self.names)
        if self.clock is not None:
            self.begun_at.append(self.clock())
            await self.clock.sleep(self.took)
        await self.gate.wait()
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error
        items = [{"_id": f"cl-{name.lower()}", "name": name} for name in snapshot]
        return ListingByName(items, url="u", meta=None)


def index_on(clock: ManualClock, **settings: float) -> NameIndex:
    return NameIndex(clock, clock.sleep, **settings)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def started(
    index: NameIndex, name: str, load: Listings
) -> asyncio.Future[kca.ContactList | None]:
    """Start a lookup and let it reach its wait."""
    lookup = asyncio.ensure_future(index.find(name, load))
    await settle()
    return lookup


def found_id(item: kca.ContactList | None) -> str | None:
    return None if item is None else item.id


async def test_concurrent_lookups_share_the_listing_in_flight(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock), Listings(*(f"L{n}" for n in range(20)))
    load.gate.clear()
    lookups = [asyncio.ensure_future(index.find(f"l{n}", load)) for n in range(20)]
    await settle()
    load.gate.set()
    assert [found_id(item) for item in await asyncio.gather(*lookups)] == [
        f"cl-l{n}" for n in range(20)
    ]
    assert load.sent == 1


async def test_a_miss_in_a_listing_begun_before_the_lookup_lists_again(
    client_clock: ManualClock,
) -> None:
    index, load = index_on(client_clock), Listings("A")
    load.gate.clear()
    first = await started(index, "A", load)
    load.names.append("B")  # made after the listing in flight was answered from the store
    second = await started(index, "B", load)
    load.gate.set()
    assert (found_id(await first), found_id(await second)) == ("cl-a", "cl-b")
    assert load.sent == 2


async def test_a_miss_in_a_fresh_listing_is_final(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock), Listings("A")
    assert await index.find("A", load) is not None
    assert await index.find("Z", load) is None
    assert load.sent == 2  # the map had no Z: listed once more, then gave up


async def test_a_map_serves_hits_for_max_age_then_lists_again(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock), Listings("A")
    await index.find("A", load)
    client_clock.advance(LISTING_MAX_AGE)
    await index.find("A", load)
    assert load.sent == 1
    client_clock.advance(1)
    await index.find("A", load)
    assert load.sent == 2


async def test_begun_after_skips_older_listings(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock), Listings("A")
    await index.find("A", load)
    await index.find("A", load, begun_after=index.begun)
    assert load.sent == 2


async def test_drop_discards_the_map_and_the_listing_in_flight(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock), Listings("A")
    await index.find("A", load)
    index.drop()
    load.gate.clear()
    lookup = await started(index, "A", load)
    index.drop()  # e.g. a delete ended while that listing was in flight
    load.gate.set()
    assert found_id(await lookup) == "cl-a"
    assert load.sent == 3


async def test_a_failed_listing_fails_its_sender_only(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock), Listings("A")
    load.gate.clear()
    load.fail_next = kca.InternalServerError("down", status=503, method="POST", url="u")
    sender = await started(index, "A", load)
    waiter = await started(index, "A", load)
    load.gate.set()
    with pytest.raises(kca.InternalServerError):
        await sender
    assert found_id(await waiter) == "cl-a"
    assert load.sent == 2


async def test_a_cancelled_waiter_or_sender_leaves_the_others_a_listing(
    client_clock: ManualClock,
) -> None:
    index, load = index_on(client_clock), Listings("A")
    load.gate.clear()
    sender = await started(index, "A", load)
    waiters = [asyncio.ensure_future(index.find("A", load)) for _ in range(3)]
    await settle()
    waiters[0].cancel()
    sender.cancel()
    await settle()
    load.gate.set()
    assert [found_id(await w) for w in waiters[1:]] == ["cl-a", "cl-a"]
    assert load.sent == 2
    assert sender.cancelled()
    assert waiters[0].cancelled()


async def test_an_idle_map_is_freed_after_max_age(client_clock: ManualClock) -> None:
    index, load = index_on(client_clock, max_age=0.0), Listings("A")
    await index.find("A", load)
    await index.find("A", load)  # virtual time stands still: the map is still recent
    assert load.sent == 1
    await settle()  # the loop's timer (max_age 0) frees it
    await index.find("A", load)
    assert load.sent == 2


async def test_the_next_listing_waits_out_the_spacing_and_serves_every_lookup_meanwhile(
    client_clock: ManualClock,
) -> None:
    index, load = index_on(client_clock), Listings("A", clock=client_clock, took=1.0)
    await index.find("A", load)
    load.names += ["B", "C"]
    waits: dict[str, list[float]] = {"B": [], "C": []}
    first = asyncio.ensure_future(index.find("B", load, waited=waits["B"].append))
    await settle()  # B sends the next listing once the spacing is over
    spacing = LISTING_SPACING * 1.0
    client_clock.advance(spacing / 2)
    second = asyncio.ensure_future(index.find("C", load, waited=waits["C"].append))
    assert (found_id(await first), found_id(await second)) == ("cl-b", "cl-c")  # C shared it
    assert load.begun_at == [0.0, 1.0 + spacing]
    assert waits == {"B": [spacing], "C": [spacing / 2 + 1.0]}
    assert await index.find("A", load) is not None  # a hit never waits
    assert load.sent == 2


async def test_the_spacing_is_at_most_max_age(client_clock: ManualClock) -> None:
    index = index_on(client_clock, max_age=10.0)
    load = Listings("A", clock=client_clock, took=100.0)  # e.g. queued behind a long pause
    await index.find("A", load)
    await index.find("B", load)
    assert load.begun_at == [0.0, 110.0]


async def test_a_sender_cancelled_while_spacing_leaves_the_listing_to_a_waiter(
    client_clock: ManualClock,
) -> None:
    index, load = index_on(client_clock), Listings("A", clock=client_clock, took=1.0)
    await index.find("A", load)
    load.names.append("B")
    sender = await started(index, "B", load)
    waiter = await started(index, "B", load)
    sender.cancel()
    assert found_id(await waiter) == "cl-b"
    assert load.begun_at == [0.0, 1.0 + LISTING_SPACING * 1.0]
