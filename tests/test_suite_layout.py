"""The test suite's own layout: shared fixtures live in ``conftest.py`` and shared fakes in helper modules
(``toy_plugins``, ``toy_training``, ``report_helpers``), so no test module imports another, and every
``test_*.py`` file holds tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
TEST_MODULES = sorted(TESTS.glob("test_*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda p: p.name)
def test_a_test_module_imports_no_other_test_module(path: Path) -> None:
    others = {p.stem for p in TEST_MODULES} - {path.stem}
    wrong = sorted(imported_modules(ast.parse(path.read_text(encoding="utf-8"))) & others)
    assert not wrong, f"{path.name} imports {wrong}: move what they share to conftest.py or a helper module"


@pytest.mark.parametrize("path", TEST_MODULES, ids=lambda p: p.name)
def test_a_test_module_holds_tests(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    tests = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test")]
    assert tests, f"{path.name} holds no test: a module of shared fakes is named without the test_ prefix"


def test_the_import_reader_sees_both_forms() -> None:
    tree = ast.parse("import test_a\nfrom test_b import x\nfrom .test_c import y\ndef f():\n    import test_d.sub\n")
    assert imported_modules(tree) == {"test_a", "test_b", "test_d"}
