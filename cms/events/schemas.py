"""The JSON Schemas of the events, generated from the contract models.

`cms events schemas` writes them to `schema/events/`; a test fails when the checked-in files
differ from what the models generate, so the published contract cannot drift from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from cms.events.contract import Article, ArticleEvent

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "urn:newsroom-cms:schema:"

FILES: dict[str, tuple[type[BaseModel], str]] = {
    "article-event.json": (ArticleEvent, "A CMS article event: CloudEvents 1.0, structured JSON mode"),
    "article.json": (Article, "The article an event carries (`data`), as the admin API shows it"),
}


class PlainJsonSchema(GenerateJsonSchema):
    """JSON Schema without pydantic's OpenAPI extras.

    Pydantic adds OpenAPI's `discriminator` object to a tagged union. It is no JSON Schema
    keyword, and AsyncAPI's Schema Object (what `asyncapi.yaml`'s payload is read as) defines
    `discriminator` as a string, so the reference parser refuses the whole payload. Nothing is
    lost: each variant's `type` is a `const`, which is what tells the `oneOf` branches apart.
    """

    def tagged_union_schema(self, schema: core_schema.TaggedUnionSchema) -> JsonSchemaValue:
        generated = super().tagged_union_schema(schema)
        generated.pop("discriminator", None)
        return generated


def default_directory() -> Path:
    return Path(__file__).resolve().parents[2] / "schema" / "events"


def generate() -> dict[str, bytes]:
    return {name: _render(model, name, description) for name, (model, description) in FILES.items()}


def _render(model: type[BaseModel], name: str, description: str) -> bytes:
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": BASE_ID + name.removesuffix(".json"),
        **model.model_json_schema(mode="serialization", schema_generator=PlainJsonSchema),
        "description": description,
    }
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write(directory: Path) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in generate().items():
        (directory / name).write_bytes(content)
    return sorted(FILES)


def drift(directory: Path) -> list[str]:
    """Files that are missing or differ from what the models generate."""
    return [
        name
        for name, content in generate().items()
        if not (directory / name).exists() or (directory / name).read_bytes() != content
    ]
