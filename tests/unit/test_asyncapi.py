"""schema/asyncapi.yaml documents every routing key the relay uses, points at real schemas and
loads without errors in AsyncAPI's reference parser (tools/asyncapi, installed by `make install`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from cms.events.contract import EVENT_TYPES, routing_key

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = ROOT / "schema"
CHECKER = ROOT / "tools" / "asyncapi" / "check.js"


def _document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SCHEMA_DIR / "asyncapi.yaml").read_text(encoding="utf-8"))
    return loaded


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_asyncapi_is_version_3_with_a_channel_for_every_event_type() -> None:
    """asyncapi.yaml is an AsyncAPI 3 document with a channel for each event type's routing key."""
    document = _document()
    addresses = {channel["address"] for channel in document["channels"].values()}

    assert document["asyncapi"].startswith("3.")
    assert {routing_key(t) for t in EVENT_TYPES} <= addresses


def test_every_asyncapi_reference_resolves() -> None:
    """Every $ref in asyncapi.yaml names a node in the document or a schema file that exists."""
    document = _document()

    for ref in _refs(document):
        if ref.startswith("#/"):
            node: Any = document
            for part in ref[2:].split("/"):
                assert part in node, f"dangling {ref}"
                node = node[part]
        else:
            assert (SCHEMA_DIR / ref).is_file(), f"missing file for {ref}"


def _reference_parser(document: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node is not None, "Node.js is missing: `make install` installs it (Debian's nodejs, npm)"
    assert (CHECKER.parent / "node_modules").is_dir(), "run `make install` (npm ci in tools/asyncapi)"
    # Our own checker script, given a path built here.
    return subprocess.run(  # noqa: S603
        [node, str(CHECKER), str(document)], capture_output=True, text=True, timeout=120, check=False
    )


def _error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("error ")]


def test_reference_parser_loads_the_contract_without_errors() -> None:
    """A downstream team loading asyncapi.yaml with AsyncAPI's own parser gets no error."""
    result = _reference_parser(SCHEMA_DIR / "asyncapi.yaml")

    assert _error_lines(result.stdout) == [], result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "asyncapi.yaml: 0 error(s)" in result.stdout


def test_reference_parser_check_fails_on_a_field_the_amqp_binding_does_not_know(tmp_path: Path) -> None:
    """The check has teeth: a binding field outside the AMQP 0.3.0 binding fails it, by name."""
    shutil.copytree(SCHEMA_DIR / "events", tmp_path / "events")
    text = (SCHEMA_DIR / "asyncapi.yaml").read_text(encoding="utf-8")
    unknown_field = "        mandatory: true\n        exchange: cms.events\n"
    broken = text.replace("        mandatory: true\n", unknown_field)
    assert broken != text
    (tmp_path / "asyncapi.yaml").write_text(broken, encoding="utf-8")

    result = _reference_parser(tmp_path / "asyncapi.yaml")

    errors = _error_lines(result.stdout)
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "error asyncapi-document-resolved components/operationBindings/relayPublish/amqp/exchange: "
        'Property "exchange" is not expected to be here'
    ) in errors
    assert all(" components/operationBindings/relayPublish/amqp" in line for line in errors), errors
