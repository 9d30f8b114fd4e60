"""What the installed package promises about itself: one version, and a light import."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import kore_campaign_async as kca
from kore_campaign_async._config import USER_AGENT

ROOT = Path(__file__).resolve().parent.parent
#: Each runtime dependency, extras included, as pyproject.toml names it.
RUNTIME = {"aiohttp", "attrs", "cattrs", "tenacity", "pyjwt", "multidict", "yarl", "rich", "redis"}
RUNTIME |= {"opentelemetry-api", "fastapi", "uvicorn", "arq"}
#: Left to the resolver in the floors job: our other dependencies need newer releases than its
#: floor (requirements/floors.txt says which).
RESOLVER_CHOSEN = {"typing-extensions"}


def test_one_version_for_the_metadata_the_module_and_the_user_agent() -> None:
    assert kca.__version__ == metadata.version("kore_campaign_async")
    assert f"kore_campaign_async/{kca.__version__}" == USER_AGENT


def _loaded_after(imports: str, condition: str) -> subprocess.CompletedProcess[str]:
    """In a fresh interpreter (this one has imported everything): run ``import <imports>``, then
    print the sorted names in ``sys.modules`` for which ``condition`` (about ``name``) holds."""
    script = f"import sys, {imports}\nprint(sorted(name for name in sys.modules if {condition}))"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )


def test_importing_the_package_leaves_opentelemetry_and_importlib_metadata_unimported() -> None:
    done = _loaded_after(
        "kore_campaign_async, kore_campaign_async.testing",
        "name.split('.')[0] == 'opentelemetry' or name == 'importlib.metadata'",
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_importing_the_package_leaves_tenacity_pyjwt_and_cattrs_for_first_use() -> None:
    # tenacity loads when a first attempt fails, PyJWT (and cryptography) when a token is signed
    # or read, cattrs and the converter when a first answer is read: together they were more
    # than half of the package's import time beyond aiohttp's.
    done = _loaded_after(
        "kore_campaign_async",
        "name.split('.')[0] in ('tenacity', 'jwt', 'cryptography', 'cattrs')"
        " or name in ('kore_campaign_async._http.retrying', 'kore_campaign_async._wire.converter')",
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_ci_installs_each_declared_floor() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text[text.index("[project]") : text.index("[project.scripts]")]
    declared = {
        name.lower(): floor for name, floor in re.findall(r'"([\w.-]+)>=([\d.]+)[";]', project)
    }
    floors_txt = (ROOT / "requirements" / "floors.txt").read_text(encoding="utf-8")
    installed = {n.lower(): v for n, v in re.findall(r"^([\w.-]+)==([\d.]+)$", floors_txt, re.M)}
    assert set(declared) == RUNTIME | RESOLVER_CHOSEN
    # ">=3.11" is met exactly by 3.11.0, the version the floors job installs.
    assert {n: _release(installed[n]) for n in RUNTIME} == {
        n: _release(declared[n]) for n in RUNTIME
    }
    assert all(name in floors_txt for name in RESOLVER_CHOSEN)


def _release(version: str) -> tuple[int, ...]:
    """Return ``version``'s numbers without trailing zeros: 3.11 and 3.11.0 are one release."""
    numbers = [int(part) for part in version.split(".")]
    while numbers and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)
