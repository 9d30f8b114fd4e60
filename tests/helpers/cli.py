"""Run ``python -m kore_campaign_async`` as a user would: the process, its output, its status."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable

import attrs

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
