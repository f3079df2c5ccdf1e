"""The core's import rules, checked on the syntax tree of every module of ``zsbench/``.

1. The core imports no plugin package: any import of a top-level ``zsbench_*`` module (first-
   or third-party), anywhere in a module (inside functions and ``TYPE_CHECKING`` blocks too),
   or an ``importlib.import_module("zsbench_...")``, fails.
2. Layers: a core module imports only core modules of its own layer or a lower one
   (``base`` < ``host`` < ``engine`` < ``cli``), so the contracts never depend on the engine
   and the engine never on the command line.
3. The modules read when listing plugins or parsing the command line import no heavy library
   (torch, numpy, pandas, scipy) at module level, so ``zsbench --help`` and ``zsbench proxies`` stay fast.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import zsbench

CORE = Path(zsbench.__file__).parent

#: Layer of each core module (a name ending in ``.*`` covers a package's modules).
LAYERS: dict[str, tuple[str, ...]] = {
    # contracts and leaf utilities: what plugins code against; no engine, no plugin host
    "base": (
        "zsbench.errors",
        "zsbench.settings",
        "zsbench.devices",
        "zsbench.interfaces",
        "zsbench.hookspecs",
        "zsbench.registry",
        "zsbench.ranking",
        "zsbench.progress",
        "zsbench.cache",
        "zsbench.costs",
        "zsbench.published",
    ),
    # the plugin host and what builds on the contracts alone
    "host": (
        "zsbench",
        "zsbench.plugins",
        "zsbench.data",
        "zsbench.tables",
        "zsbench.scoring",
        "zsbench.indices",
        "zsbench.testing",
    ),
    # running work (scoring a benchmark, training a build) and presenting its results
    "engine": (
        "zsbench.executors",
        "zsbench.scoring_tasks",
        "zsbench.evaluation",
        "zsbench.plotting",
        "zsbench.report",
        "zsbench.training",
        "zsbench.training.*",
        "zsbench.scoretable",
        "zsbench.hybrid",
        "zsbench.analysis",
    ),
    # the command line
    "cli": ("zsbench.__main__", "zsbench.cli", "zsbench.cli.*"),
}
ORDER = ("base", "host", "engine", "cli")
#: Imports across layers that are allowed, with the reason.
EXCEPTIONS: dict[str, set[str]] = {
    # ``zsbench.evaluate`` is re-exported lazily (a function-level import) for the public API
    "zsbench": {"zsbench.evaluation"},
}
LIGHT = (
    "zsbench",
    "zsbench.errors",
    "zsbench.settings",
    "zsbench.interfaces",
    "zsbench.hookspecs",
    "zsbench.registry",
    "zsbench.plugins",
    "zsbench.progress",
    "zsbench.cli",
    "zsbench.cli._common",
    "zsbench.cli.listing",
    "zsbench.cli.evaluate",
    "zsbench.cli.report",
)
HEAVY = ("torch", "numpy", "pandas", "scipy", "torchvision", "pyarrow")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(CORE.rglob("*.py"))}


def layer_of(module: str) -> str:
    for layer, patterns in LAYERS.items():
        for pattern in patterns:
            if module == pattern or (pattern.endswith(".*") and module.startswith(pattern[:-1])):
                return layer
    raise AssertionError(f"core module {module} has no layer: add it to LAYERS in {Path(__file__).name}")


def imports(tree: ast.AST, *, module_level_only: bool = False) -> list[tuple[int, str]]:
    """``(line, module)`` of every import, ``from zsbench import x`` read as ``zsbench.x`` when
    ``x`` is a core module, and of every ``import_module("literal")`` call."""
    found: list[tuple[int, str]] = []
    nodes = _module_level(tree) if module_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [
                (node.lineno, f"{node.module}.{alias.name}")
                for alias in node.names
                if f"{node.module}.{alias.name}" in MODULES
            ]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _module_level(tree: ast.AST) -> list[ast.AST]:
    """Statements run at import: the module body, and inside ``if``/``try`` blocks that are
    not ``if TYPE_CHECKING``."""
    out: list[ast.AST] = []
    todo = list(getattr(tree, "body", []))
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If):
            if "TYPE_CHECKING" in ast.unparse(node.test):
                todo += node.orelse
            else:
                todo += node.body + node.orelse
        elif isinstance(node, ast.Try):
            todo += node.body + node.orelse + node.finalbody + [h for handler in node.handlers for h in handler.body]
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.append(node)
    return out


def parsed(module: str) -> ast.AST:
    return ast.parse(MODULES[module].read_text(encoding="utf-8"))


@pytest.mark.parametrize("module", sorted(MODULES))
def test_the_core_imports_no_plugin_package(module: str) -> None:
    plugin_imports = [(line, name) for line, name in imports(parsed(module)) if name.split(".")[0].startswith("zsbench_")]
    assert not plugin_imports, f"{module} imports plugin packages {plugin_imports}: plugins register through hooks"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_core_module_imports_only_its_own_layer_or_lower(module: str) -> None:
    rank = ORDER.index(layer_of(module))
    wrong = []
    for line, name in imports(parsed(module)):
        if name != "zsbench" and not name.startswith("zsbench."):
            continue
        target = name if name in MODULES else name.rpartition(".")[0]  # ``from zsbench.x import y``
        if target in EXCEPTIONS.get(module, set()):
            continue
        if ORDER.index(layer_of(target)) > rank:
            wrong.append(f"line {line}: {name} ({layer_of(target)})")
    assert not wrong, f"{module} ({layer_of(module)} layer) imports a higher layer: {'; '.join(wrong)}"


@pytest.mark.parametrize("module", LIGHT)
def test_light_modules_import_no_heavy_library_at_import_time(module: str) -> None:
    heavy = [(line, name) for line, name in imports(parsed(module), module_level_only=True) if name.split(".")[0] in HEAVY]
    assert not heavy, f"{module} imports {heavy} at module level: import them inside the function that needs them"


def test_the_checks_catch_what_they_forbid() -> None:
    """The scanner sees plugin imports however they are written, and layer breaks."""
    source = (
        "import zsbench_metrics\n"
        "def f():\n    from zsbench_proxies.snip import Snip\n"
        "if TYPE_CHECKING:\n    import zsbench_spaces.r1\n"
        "importlib.import_module('zsbench_benchmarks.nb201')\n"
        "from zsbench import evaluation\n"
    )
    names = [name for _, name in imports(ast.parse(source))]
    assert [n for n in names if n.startswith("zsbench_")] == [
        "zsbench_metrics",
        "zsbench_proxies.snip",
        "zsbench_spaces.r1",
        "zsbench_benchmarks.nb201",
    ]
    assert "zsbench.evaluation" in names and layer_of("zsbench.evaluation") == "engine"
    assert ORDER.index(layer_of("zsbench.interfaces")) < ORDER.index(layer_of("zsbench.evaluation"))
    source = "import numpy\nif TYPE_CHECKING:\n    import torch\ndef f():\n    import pandas\n"
    assert [n for _, n in imports(ast.parse(source), module_level_only=True)] == ["numpy"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "zsbench.errors"))
def test_failures_are_described_by_the_one_formatter(module: str) -> None:
    """A failure's one-line reason comes from ``zsbench.errors.describe_error``, so scores, costs,
    trainings, plugins and warnings all say it the same way."""
    source = MODULES[module].read_text(encoding="utf-8")
    assert "__name__}: {" not in source, f"{module} formats an exception itself: use zsbench.errors.describe_error"
