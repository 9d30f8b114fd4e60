"""The pytest plugin of kore_campaign_async: a fake Kore server and a client pointed at it.

Installed with the package (entry point ``pytest11``), so pytest loads it in every session:
it imports nothing but pytest (and pytest-asyncio, already loaded when installed) until a
test asks for one of its fixtures. Turn it off with ``-p no:kore_campaign_async``.

- ``kore_server``: a running ``kore_campaign_async.testing.FakeKoreServer`` (no rate limit; set
  ``kore_server.rate_limit`` or add ``kore_server.faults`` in the test).
- ``kore_client``: a ``CampaignClient`` with the server's credentials, paced at the server's
  pace (none), with retries that wait milliseconds: a test runs in milliseconds, not at
  Kore's 60 requests a minute.

The fixtures are async: they need pytest-asyncio (or anyio's plugin, for anyio tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    import kore_campaign_async as kca
    from kore_campaign_async.testing import FakeKoreServer

_make_fixture: Callable[[Any], Any]
try:  # an async fixture under pytest-asyncio's strict mode too
    from pytest_asyncio import fixture as _make_fixture
except ImportError:  # anyio's plugin runs plain async fixtures of anyio tests
    _make_fixture = pytest.fixture
_Fixture = TypeVar("_Fixture", bound=Callable[..., Any])


def _async_fixture(function: _Fixture) -> _Fixture:
    """Declare an async fixture for whichever async plugin the session has."""
    return cast("_Fixture", _make_fixture(function))


__all__ = ["kore_client", "kore_server"]


@_async_fixture
async def kore_server() -> AsyncIterator[FakeKoreServer]:
    """A fake Kore server on a free loopback port, stopped after the test."""
    from kore_campaign_async.testing import FakeKoreServer

    async with FakeKoreServer() as server:
        yield server


@_async_fixture
async def kore_client(kore_server: FakeKoreServer) -> AsyncIterator[kca.CampaignClient]:
    """A client of ``kore_server``: no client-side pacing, millisecond retries, closed after."""
    import kore_campaign_async as kca

    async with kca.CampaignClient(
        kore_server.url,
        client_id=kore_server.client_id,
        client_secret=kore_server.client_secret,
        # The fake server sets the pace (none unless the test gives it a rate_limit); Kore's
        # 60 a minute would make a 50-item create_many take 50 s.
        rate_limit=None,
        retry=kca.RetryPolicy(backoff_base=0.01, backoff_cap=0.05, deadline=30.0),
        timeout=kca.Timeout(total=10.0, connect=2.0),
    ) as client:
        yield client
