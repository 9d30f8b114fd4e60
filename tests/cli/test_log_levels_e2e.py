"""What the SDK's loggers put on the CLI's stderr at each verbosity, through a real subprocess."""

from __future__ import annotations

from tests.helpers.cli import Cli


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
