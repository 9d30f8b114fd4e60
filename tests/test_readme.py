"""README's promises hold: the test command is the one CI runs, its fake-server example runs,
and every python block in it (and every file in examples/) type-checks under mypy --strict."""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
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


#: What README fragments may use without defining it: what a reader has at that point.
FRAGMENT_NAMES = """\
import kore_campaign_async as kca


async def example(
    client: kca.CampaignClient,
    account: kca.Account,
    account_a: kca.Account,
    account_b: kca.Account,
    desired_a: list[kca.ContactListSpec],
    desired_b: list[kca.ContactListSpec],
    host: str,
) -> None:
"""

#: A block with a key typo and a misuse of an optional value: the check must catch both.
PLANTED = """\
async def planted(account: kca.Account) -> None:
    await account.contact_lists.create_many([{"name": "x", "descripton": "typo"}])
    updated = await account.contact_lists.update("cl-1", name="y")
    await account.contact_lists.add_contacts(updated.name, [])
"""


def _as_module(block: str) -> str:
    """A README block as a module mypy can check: whole if it is one, else inside a coroutine."""
    try:
        compile(block, "README.md block", "exec", dont_inherit=True)
    except SyntaxError:  # top-level await / async with: a fragment of a coroutine
        return FRAGMENT_NAMES + textwrap.indent(block, "    ")
    return block


def test_readme_blocks_and_examples_type_check_under_mypy_strict(tmp_path: Path) -> None:
    blocks = _code_blocks("python")
    assert len(blocks) >= 5
    for index, block in enumerate(blocks):
        (tmp_path / f"readme_block_{index}.py").write_text(_as_module(block), encoding="utf-8")
    planted = tmp_path / "planted.py"
    planted.write_text("import kore_campaign_async as kca\n\n\n" + PLANTED, encoding="utf-8")
    examples = sorted(str(path) for path in (ROOT / "examples").glob("*.py"))
    checked = [*sorted(str(p) for p in tmp_path.glob("*.py")), *examples]
    # One mypy run over everything, with the project's settings, from the project's root.
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "readme"),
            *checked,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in run.stdout.splitlines() if ": error:" in line]
    assert [line for line in errors if "planted.py" not in line] == [], run.stdout
    planted_errors = "\n".join(line for line in errors if "planted.py" in line)
    assert "planted.py:5: error:" in planted_errors  # the key typo
    assert 'planted.py:7: error: Argument 1 to "add_contacts"' in planted_errors
    assert '"str | None"' in planted_errors  # an update's name may be absent
