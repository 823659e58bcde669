"""The checked-in event schemas are exactly what the contract models generate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from cms.events import schemas


def test_checked_in_event_schemas_match_the_models() -> None:
    """The checked-in JSON Schemas are exactly what the Pydantic contract generates today."""
    stale = schemas.drift(schemas.default_directory())

    assert stale == [], f"run `cms events schemas`: {stale} differ from the models"


def test_each_event_schema_is_a_valid_2020_12_schema() -> None:
    """Each event schema is itself a valid JSON Schema 2020-12 document that declares that dialect."""
    for name in schemas.FILES:
        schema = json.loads((schemas.default_directory() / name).read_text(encoding="utf-8"))

        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == schemas.DIALECT


def test_drift_is_reported_when_a_file_differs(tmp_path: Path) -> None:
    """The drift check has teeth: a changed schema file is reported by name."""
    schemas.write(tmp_path)
    (tmp_path / "article.json").write_text("{}", encoding="utf-8")

    assert schemas.drift(tmp_path) == ["article.json"]


def _keyword_values(node: Any, keyword: str) -> list[Any]:
    """Every value of `keyword` anywhere in a schema."""
    if isinstance(node, list):
        return [found for item in node for found in _keyword_values(item, keyword)]
    if not isinstance(node, dict):
        return []
    found = [node[keyword]] if keyword in node else []
    for key, value in node.items():
        # `properties` and `$defs` map names to schemas, and a property may be called anything.
        for child in value.values() if key in ("properties", "$defs") else [value]:
            found += _keyword_values(child, keyword)
    return found


def test_event_schemas_carry_no_openapi_discriminator() -> None:
    """The block union is a plain JSON Schema `oneOf` told apart by each block's `type` const,
    without OpenAPI's `discriminator` object (AsyncAPI's Schema Object wants a string there)."""
    for name, content in schemas.generate().items():
        schema = json.loads(content)
        article = schema["$defs"]["Article"] if name == "article-event.json" else schema
        union = article["properties"]["body"]["items"]["oneOf"]
        variants = [ref["$ref"].removeprefix("#/$defs/") for ref in union]
        tags = {schema["$defs"][variant]["properties"]["type"]["const"] for variant in variants}

        assert _keyword_values(schema, "discriminator") == [], name
        assert tags == {"paragraph", "heading", "quote", "list", "image", "embed"}, name
