"""README's promises hold: the test command is the one CI runs, and its fake-server example runs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

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
