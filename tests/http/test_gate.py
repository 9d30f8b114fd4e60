"""Every call enters the client's gate first: its loop checked, new calls refused once closing,
and the calls in flight counted, so ``aclose()`` can let them finish."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

import kore_campaign_async as kca
from kore_campaign_async.testing import MockTransport, json_response
from tests.helpers.clients import MakeClient

T = TypeVar("T")
LISTING = {"status": "success", "data": []}


class HeldAnswers:
    """A handler whose answers wait until ``release()``; ``arrived`` is set by the first."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self._release = asyncio.Event()
        self.sent = 0

    async def __call__(self, request: kca.HttpRequest) -> kca.RawResponse:
        self.sent += 1
        self.arrived.set()
        await self._release.wait()
        return json_response(LISTING)

    def release(self) -> None:
        self._release.set()


async def never(_: float) -> None:
    """A sleep that never ends by itself: a grace period that only the calls can cut short."""
    await asyncio.Event().wait()


def in_another_loop(make: Callable[[], Awaitable[T]]) -> T:
    """Run ``make()`` on a fresh event loop in another thread; return its result or raise.

    Bounded: a call that hangs there fails the test in 5 s instead of hanging it.
    """
    outcome: dict[str, Any] = {}

    def run() -> None:
        async def bounded() -> T:
            return await asyncio.wait_for(make(), 5.0)

        try:
            outcome["result"] = asyncio.run(bounded())
        except BaseException as exc:  # handed to the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]  # type: ignore[no-any-return]


async def test_a_call_from_another_loop_fails_at_once_while_the_only_slot_is_busy(
    make_client: MakeClient,
) -> None:
    held = HeldAnswers()
    client = make_client(transport=MockTransport(held), max_concurrency=1)
    lists = client.account("acct-1", iid="st").contact_lists
    busy = asyncio.ensure_future(lists.list())  # holds the account's only slot
    await held.arrived.wait()
    with pytest.raises(kca.EventLoopMismatchError, match="one CampaignClient per event loop"):
        await asyncio.to_thread(in_another_loop, lists.list)
    held.release()
    assert await busy == []
    assert held.sent == 1


async def test_aclose_from_another_loop_raises_and_closes_nothing(
    make_client: MakeClient,
) -> None:
    client = make_client(transport=MockTransport(lambda request: json_response(LISTING)))
    lists = client.account("acct-1", iid="st").contact_lists
    assert await lists.list() == []  # the client now belongs to this loop
    with pytest.raises(kca.EventLoopMismatchError):
        await asyncio.to_thread(in_another_loop, client.aclose)
    assert not client.closed
    assert await lists.list() == []  # still open, on its own loop
    await client.aclose()
    assert client.closed


async def test_aclose_waits_for_calls_in_flight_and_refuses_new_ones(
    make_client: MakeClient,
) -> None:
    held = HeldAnswers()
    client = make_client(transport=MockTransport(held), sleep=never)
    lists = client.account("acct-1", iid="st").contact_lists
    in_flight = asyncio.ensure_future(lists.list())
    await held.arrived.wait()
    closing = asyncio.ensure_future(client.aclose())
    for _ in range(20):
        await asyncio.sleep(0)
    assert not closing.done()  # waiting for the call in flight
    with pytest.raises(kca.ClientClosedError, match="nothing was sent") as refused:
        await lists.list()
    assert refused.value.request_sent is False
    held.release()
    assert await in_flight == []  # finished normally within the grace period
    await closing
    assert held.sent == 1


@pytest.mark.parametrize("grace", [-1, float("nan"), "10", True])
async def test_a_bad_grace_is_a_configuration_error_and_closes_nothing(
    make_client: MakeClient, grace: Any
) -> None:
    client = make_client()
    with pytest.raises(kca.ConfigurationError, match="grace must be seconds >= 0"):
        await client.aclose(grace=grace)
    assert not client.closed
