"""The pytest plugin: README's example runs in a pytest of its own, as a user's project would."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


#: A fresh pytest takes about a second to start; this bounds a hang, not the speed.
RUN_TIMEOUT = 120.0


def _plugin_example() -> str:
    block: str = next(
        block
        for block in re.findall(r"```python\n(.*?)```", README, flags=re.S)
        if "kore_client" in block
    )
    return block


async def _pytest(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run pytest in ``tmp_path``, a project of its own: pytest-asyncio in its strict mode."""
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "pytest", "-q", "-p", "no:cacheprovider", *args),
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_readmes_example_passes_under_a_users_pytest(tmp_path: Path) -> None:
    (tmp_path / "test_provisioning.py").write_text(_plugin_example())
    code, out = await _pytest(tmp_path, "-n", "0")
    assert code == 0, out
    assert re.search(r"^1 passed", out, flags=re.M), out


async def test_the_plugin_loads_no_sdk_module_until_a_fixture_is_asked_for(tmp_path: Path) -> None:
    (tmp_path / "test_modules.py").write_text(
        "import sys\n\n\n"
        "def test_nothing_of_the_sdk_was_imported() -> None:\n"
        "    assert 'kore_campaign_async_pytest' in sys.modules\n"
        "    assert [m for m in sys.modules if m.startswith('kore_campaign_async.')] == []\n"
        "    assert 'kore_campaign_async' not in sys.modules\n"
    )
    code, out = await _pytest(tmp_path, "-n", "0")
    assert code == 0, out


async def test_it_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "test_provisioning.py").write_text(_plugin_example())
    code, out = await _pytest(tmp_path, "-n", "0", "-p", "no:kore_campaign_async")
    assert code == 1
    assert "fixture 'kore_server' not found" in out
