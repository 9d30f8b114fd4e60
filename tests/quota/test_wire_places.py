"""Places on the wire: a client with a bounded connection pool gives its accounts' limiters one
place per connection, and a turn holds one from before its permit to its end (virtual time)."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from kore_campaign_async._clock import ManualClock
from kore_campaign_async._http.aiohttp_transport import AiohttpTransport
from kore_campaign_async._quota.limiter import AccountLimiter
from kore_campaign_async._quota.places import PlaceSizing, WirePlaces
from kore_campaign_async._quota.rate_limit import PacingSettings, RateLimit
from kore_campaign_async._quota.store import AccountKey, LocalLimitStore, Permit, PermitRefused

ONE_A_SECOND = RateLimit(1, 1.0)
INTERVAL = 1.0 * 1.02  # the pacing margin


def limiter(
    clock: ManualClock, places: WirePlaces, rate: RateLimit | None = ONE_A_SECOND
) -> AccountLimiter:
    made = AccountLimiter(rate, 8, clock=clock, sleep=clock.sleep)
    made._send_through(places)
    return made


@pytest.mark.parametrize("rate", [ONE_A_SECOND, None], ids=["paced", "unpaced"])
async def test_a_turn_holds_a_place_until_it_ends(rate: RateLimit | None) -> None:
    clock = ManualClock()
    places = WirePlaces(PlaceSizing(1), clock=clock)
    first, second = limiter(clock, places, rate), limiter(clock, places, rate)
    turn = await first.take_turn()
    waiting = asyncio.ensure_future(second.take_turn())
    await asyncio.sleep(0)
    assert not waiting.done()
    assert places.waiting == 1
    turn.end()
    (await asyncio.wait_for(waiting, timeout=2.0)).end()
    turn.end()  # a second end frees nothing more
    assert places.waiting == 0
    # The place is back for the next turn.
    (await asyncio.wait_for(first.take_turn(), timeout=2.0)).end()


async def test_an_account_waiting_for_its_pace_holds_no_place() -> None:
    clock = ManualClock()
    places = WirePlaces(PlaceSizing(1), clock=clock)
    slow, other = limiter(clock, places), limiter(clock, places)
    (await slow.take_turn()).end()
    paced = asyncio.ensure_future(slow.take_turn())  # its next permit is an interval away
    await asyncio.sleep(0)
    assert not paced.done()
    # The pool's one place is free meanwhile: another account's turn comes at once.
    turn = await asyncio.wait_for(other.take_turn(), timeout=2.0)
    assert turn.began == 0.0
    turn.end()
    assert (await asyncio.wait_for(paced, timeout=2.0)).began == pytest.approx(INTERVAL)


async def test_a_permit_is_taken_only_once_a_place_is_held() -> None:
    clock = ManualClock()
    places = WirePlaces(PlaceSizing(1), clock=clock)
    busy, paced = limiter(clock, places), limiter(clock, places)
    held = await busy.take_turn()
    waiting = asyncio.ensure_future(paced.take_turn())
    await asyncio.sleep(0)  # it asks now, at 0.0
    clock.advance(5.0)  # the connection stays busy for five intervals
    await asyncio.sleep(0)
    held.end()
    turn = await asyncio.wait_for(waiting, timeout=2.0)
    assert turn.began == pytest.approx(5.0)
    turn.end()
    # Permitted when it could go, not when it asked: the pace counts from there, so the next
    # request waits a whole interval rather than leaving right behind it.
    follow = asyncio.ensure_future(paced.take_turn())
    await asyncio.sleep(0)
    assert not follow.done()
    await clock.sleep(INTERVAL)
    assert (await asyncio.wait_for(follow, timeout=2.0)).began == pytest.approx(5.0 + INTERVAL)


async def test_cancelled_while_waiting_for_a_place_frees_its_slot_and_takes_none() -> None:
    clock = ManualClock()
    places = WirePlaces(PlaceSizing(1), clock=clock)
    busy, queued = limiter(clock, places), limiter(clock, places)
    held = await busy.take_turn()
    waiting = asyncio.ensure_future(queued.take_turn())
    await asyncio.sleep(0)
    assert queued.waiting == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert queued.waiting == 0
    assert queued.in_flight == 0
    held.end()
    # The one place is back, and the cancelled call's slot too.
    turn = await asyncio.wait_for(queued.take_turn(), timeout=2.0)
    turn.end()


class _RefusingStore(LocalLimitStore):
    """A store whose permits fail, as a shared store's may (its server unreachable)."""

    async def permit(self, key: AccountKey, settings: PacingSettings) -> Permit:
        raise PermitRefused("the store is unreachable")


async def test_a_failed_permit_gives_its_place_back() -> None:
    clock = ManualClock()
    places = WirePlaces(PlaceSizing(1), clock=clock)
    store = _RefusingStore(clock=clock)
    failing = AccountLimiter(ONE_A_SECOND, 8, clock=clock, sleep=clock.sleep, store=store)
    failing._send_through(places)
    with pytest.raises(Exception, match="unreachable"):
        await failing.take_turn()
    turn = await asyncio.wait_for(limiter(clock, places).take_turn(), timeout=2.0)
    turn.end()


async def test_the_pool_of_a_callers_session_sets_the_places() -> None:
    async def limit_of(connector: aiohttp.BaseConnector) -> int | None:
        async with aiohttp.ClientSession(connector=connector) as session:
            return AiohttpTransport(session).connection_limit

    assert await limit_of(aiohttp.TCPConnector()) == 100  # aiohttp's default
    assert await limit_of(aiohttp.TCPConnector(limit=10, limit_per_host=4)) == 4
    assert await limit_of(aiohttp.TCPConnector(limit=3, limit_per_host=8)) == 3
    assert await limit_of(aiohttp.TCPConnector(limit=0)) is None
    # A session of our own has no bound: nothing to queue for.
    assert AiohttpTransport().connection_limit is None
