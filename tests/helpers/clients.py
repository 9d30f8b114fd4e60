"""Client fixtures: a fake Kore server on a real loopback socket, one way to build a client for
it (or for a mocked host), and the virtual time that client runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

import pytest

import kore_campaign_async as kca
from kore_campaign_async._clock import ManualClock
from kore_campaign_async.testing import FakeKoreServer

#: Retries that take milliseconds, so fault tests stay fast without sleeping real seconds.
FAST_RETRY = kca.RetryPolicy(max_attempts=6, backoff_base=0.001, backoff_cap=0.005, deadline=10.0)
#: The host of clients with no fake server behind them (aioresponses, MockTransport).
HOST = "https://kore.example"
#: Against the fake server a hang fails the test in seconds, not the default minute.
SERVER_TIMEOUT = kca.Timeout(total=5.0, connect=2.0)


class RecordingSleep:
    """Sleep in virtual time and remember each requested delay."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.waits.append(delay)
        await self.clock.sleep(delay)


@pytest.fixture
def client_clock() -> ManualClock:
    """The clock the client under test (or the piece of it a test drives: its retry loop, its
    limiter) reads: pacing, account pauses and retry deadlines.

    Virtual: it moves only when something sleeps on it. Give it to a ``FakeKoreServer`` too and
    the server counts its rate windows on the same time as the client.
    """
    return ManualClock()


@pytest.fixture
def client_sleep(client_clock: ManualClock) -> RecordingSleep:
    """How the client under test waits (backoffs, Retry-After, pacing, pauses): on
    ``client_clock``, each wait recorded in ``.waits``."""
    return RecordingSleep(client_clock)


class MakeClient(Protocol):
    def __call__(
        self, server: FakeKoreServer | None = None, /, **overrides: Any
    ) -> kca.CampaignClient: ...


def _credentials(server: FakeKoreServer | None, overrides: dict[str, Any]) -> dict[str, Any]:
    """The server's app credentials (a static token without a server), unless a test gives its
    own; a lone ``client_secret`` override keeps the server's ``client_id``."""
    if "token" in overrides or "token_provider" in overrides:
        return {}
    if server is not None:
        return {"client_id": server.client_id, "client_secret": server.client_secret}
    if "client_id" in overrides or "client_secret" in overrides:
        return {}
    return {"token": "t"}


@pytest.fixture
async def make_client(
    client_clock: ManualClock, client_sleep: RecordingSleep
) -> AsyncIterator[MakeClient]:
    """Build a ``CampaignClient``; a test passes only what differs from these defaults.

    ``make_client(server)`` talks to that fake server with its credentials;
    ``make_client()`` talks to ``HOST`` with a static token. Both: no client-side rate limit,
    ``FAST_RETRY``, and virtual time (``client_clock``, ``client_sleep``), so no backoff or 429
    pause waits real seconds; against a server, ``SERVER_TIMEOUT``. Any keyword (``host=``
    included) overrides. Use it as ``async with make_client(server) as client:``; a client the
    test leaves open is closed when the test ends.
    """
    made: list[kca.CampaignClient] = []

    def make(server: FakeKoreServer | None = None, /, **overrides: Any) -> kca.CampaignClient:
        settings: dict[str, Any] = {
            "rate_limit": None,
            "retry": FAST_RETRY,
            "clock": client_clock,
            "sleep": client_sleep,
            **_credentials(server, overrides),
        }
        if server is not None:
            settings["timeout"] = SERVER_TIMEOUT
        settings.update(overrides)
        host = settings.pop("host", server.url if server is not None else HOST)
        client = kca.CampaignClient(host, **settings)
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def server() -> AsyncIterator[FakeKoreServer]:
    async with FakeKoreServer() as fake:
        yield fake


@pytest.fixture
async def client(
    make_client: MakeClient, server: FakeKoreServer
) -> AsyncIterator[kca.CampaignClient]:
    """An open client of ``server`` with every default of ``make_client``."""
    async with make_client(server) as c:
        yield c


@pytest.fixture
def account(client: kca.CampaignClient) -> kca.Account:
    return client.account("acct-1", iid="st-app-1")
