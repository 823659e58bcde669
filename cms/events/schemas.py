"""The JSON Schemas of the events, generated from the contract models.

`cms events schemas` writes them to `schema/events/`; a test fails when the checked-in files
differ from what the models generate, so the published contract cannot drift from the code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from cms.events.contract import Article, ArticleEvent

DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE_ID = "urn:newsroom-cms:schema:"

FILES: dict[str, tuple[type[BaseModel], str]] = {
    "article-event.json": (ArticleEvent, "A CMS article event: CloudEvents 1.0, structured JSON mode"),
    "article.json": (Article, "The article an event carries (`data`), as the admin API shows it"),
}


def default_directory() -> Path:
    return Path(__file__).resolve().parents[2] / "schema" / "events"


def generate() -> dict[str, bytes]:
    return {name: _render(model, name, description) for name, (model, description) in FILES.items()}


def _render(model: type[BaseModel], name: str, description: str) -> bytes:
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "$id": BASE_ID + name.removesuffix(".json"),
        **model.model_json_schema(mode="serialization"),
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
