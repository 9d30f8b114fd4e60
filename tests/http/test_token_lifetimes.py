"""Tokens of every lifetime from a ``token_provider``: each call ends, and every permit is sent.

Kore's BotKit signs 60 s tokens. A token valid a minute or less once made every call spin for
ever (never "ready", the deadline moved on each turn, a permit burnt each time round). Here
the fake server checks each JWT's ``exp`` on the same virtual time the client runs on.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async._quota.rate_limit import PacingSettings
from kore_campaign_async._quota.store import Permit
from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.clients import MakeClient, RecordingSleep

ACCOUNT = "acct-1"
DEADLINE = 20.0
#: Calls per scenario, spread over several lifetimes of the token.
CALLS = 12
#: A real-time guard: a spinning call fails the test instead of hanging it.
REAL_GUARD = 10.0


class CountingStore(kca.LocalLimitStore):
    """The in-process limit store, counting the rate permits it grants."""

    def __init__(self, *, clock: ManualClock) -> None:
        super().__init__(clock=clock)
        self.granted = 0

    async def permit(self, key: kca.AccountKey, settings: PacingSettings) -> Permit:
        permit = await super().permit(key, settings)
        self.granted += permit.granted
        return permit


class Provider:
    """A token_provider signing tokens with ``exp`` = now + ``lifetime``, or as ``exp`` says."""

    def __init__(self, server: FakeKoreServer, wall: Callable[[], float], exp: object) -> None:
        self._server = server
        self._wall = wall
        self._exp = exp
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        claims: dict[str, Any] = {"appId": self._server.client_id, "sub": "bot"}
        if callable(self._exp):
            claims["exp"] = self._exp(self._wall())
        elif self._exp is not _MISSING:
            claims["exp"] = self._exp
        return jwt.encode(claims, self._server.client_secret, algorithm="HS256")


_MISSING = object()


def valid_for(seconds: float) -> Callable[[float], float]:
    return lambda now: now + seconds


VALID = [
    pytest.param(valid_for(1.0), 1.0, id="valid-1s"),
    pytest.param(valid_for(30.0), 30.0, id="valid-30s"),
    pytest.param(valid_for(60.0), 60.0, id="valid-60s"),
    pytest.param(valid_for(61.0), 61.0, id="valid-61s"),
    pytest.param(valid_for(3600.0), 3600.0, id="valid-1h"),
    pytest.param(_MISSING, 600.0, id="exp-missing"),
]
REFUSED = [
    pytest.param(valid_for(-5.0), "expired", id="already-expired"),
    pytest.param(valid_for(0.0), "expired", id="expires-now"),
    pytest.param(math.nan, "not a number", id="exp-nan"),
    pytest.param("soon", "not a number", id="exp-string"),
    pytest.param(True, "not a number", id="exp-bool"),
]


async def scenario(
    make_client: MakeClient,
    clock: ManualClock,
    sleep: RecordingSleep,
    exp: object,
    run: Callable[[kca.Account, Provider], Awaitable[None]],
) -> tuple[FakeKoreServer, CountingStore, Provider]:
    start = time.time()

    def wall() -> float:
        return start + clock()

    store = CountingStore(clock=clock)
    async with FakeKoreServer(wall_clock=wall) as server:
        provider = Provider(server, wall, exp)
        client = make_client(
            server,
            token_provider=provider,
            rate_limit=kca.RateLimit(60, 60.0),
            limit_store=store,
            retry=kca.RetryPolicy(max_attempts=3, backoff_base=0.01, deadline=DEADLINE),
        )
        async with client:
            account = client.account(ACCOUNT, iid="st-1")
            # The client's provider source, on the virtual wall clock the server checks with.
            account.contact_lists._requester.client.auth = kca.ProviderToken(
                provider, now=wall, sleep=sleep
            )
            await asyncio.wait_for(run(account, provider), timeout=REAL_GUARD)
        return server, store, provider


@pytest.mark.parametrize(("exp", "lifetime"), VALID)
async def test_every_call_succeeds_with_a_token_of_any_lifetime(
    make_client: MakeClient,
    client_clock: ManualClock,
    client_sleep: RecordingSleep,
    exp: object,
    lifetime: float,
) -> None:
    took: list[float] = []

    async def run(account: kca.Account, provider: Provider) -> None:
        for n in range(CALLS):
            began = client_clock()
            await account.contact_lists.create(f"List {n}", "")
            took.append(client_clock() - began)
            # Calls spread over about four lifetimes (at most an hour apart).
            await client_sleep(min(lifetime / 3, 3600.0))

    server, store, provider = await scenario(make_client, client_clock, client_sleep, exp, run)
    assert server.count(operation="create", status=200) == CALLS
    assert server.count(status=401) == 0  # no token sent past its exp
    assert max(took) <= DEADLINE
    # At most one fetch per call: a token in its renewal margin is used while the next comes.
    assert provider.calls <= CALLS
    # Every rate permit taken was a request sent.
    assert store.granted == len(server.requests) == CALLS


@pytest.mark.parametrize(("exp", "why"), REFUSED)
async def test_a_token_that_cannot_be_used_fails_each_call_with_a_token_error(
    make_client: MakeClient,
    client_clock: ManualClock,
    client_sleep: RecordingSleep,
    exp: object,
    why: str,
) -> None:
    async def run(account: kca.Account, provider: Provider) -> None:
        for n in range(3):
            began = client_clock()
            with pytest.raises(kca.TokenError, match=why) as caught:
                await account.contact_lists.create(f"List {n}", "")
            assert client_clock() - began <= DEADLINE
            assert caught.value.attempts == 0
            assert provider.calls == n + 1  # one fetch per call, never a spin

    server, store, _ = await scenario(make_client, client_clock, client_sleep, exp, run)
    assert server.requests == []
    assert store.granted == 0  # no permit taken for a request never sent
