"""``kore-campaign demo``: thousands of lists scaled down, faults on, nothing lost or doubled."""

from __future__ import annotations

from tests.helpers.cli import Cli


async def test_the_demo_provisions_everything_once_and_says_so(cli: Cli) -> None:
    run = await cli("demo", "--accounts", "2", "--lists", "50", "--window", "0.2")
    assert run.code == 0, run.out + run.err
    assert "lost: 0, duplicated: 0" in run.out
    assert "the re-run wrote 0 times" in run.out
    # The lifecycle walk came first, in both versions.
    for step in ("create        v2", "iter_contacts v2", "delete        v2", "get           v1"):
        assert step in run.out
    # Progress went to stderr as plain lines, since it is not a terminal.
    assert "demo-account-2: 50/50 done, 0 failed, 0 left" in run.err


async def test_the_demo_refuses_kore_settings_it_would_ignore(cli: Cli) -> None:
    run = await cli("--host", "https://platform.kore.ai", "demo", "--lists", "1")
    assert run.code == 2
    assert "demo runs against its own embedded fake server; --host would be ignored" in run.err
    assert "Fake Kore server" not in run.out  # refused before starting anything
    after = await cli("demo", "--client-id", "cs-x")
    assert after.code == 2
    assert "unrecognized arguments: --client-id" in after.err
