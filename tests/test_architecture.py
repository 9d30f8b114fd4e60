"""The shape of the house: every import points down a layer, no import cycle, no exec'd code,
no module doing two jobs."""

from __future__ import annotations

import ast
from pathlib import Path

import kore_campaign_async

PACKAGE = Path(kore_campaign_async.__file__).resolve().parent
NAME = "kore_campaign_async"
MAX_LINES = 400

#: The layers, bottom to top, by top-level unit of the package (a subpackage or a module;
#: ``__init__`` is the package itself, the public surface). A module may import its own unit
#: and any unit of a lower layer, nothing beside or above it.
LAYERS: tuple[frozenset[str], ...] = tuple(
    frozenset(layer.split())
    for layer in (
        "_version",
        "_exceptions",
        "_config _clock",
        "_wire",
        "_observe",
        "_quota",
        "_http",
        "_bulk",
        "_resources",
        "_accounts _env _settings",
        "_client",
        "__init__",
        "testing",
        "cli",
        "__main__",
    )
)
#: Imports known to point up, each to be cut by work under way (module, the module it imports).
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()
#: What the fake server and the demo may use besides the public package: the pure bottom
#: layers (the limits and header names they serve), never the client's machinery.
TESTING_MAY_IMPORT = frozenset({"__init__", "_exceptions", "_config", "_clock", "_wire"})
#: Private modules the CLI still imports, each to be replaced by a public name.
CLI_KNOWN_PRIVATE: frozenset[str] = frozenset(
    {
        # The input file's ids get the SDK's own id check, line by line, before anything is
        # sent; id validation is being reworked (base URLs and ids), which settles its home.
        "kore_campaign_async._wire.validation",
    }
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every module of ours that ``name`` imports, wherever the import stands.

    Function-level and TYPE_CHECKING imports count too: a cycle they hide is still a cycle.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            targets = [module] + [f"{module}.{alias.name}" for alias in node.names]
        for target in targets:
            # A package's __init__ is its own node: `from .x import y` depends on x, not on
            # the package above it.
            if target in known and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _unit(module: str) -> str:
    """The top-level unit ``module`` belongs to: ``_http``, ``cli``, ``__init__`` (the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(unit: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if unit in layer)


def _upward(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every import (module, imported) that does not point down a layer."""
    return {
        (name, dep)
        for name, deps in graph.items()
        for dep in deps
        if _unit(dep) != _unit(name) and _layer(_unit(dep)) >= _layer(_unit(name))
    }


def _is_public(module: str) -> bool:
    return not any(part.startswith("_") for part in module.split(".")[1:])


def test_every_unit_of_the_package_has_a_layer() -> None:
    placed = set().union(*LAYERS)
    assert {_unit(name) for name in _modules()} - placed == set()


def test_every_import_points_down_a_layer() -> None:
    upward = _upward(_graph())
    assert upward - KNOWN_UPWARD == set()
    # A known exception that no longer occurs is dropped here, not kept as a blind spot.
    assert upward >= KNOWN_UPWARD


def test_the_layer_check_finds_planted_upward_imports(tmp_path: Path) -> None:
    # Three ways to point up: at module level, inside a function, under TYPE_CHECKING.
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .._http.requester import Requester\n"
        "if TYPE_CHECKING:\n"
        "    from .._client import CampaignClient\n"
        "def late() -> None:\n"
        "    from ..cli import main\n"
        "    from .endpoints import AccountRef\n"  # its own unit: fine
    )
    name = f"{NAME}._wire.planted"
    graph = _graph()
    graph[name] = _imports(name, planted, set(graph))
    assert _upward(graph) - _upward(_graph()) == {
        (name, f"{NAME}._http.requester"),
        (name, f"{NAME}._client"),
        (name, f"{NAME}.cli"),
    }
    # Beside is not below: one bottom unit importing another of its layer is refused too.
    assert _upward({f"{NAME}._config": {f"{NAME}._clock"}}) == {
        (f"{NAME}._config", f"{NAME}._clock")
    }
    assert _upward({f"{NAME}._clock": {f"{NAME}._exceptions"}}) == set()


def test_the_fake_server_uses_the_public_package_and_the_pure_layers_only() -> None:
    graph = _graph()
    wrong = {
        (name, dep)
        for name, deps in graph.items()
        if _unit(name) == "testing"
        for dep in deps
        if _unit(dep) not in TESTING_MAY_IMPORT | {"testing"}
    }
    assert wrong == set()


def test_the_cli_uses_the_public_package_only() -> None:
    graph = _graph()
    private = {
        dep
        for name, deps in graph.items()
        if _unit(name) == "cli"
        for dep in deps
        if _unit(dep) != "cli" and not _is_public(dep)
    }
    assert private - CLI_KNOWN_PRIVATE == set()
    assert private >= CLI_KNOWN_PRIVATE


def test_the_package_has_no_import_cycle() -> None:
    graph = _graph()
    # Packages re-export their modules; the cycles that matter are between modules.
    graph = {
        name: {dep for dep in deps if not (PACKAGE.parent / dep.replace(".", "/")).is_dir()}
        for name, deps in graph.items()
    }
    assert _cycle(graph) is None


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_passes_400_lines() -> None:
    long = {
        name: count
        for name, path in _modules().items()
        if (count := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_code_is_generated_and_executed() -> None:
    calls = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("exec", "eval", "compile")
            ):
                calls.append(f"{name}:{node.lineno} {node.func.id}")
    assert calls == []
