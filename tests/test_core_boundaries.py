"""The core's import rules, checked on the syntax tree of every module of ``zsbench/``.

1. The core imports no plugin package: any import of a top-level ``zsbench_*`` module (first-
   or third-party), anywhere in a module (inside functions and ``TYPE_CHECKING`` blocks too),
   or an ``importlib.import_module("zsbench_...")``, fails.
2. Packages: the top level of ``zsbench/`` is the public plugin API and imports only itself; each
   subpackage (``engine``, ``training``, ``studies``, ``reporting``, ``cli``) imports only what its rule in
   ``ALLOWED`` names, so the contracts never depend on the engine and the engine never on the command line.
   No command module imports another, and no two core modules import each other, directly or in a circle.
3. The modules read when listing plugins or parsing the command line import no heavy library
   (torch, numpy, pandas, scipy) at module level, so ``zsbench --help`` and ``zsbench proxies`` stay fast.
"""

from __future__ import annotations

import ast
import importlib
import itertools
from pathlib import Path

import pytest

import zsbench

CORE = Path(zsbench.__file__).parent

#: What each package of the core may import: a module gets its rule from the folder it sits in, so a new
#: module needs no entry here. ``zsbench`` is the top level: the public plugin API (contracts, hooks, host,
#: registry, errors and the helpers plugin authors import); the subpackages are the application.
ALLOWED: dict[str, tuple[str, ...]] = {
    "zsbench": ("zsbench",),
    "zsbench.engine": ("zsbench", "zsbench.engine"),
    "zsbench.training": ("zsbench", "zsbench.engine", "zsbench.training"),
    "zsbench.studies": ("zsbench", "zsbench.engine", "zsbench.studies"),
    "zsbench.reporting": ("zsbench", "zsbench.engine", "zsbench.studies", "zsbench.reporting"),
    "zsbench.cli": ("zsbench", "zsbench.engine", "zsbench.training", "zsbench.studies", "zsbench.reporting", "zsbench.cli"),
}
#: Imports across that rule which are allowed, with the reason.
EXCEPTIONS: dict[str, set[str]] = {
    # ``zsbench.evaluate`` is re-exported lazily (a function-level import) for the public API
    "zsbench": {"zsbench.engine", "zsbench.engine.evaluation"},
    # the contract checks plugin authors run score through the real harness, not a copy of it
    "zsbench.testing": {"zsbench.engine.harness"},
}
LIGHT = (
    "zsbench",
    "zsbench.errors",
    "zsbench.settings",
    "zsbench.interfaces",
    "zsbench.hookspecs",
    "zsbench.registry",
    "zsbench.plugins",
    "zsbench.engine.progress",
    "zsbench.cli",
    "zsbench.cli._common",
    "zsbench.cli._options",
    "zsbench.cli._sources",
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


def package_of(module: str) -> str:
    """The package whose rule applies: the subpackage a module sits in, or the top level."""
    parts = module.split(".")
    if len(parts) >= 2 and f"zsbench.{parts[1]}" in ALLOWED:
        return f"zsbench.{parts[1]}"
    if module == "zsbench.__main__":
        return "zsbench.cli"
    return "zsbench"


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
def test_a_core_module_imports_only_what_its_package_may(module: str) -> None:
    package = package_of(module)
    wrong = []
    for line, name in imports(parsed(module)):
        if name != "zsbench" and not name.startswith("zsbench."):
            continue
        target = name if name in MODULES else name.rpartition(".")[0]  # ``from zsbench.x import y``
        if target in EXCEPTIONS.get(module, set()):
            continue
        if package_of(target) not in ALLOWED[package]:
            wrong.append(f"line {line}: {name} ({package_of(target)})")
    assert not wrong, f"{module} ({package}) imports what its package may not: {'; '.join(wrong)}"


def test_every_module_sits_in_a_package_with_a_rule() -> None:
    for module in MODULES:
        parts = module.split(".")
        assert len(parts) <= 2 or f"zsbench.{parts[1]}" in ALLOWED, f"{module}: its package has no rule in ALLOWED"


def test_command_modules_import_no_other_command_module() -> None:
    """Shared options, the score-source loader and rendering live in the CLI's shared modules (their
    names start with an underscore); a command module never imports another command module."""
    commands = [m for m in MODULES if m.startswith("zsbench.cli.") and not m.rpartition(".")[2].startswith("_")]
    wrong = [
        f"{module} line {line}: {name}"
        for module in commands
        for line, name in imports(parsed(module))
        if any(name == other or name.startswith(other + ".") for other in commands if other != module)
    ]
    assert not wrong, f"command modules import each other: {wrong}"


def import_graph(modules: dict[str, Path], root: str) -> dict[str, set[str]]:
    """Module -> the modules of ``modules`` it imports (anywhere in it, function-level imports
    included), leaving out the package ``root`` itself (its ``__init__`` re-exports)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for _, name in imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = name if name in modules else name.rpartition(".")[0]
            if target in modules and target not in (module, root):
                targets.add(target)
        graph[module] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_between_core_modules() -> None:
    assert cycles(import_graph(MODULES, "zsbench")) == []


@pytest.mark.parametrize("package", ["zsbench_proxies", "zsbench_metrics", "zsbench_spaces", "zsbench_benchmarks"])
def test_no_import_circle_inside_a_first_party_plugin_package(package: str) -> None:
    folder = Path(importlib.import_module(package).__file__).parent
    modules = {
        package if path.stem == "__init__" else f"{package}.{path.stem}": path for path in sorted(folder.glob("*.py"))
    }
    assert cycles(import_graph(modules, package)) == []


@pytest.mark.parametrize("package", ["zsbench_proxies", "zsbench_metrics", "zsbench_spaces", "zsbench_benchmarks"])
def test_a_first_party_plugin_uses_only_the_public_api(package: str) -> None:
    """CONTRIBUTING says the first-party plugins use only zsbench's public API, the top level of ``zsbench/``:
    none imports the application (``engine``, ``training``, ``studies``, ``reporting``, ``cli``)."""
    folder = Path(importlib.import_module(package).__file__).parent
    found = [
        (path.name, line, name)
        for path in sorted(folder.glob("*.py"))
        for line, name in imports(ast.parse(path.read_text(encoding="utf-8")))
        if name == "zsbench" or name.startswith("zsbench.")
    ]
    assert found, f"{package} imports nothing of zsbench: the check reads the wrong folder"
    wrong = [
        f"{file} line {line}: {name}"
        for file, line, name in found
        if package_of(name if name in MODULES else name.rpartition(".")[0]) != "zsbench"
    ]
    assert not wrong, f"{package} imports the application: {wrong}"


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


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
        "from zsbench.engine import evaluation\n"
    )
    names = [name for _, name in imports(ast.parse(source))]
    assert [n for n in names if n.startswith("zsbench_")] == [
        "zsbench_metrics",
        "zsbench_proxies.snip",
        "zsbench_spaces.r1",
        "zsbench_benchmarks.nb201",
    ]
    assert "zsbench.engine.evaluation" in names and package_of("zsbench.engine.evaluation") == "zsbench.engine"
    assert package_of("zsbench.engine.evaluation") not in ALLOWED[package_of("zsbench.interfaces")]
    source = "import numpy\nif TYPE_CHECKING:\n    import torch\ndef f():\n    import pandas\n"
    assert [n for _, n in imports(ast.parse(source), module_level_only=True)] == ["numpy"]


def formats_an_exception(tree: ast.AST) -> list[int]:
    """Lines of the f-strings that write an exception's class name followed by ``:``
    (``f"{type(exc).__name__}: {exc}"``, ``f"{exc.__class__.__name__}: ..."``): the one-line reason
    a failure gets from :func:`zsbench.errors.describe_error`, written out by hand."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.JoinedStr):
            continue
        parts = node.values
        for part, after in itertools.pairwise(parts):
            named = isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Attribute) and part.value.attr == "__name__"
            if not named:
                continue
            owner = part.value.value
            of_a_class = (isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "type") or (
                isinstance(owner, ast.Attribute) and owner.attr == "__class__"
            )
            if of_a_class and isinstance(after, ast.Constant) and str(after.value).startswith(":"):
                found.append(node.lineno)
    return found


def test_the_formatter_check_sees_an_exception_formatted_by_hand() -> None:
    source = (
        'a = f"{type(exc).__name__}: {exc}"\n'
        'b = f"failed ({exc.__class__.__name__}: {exc})"\n'
        'c = f"{type(exc).__name__} raised"\n'
        'd = f"{proxy.__name__}: {value}"\n'
        'e = describe_error(exc)\n'
    )
    assert formats_an_exception(ast.parse(source)) == [1, 2]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "zsbench.errors"))
def test_failures_are_described_by_the_one_formatter(module: str) -> None:
    """A failure's one-line reason comes from ``zsbench.errors.describe_error``, so scores, costs,
    trainings, plugins and warnings all say it the same way."""
    lines = formats_an_exception(parsed(module))
    assert not lines, f"{module} lines {lines} format an exception themselves: use zsbench.errors.describe_error"


#: The longest function allowed in ``zsbench/``, in lines from ``def`` to its last line (nested functions count
#: in their parent): beyond it a function does several things, and each gets a name of its own.
MAX_FUNCTION_LINES = 80


def long_functions(tree: ast.AST, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """``(name, line, length)`` of every function longer than ``limit`` lines, methods and nested ones included."""
    return [
        (node.name, node.lineno, node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > limit
    ]


def test_the_length_check_counts_a_function_with_its_nested_ones() -> None:
    inner = "    def inner():\n" + "        x = 1\n" * 3
    source = "def outer():\n" + inner + "    return inner\n" + "def short():\n    return 1\n"
    assert long_functions(ast.parse(source), limit=5) == [("outer", 1, 6)]
    assert long_functions(ast.parse(source), limit=6) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_is_longer_than_the_limit(module: str) -> None:
    found = long_functions(parsed(module))
    assert not found, (
        f"{module}: {', '.join(f'{name} (line {line}, {n} lines)' for name, line, n in found)} over "
        f"{MAX_FUNCTION_LINES} lines: split it into functions that each do one thing"
    )
