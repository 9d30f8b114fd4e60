"""What the SDK's loggers put on the CLI's stderr at each verbosity, through a real subprocess."""

from __future__ import annotations

import asyncio

from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.cli import RUN_TIMEOUT, Cli, start_cli


async def test_a_failed_call_is_told_once_by_default_and_its_give_up_line_only_with_v(
    cli: Cli,
) -> None:
    plain = await cli("get", "cl-missing")
    assert plain.code == 1
    assert plain.err.count("Contact list not found") == 1  # the CLI's own error line
    assert "kore_campaign_async.http" not in plain.err

    verbose = await cli("get", "cl-missing", "-v")
    assert verbose.code == 1
    assert "INFO kore_campaign_async.http: contact_lists.get for account" in verbose.err
    assert "failed after 1 attempt(s): NotFoundError" in verbose.err
    assert "attempt 1 -> 404" not in verbose.err  # per-attempt lines stay DEBUG (-vv)


async def test_v_shows_each_retry_while_the_call_still_waits(
    kore: FakeKoreServer, cli_env: dict[str, str]
) -> None:
    # A 503 asking for a 10 ms wait, then an attempt the server holds: the retry line must be
    # on stderr while the CLI is still waiting for that second answer, not after it ends.
    kore.faults.add(Fault("status", operation="get", status=503, headers={"Retry-After": "0.01"}))
    kore.faults.add(Fault("delay", operation="get", delay=RUN_TIMEOUT))
    process = await start_cli("get", "cl-1", "-v", env=cli_env)
    try:
        assert process.stderr is not None
        line = await asyncio.wait_for(process.stderr.readline(), RUN_TIMEOUT)
        assert process.returncode is None  # still waiting on the held attempt
    finally:
        process.terminate()
        await process.communicate()
    assert line.decode().startswith(
        "INFO kore_campaign_async.http: contact_lists.get for account acct-cli: "
        "retrying in 0.0 s after attempt 1: InternalServerError: 503 GET "
    )
