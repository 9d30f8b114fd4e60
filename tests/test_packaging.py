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


#: Modules that load at first use, not with the package (each with its submodules).
LOADED_AT_FIRST_USE = (
    "aiohttp",  # the first client that makes its own session
    "kore_campaign_async._bulk",  # the first create_many, sync or sync_many
    "kore_campaign_async._quota.redis_store",  # the first read of RedisLimitStore
    "kore_campaign_async._quota.pubsub",
    "kore_campaign_async._quota._lua",
    "kore_campaign_async._quota.outbox",
    "kore_campaign_async._quota.breaker",
    "kore_campaign_async._env",  # CampaignClient.from_env
    "kore_campaign_async._observe.otel",  # a call that finds OpenTelemetry imported
    "kore_campaign_async._settings",  # the first CampaignClient()
    "kore_campaign_async._wire.base_url",
    "kore_campaign_async._http.network",
    "kore_campaign_async._http.aiohttp_transport",
)


def test_importing_the_package_leaves_what_not_every_program_uses_for_first_use() -> None:
    done = _loaded_after(
        "kore_campaign_async",
        f"any(name == lazy or name.startswith(lazy + '.') for lazy in {LOADED_AT_FIRST_USE!r})",
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "[]\n", "")


def test_each_public_name_that_loads_at_first_use_imports_as_any_other() -> None:
    lazy = sorted(kca._LAZY)
    assert set(lazy) < set(kca.__all__)
    script = (
        f"from kore_campaign_async import {', '.join(lazy)}\n"
        "import importlib, kore_campaign_async as kca\n"
        "print(sorted(name for name, module in kca._LAZY.items()\n"
        "    if name in dir(kca) and getattr(kca, name) is globals()[name]\n"
        "    is getattr(importlib.import_module(module, 'kore_campaign_async'), name)))\n"
        "try:\n"
        "    kca.NoSuchName\n"
        "except AttributeError as exc:\n"
        "    print(exc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60
    )
    expected = f"{lazy}\nmodule 'kore_campaign_async' has no attribute 'NoSuchName'\n"
    assert (done.returncode, done.stdout, done.stderr) == (0, expected, "")


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
