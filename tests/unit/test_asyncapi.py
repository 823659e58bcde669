"""schema/asyncapi.yaml documents every routing key the relay uses and points at real schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cms.events.contract import EVENT_TYPES, routing_key

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schema"


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
    document = _document()
    addresses = {channel["address"] for channel in document["channels"].values()}

    assert document["asyncapi"].startswith("3.")
    assert {routing_key(t) for t in EVENT_TYPES} <= addresses


def test_every_asyncapi_reference_resolves() -> None:
    document = _document()

    for ref in _refs(document):
        if ref.startswith("#/"):
            node: Any = document
            for part in ref[2:].split("/"):
                assert part in node, f"dangling {ref}"
                node = node[part]
        else:
            assert (SCHEMA_DIR / ref).is_file(), f"missing file for {ref}"
