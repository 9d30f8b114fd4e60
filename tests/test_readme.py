"""README's promises hold: the test command is the one CI runs, and its fake-server example runs."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
import textwrap
from pathlib import Path
from typing import Any

from kore_campaign_async.cli._parser import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = next(block for block in _code_blocks("bash") if "pytest" in block).strip()
    ci_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci_script


async def _run_example(marker: str) -> None:
    """Run the README's python block holding ``marker`` as the body of a coroutine."""
    example = next(block for block in _code_blocks("python") if marker in block)
    source = "import kore_campaign_async as kca\n\nasync def example():\n"
    source += textwrap.indent(example, "    ")
    namespace: dict[str, Any] = {}
    exec(compile(source, "README.md example", "exec"), namespace)
    await namespace["example"]()


async def test_the_fake_server_example_runs_as_written() -> None:
    await _run_example("FakeKoreServer(")


async def test_the_mock_transport_example_runs_as_written() -> None:
    await _run_example("MockTransport(handler)")


def test_every_cli_line_in_a_bash_block_is_a_command_that_parses() -> None:
    lines = [
        line.split("  #")[0].strip()
        for block in _code_blocks("bash")
        for line in block.splitlines()
        if line.startswith("kore-campaign")
    ]
    assert len(lines) >= 5
    parser = build_parser()
    for line in lines:
        assert "|" not in line, line  # pasted into a shell, it would run as a pipeline
        args = shlex.split(line)[1:]
        if args != ["--version"]:  # which prints and exits (tests/cli/test_parser.py)
            parser.parse_args(args)  # a line that does not parse exits 2


async def test_the_logging_snippet_shows_each_retry_as_pasted() -> None:
    snippet = next(block for block in _code_blocks("python") if "basicConfig" in block)
    script = snippet + textwrap.dedent(
        """
        import asyncio, sys
        import kore_campaign_async as kca
        from kore_campaign_async.testing import FakeKoreServer, Fault

        async def main():
            async with FakeKoreServer() as server:
                server.faults.add(Fault("status", operation="get", status=503,
                                        headers={"Retry-After": "0.01"}))
                async with kca.CampaignClient(
                    server.url, client_id=server.client_id,
                    client_secret=server.client_secret, rate_limit=None,
                ) as client:
                    account = client.account("acct-1", iid="st-1")
                    made = await account.contact_lists.create("Renewals")
                    await account.contact_lists.get(made.id)

        asyncio.run(main())
        """
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    [line] = err.decode().splitlines()
    assert " INFO kore_campaign_async.http: contact_lists.get for account acct-1: retrying in " in (
        line
    )
