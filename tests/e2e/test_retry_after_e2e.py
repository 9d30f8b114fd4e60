"""Server-directed delays end to end, in virtual time: account pauses and Retry-After on 5xx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import attrs
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.clients import FAST_RETRY, MakeClient, RecordingSleep

# No deadline, so only max_retry_after bounds a server-directed wait: 60 s, below the 120 s
# that one 429 may pause an account at most (two default windows), whatever its Retry-After.
NO_DEADLINE = attrs.evolve(FAST_RETRY, deadline=None, max_retry_after=60.0)
ACCOUNT_PAUSE_CAP = 120.0


@pytest.fixture
async def lists(server: FakeKoreServer, make_client: MakeClient) -> AsyncIterator[kca.ContactLists]:
    async with make_client(server, max_concurrency=1, retry=NO_DEADLINE) as client:
        yield client.account("acct-1", iid="st").contact_lists


def too_long_429() -> Fault:
    return Fault("status", operation="list", status=429, headers={"Retry-After": "600"})


async def test_a_long_pause_fails_the_next_call_at_once_without_sending(
    lists: kca.ContactLists, server: FakeKoreServer, client_clock: ManualClock
) -> None:
    server.faults.add(too_long_429())
    with pytest.raises(kca.RateLimitError) as first:
        await lists.list()
    assert first.value.retry_after == 600.0
    assert first.value.request_sent

    with pytest.raises(kca.RateLimitError, match="max_retry_after") as second:
        await lists.list()
    assert second.value.request_sent is False
    # The error above reports the server's 600 s; the account itself pauses for the cap.
    assert second.value.retry_after == pytest.approx(ACCOUNT_PAUSE_CAP)
    assert second.value.attempts == 0
    assert (second.value.method, second.value.url) == (first.value.method, first.value.url)
    assert client_clock.now == 0.0
    assert server.count(operation="list") == 1

    # A call whose policy accepts the delay waits it out, account-wide as before.
    patient = attrs.evolve(NO_DEADLINE, max_retry_after=900.0)
    assert await lists.list(retry=patient) == []
    assert client_clock.now == pytest.approx(ACCOUNT_PAUSE_CAP)


async def test_calls_queued_behind_a_long_pause_all_fail_at_once(
    lists: kca.ContactLists, server: FakeKoreServer, client_clock: ManualClock
) -> None:
    server.faults.add(too_long_429())
    outcomes = await asyncio.gather(*(lists.list() for _ in range(5)), return_exceptions=True)
    assert all(isinstance(o, kca.RateLimitError) for o in outcomes)
    assert sum(o.request_sent for o in outcomes if isinstance(o, kca.RateLimitError)) == 1
    assert server.count(operation="list") == 1
    assert client_clock.now == 0.0


async def test_a_pause_past_the_deadline_fails_at_once(
    lists: kca.ContactLists, server: FakeKoreServer, client_clock: ManualClock
) -> None:
    server.faults.add(Fault("status", operation="list", status=429, headers={"Retry-After": "30"}))
    short = attrs.evolve(NO_DEADLINE, deadline=10.0)
    with pytest.raises(kca.RateLimitError):
        await lists.list(retry=short)
    with pytest.raises(kca.RateLimitError, match="deadline") as caught:
        await lists.list(retry=short)
    assert caught.value.request_sent is False
    assert client_clock.now == 0.0
    assert await lists.list() == []  # within max_retry_after and no deadline: waited out
    assert client_clock.now == pytest.approx(30.0)


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
async def test_retry_after_on_a_retried_status_is_waited(
    lists: kca.ContactLists, server: FakeKoreServer, client_sleep: RecordingSleep, status: int
) -> None:
    server.faults.add(
        Fault("status", operation="list", status=status, headers={"Retry-After": "3.5"})
    )
    assert await lists.list() == []
    assert client_sleep.waits == [3.5]
    assert server.count(operation="list") == 2


async def test_too_long_retry_after_on_a_503_fails_at_once_with_the_503(
    lists: kca.ContactLists, server: FakeKoreServer, client_clock: ManualClock
) -> None:
    server.faults.add(
        Fault("status", operation="list", status=503, headers={"retry-after-ms": "600000"})
    )
    with pytest.raises(kca.InternalServerError) as caught:
        await lists.list()
    assert caught.value.status == 503
    assert caught.value.retry_after == 600.0
    assert caught.value.attempts == 1
    # A 503's delay is this call's: it does not pause the account.
    assert await lists.list() == []
    assert client_clock.now == 0.0
