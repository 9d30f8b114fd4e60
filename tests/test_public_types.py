"""Public signatures name only public types, and pyright finds every public type known."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import aiohttp
import redis.asyncio

import kore_campaign_async as kca
import kore_campaign_async.testing as kca_testing

PACKAGE = Path(kca.__file__).resolve().parent
#: Names that TYPE_CHECKING imports leave for the annotations to find: the dependencies', and
#: the package's own public names that load when first read (the bulk jobs, the Redis store).
TYPE_CHECKING_NAMES = {
    "aiohttp": aiohttp,
    "Redis": redis.asyncio.Redis,
    **{name: getattr(kca, name) for name in kca._LAZY},
}
#: Dunder methods that are part of what a user calls.
CALLED_DUNDERS = {"__init__", "__call__", "__aenter__", "__aiter__", "__anext__", "__iter__"}
#: Handles the client builds (and the turns an AccountLimiter hands out): their constructors
#: take its internals, and no user calls them.
BUILT_BY_THE_CLIENT = {"Account.__init__", "ContactLists.__init__", "Turn.__init__"}


def _hidden_types(tp: object, exported: set[int], found: set[str]) -> None:
    """Collect the classes of ours inside ``tp`` that no ``__all__`` exports."""
    if isinstance(tp, typing.TypeVar) and tp.__bound__ is not None:
        _hidden_types(tp.__bound__, exported, found)
    for arg in typing.get_args(tp):
        _hidden_types(arg, exported, found)
    if (
        isinstance(tp, type)
        and tp.__module__.startswith("kore_campaign_async")
        and id(tp) not in exported
    ):
        found.add(f"{tp.__module__}.{tp.__qualname__}")


def _signatures(modules: tuple[ModuleType, ...]) -> dict[str, object]:
    """Every public function, method, property and attribute annotation, by where it is."""
    found: dict[str, object] = {}
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj):
                found[name] = obj  # its attribute annotations
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr not in CALLED_DUNDERS:
                        continue
                    function = member.fget if isinstance(member, property) else member
                    function = getattr(function, "__func__", function)
                    if inspect.isfunction(function):
                        found[f"{name}.{attr}"] = function
            elif inspect.isfunction(obj):
                found[name] = obj
    return found


def test_every_type_a_public_signature_names_is_exported() -> None:
    """A user must be able to import whatever a public signature takes or returns."""
    modules = (kca, kca_testing)
    exported = {id(getattr(module, name)) for module in modules for name in module.__all__}
    hidden: dict[str, set[str]] = {}
    for where, obj in _signatures(modules).items():
        if where in BUILT_BY_THE_CLIENT:
            continue
        hints = typing.get_type_hints(obj, localns=TYPE_CHECKING_NAMES)
        for hint in hints.values():
            found: set[str] = set()
            _hidden_types(hint, exported, found)
            for name in found:
                hidden.setdefault(name, set()).add(where)
    assert hidden == {}


def test_the_check_finds_a_private_type_in_a_public_signature() -> None:
    found: set[str] = set()
    limiter = id(kca.AccountLimiter)
    _hidden_types(dict[str, kca.AccountLimiter | None], {limiter}, found)
    assert found == set()
    _hidden_types(list[kca.AccountLimiter], set(), found)  # as if it were not exported
    assert found == {f"{kca.AccountLimiter.__module__}.AccountLimiter"}


def test_pyright_verifytypes_finds_every_public_type_known(tmp_path: Path) -> None:
    """``pyright --verifytypes``: 100 % of the public symbols have a known, unambiguous type.

    Pyright reads the package as a user's install would (an import hook such as an editable
    install's is invisible to it), so it is linked into a directory of its own.
    """
    site = tmp_path / "site"
    site.mkdir()
    (site / "kore_campaign_async").symlink_to(PACKAGE, target_is_directory=True)
    command = [sys.executable, "-m", "pyright", "--pythonpath", sys.executable]
    command += ["--verifytypes", "kore_campaign_async", "--ignoreexternal", "--outputjson"]
    run = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(run.stdout)
    completeness = report["typeCompleteness"]
    assert completeness["pyTypedPath"], "no py.typed in the package"
    problems = [
        f"{symbol['name']}: {diagnostic['message']}"
        for symbol in completeness["symbols"]
        for diagnostic in symbol["diagnostics"]
        if diagnostic["severity"] == "error"
    ]
    assert problems == []
    assert completeness["completenessScore"] == 1
