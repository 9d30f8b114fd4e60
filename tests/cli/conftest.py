"""Run ``python -m kore_campaign_async`` as a user would, against a fake server in this process."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import attrs
import pytest

from kore_campaign_async.testing import FakeKoreServer

ACCOUNT = "acct-cli"
IID = "st-cli-app"
#: Generous: a CLI run takes about half a second, most of it Python starting up.
RUN_TIMEOUT = 60.0


@attrs.frozen
class Run:
    """A finished CLI process."""

    code: int
    out: str
    err: str


Cli = Callable[..., Awaitable[Run]]


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
        # clock (tests/test_limits.py), and through Redis by tests/quota.
        KORE_RATE_PERIOD="1",
    )
    return env


async def start_cli(
    *args: str, env: dict[str, str], prelude: str | None = None
) -> asyncio.subprocess.Process:
    """Start the CLI with stdin closed; ``prelude`` runs first in the child (via ``-c``)."""
    command = ["-m", "kore_campaign_async", *args]
    if prelude is not None:
        call = f"from kore_campaign_async.cli import main\nraise SystemExit(main({list(args)!r}))"
        command = ["-c", f"{prelude}\n{call}"]
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *command,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def finish(process: asyncio.subprocess.Process) -> Run:
    """Wait for the CLI to exit and collect what it printed."""
    out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


async def run_cli(*args: str, env: dict[str, str], prelude: str | None = None) -> Run:
    """Run the CLI to the end."""
    return await finish(await start_cli(*args, env=env, prelude=prelude))


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    """Run the CLI in the configured environment: ``await cli("lists", "--json")``."""

    async def run(*args: str, env: dict[str, str] | None = None, prelude: str | None = None) -> Run:
        return await run_cli(*args, env={**cli_env, **(env or {})}, prelude=prelude)

    return run
