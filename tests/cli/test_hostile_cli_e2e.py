"""What a hostile server sends back never puts the token into the CLI's output."""

from __future__ import annotations

from kore_campaign_async.testing import FakeKoreServer, Fault
from tests.helpers.cli import Cli


async def test_an_echoed_token_is_redacted_from_the_cli_output(
    cli: Cli, kore: FakeKoreServer
) -> None:
    kore.faults.add(Fault("echo_auth", status=400))
    run = await cli("lists")
    assert run.code == 1
    assert "rejected auth header <redacted>" in run.err
    assert "eyJ" not in run.out + run.err  # every JWT starts so: none is shown
