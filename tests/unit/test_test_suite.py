"""The test suite keeps its own habits: every test says what it proves, and tests import their
helpers from helper modules, never from a conftest or from another test module."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(TESTS.rglob("*.py")):
        yield path.relative_to(TESTS.parent).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def undocumented(where: str, tree: ast.Module) -> list[str]:
    """`file::name` of each test function (at any depth, in classes too) without a docstring."""
    return [
        f"{where}::{node.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
        and not (ast.get_docstring(node) or "").strip()
    ]


def imports_from_fixtures_or_tests(where: str, tree: ast.Module) -> list[str]:
    """`file: module` for each import of a conftest or of another test module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            last = name.rsplit(".", 1)[-1]
            if name.startswith("tests.") and (last == "conftest" or last.startswith("test_")):
                found.append(f"{where}: {name}")
    return found


def test_every_test_has_a_docstring_saying_what_it_proves() -> None:
    """No test function anywhere under tests/ lacks a docstring."""
    missing = [name for where, tree in _modules() for name in undocumented(where, tree)]

    assert missing == [], f"add a one-line docstring saying the behaviour each proves: {missing}"


def test_the_docstring_check_finds_a_test_without_one() -> None:
    """The check has teeth: plain and async tests, in a class too, are caught; helpers are not."""
    sample = ast.parse(
        "def test_a():\n    pass\n"
        "async def test_b():\n    '''Proves b.'''\n"
        "class TestC:\n    async def test_c(self):\n        x = 1\n"
        "def helper():\n    pass\n"
    )

    assert undocumented("sample.py", sample) == ["sample.py::test_a", "sample.py::test_c"]


def test_no_test_imports_from_a_conftest_or_another_test_module() -> None:
    """Helpers live in helper modules; a conftest only defines fixtures."""
    found = [hit for where, tree in _modules() for hit in imports_from_fixtures_or_tests(where, tree)]

    assert found == [], f"move what these import into a helper module: {found}"


def test_the_import_check_finds_an_import_from_a_conftest_or_a_test_module() -> None:
    """The check has teeth: importing from a conftest or a test module, in either spelling, is caught."""
    sample = ast.parse(
        "from tests.integration.conftest import eventually\n"
        "import tests.integration.content.test_fuzz\n"
        "from tests.integration.consumers.social import test_social\n"
        "from tests.helpers import create_draft\n"
    )

    assert imports_from_fixtures_or_tests("sample.py", sample) == [
        "sample.py: tests.integration.conftest",
        "sample.py: tests.integration.content.test_fuzz",
        "sample.py: tests.integration.consumers.social.test_social",
    ]
