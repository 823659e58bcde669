"""The import rules that keep the tree's boundaries: the platform imports nothing from the apps,
consumers import only the contract, the platform and their runtime, and only HTTP modules know
Starlette."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The composition root: the one module that knows every part (`cms up`).
COMPOSITION_ROOT = "cms.system"
# Where HTTP lives: the platform's edge, and the modules that are an API.
HTTP_MODULE_NAMES = {"app", "api", "http", "system"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, by absolute name (`from x import y` also names `x.y`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def offending(paths: list[Path], allowed: Callable[[str, str], bool]) -> list[str]:
    return [
        f"{module_name(path)} imports {name}"
        for path in paths
        for name in imports(path)
        if not allowed(module_name(path), name)
    ]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_platform_imports_nothing_from_the_apps() -> None:
    """cms.platform is what every process runs on: it knows neither the content app nor a consumer."""

    def allowed(_: str, name: str) -> bool:
        return not (
            _within(name, "consumers") or (_within(name, "cms") and not _within(name, "cms.platform"))
        )

    assert offending(modules("cms/platform"), allowed) == []


def test_consumers_import_only_the_contract_the_platform_and_their_runtime() -> None:
    """A consumer depends on the event contract, not on the content app's internals."""

    def allowed(_: str, name: str) -> bool:
        if not _within(name, "cms"):
            return True
        return name in ("cms", "cms.events") or any(
            _within(name, package) for package in ("cms.events.contract", "cms.platform")
        )

    assert offending(modules("consumers"), allowed) == []


def test_a_consumer_imports_no_other_consumer() -> None:
    """Each consumer stands alone on the runtime; only the registry and the CLI know them all."""

    def allowed(importer: str, name: str) -> bool:
        if not _within(name, "consumers") or importer in ("consumers.registry", "consumers.cli"):
            return True
        own = importer.split(".")[1] if importer.count(".") >= 1 else ""
        target = name.split(".")[1] if name.count(".") >= 1 else ""
        return target in ("", own, "runtime", "process", "registry", "dlq")

    assert offending(modules("consumers"), allowed) == []


def test_only_the_composition_root_brings_the_content_app_and_the_consumers_together() -> None:
    """Nothing in cms imports a consumer, except cms.system (what `cms up` runs)."""

    def allowed(importer: str, name: str) -> bool:
        return importer == COMPOSITION_ROOT or not _within(name, "consumers")

    assert offending(modules("cms"), allowed) == []


@pytest.mark.parametrize("package", ["cms", "consumers"])
def test_only_http_modules_know_starlette(package: str) -> None:
    """Services, stores and workers take plain values: HTTP stays in API modules and the platform's edge."""

    def allowed(importer: str, name: str) -> bool:
        if not _within(name, "starlette"):
            return True
        last = importer.rsplit(".", 1)[-1]
        return _within(importer, "cms.platform") or last in HTTP_MODULE_NAMES or last.endswith("_api")

    assert offending(modules(package), allowed) == []


def test_the_rules_catch_a_forbidden_import(tmp_path: Path) -> None:
    """The checker itself: a consumer importing the content app's service is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("from cms.articles import service\nfrom cms.events.contract import Article\n")

    found = list(imports(bad))

    assert "cms.articles.service" in found
    assert "cms.events.contract.Article" in found
    assert not _within("cms.articles.service", "cms.platform")
