"""The CLI tests' fixtures: a fake server, a user's environment configured for it, ``cli``."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest

from kore_campaign_async.testing import FakeKoreServer
from tests.helpers.cli import ACCOUNT, IID, Cli, Run, run_cli


@pytest.fixture
async def kore() -> AsyncIterator[FakeKoreServer]:
    async with FakeKoreServer() as server:
        yield server


@pytest.fixture
def cli_env(kore: FakeKoreServer) -> dict[str, str]:
    """The environment of a user configured for the fake server (and nothing else of KORE_*)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KORE_")}
    env.update(
        KORE_HOST=kore.url,
        KORE_CLIENT_ID=kore.client_id,
        KORE_CLIENT_SECRET=kore.client_secret,
        KORE_ACCOUNT_ID=ACCOUNT,
        KORE_IID=IID,
        # Compressed time, as in every e2e test: 60 requests a second instead of Kore's 60 a
        # minute, so a run is not a second per request. The pace itself is tested on a virtual
        # clock (tests/quota/test_limiter.py), and through Redis by tests/quota.
        KORE_RATE_PERIOD="1",
    )
    return env


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    """Run the CLI in the configured environment: ``await cli("lists", "--json")``."""

    async def run(*args: str, env: dict[str, str] | None = None, prelude: str | None = None) -> Run:
        return await run_cli(*args, env={**cli_env, **(env or {})}, prelude=prelude)

    return run
