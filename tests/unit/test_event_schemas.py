"""The checked-in event schemas are exactly what the contract models generate."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from cms.events import schemas


def test_checked_in_event_schemas_match_the_models() -> None:
    stale = schemas.drift(schemas.default_directory())

    assert stale == [], f"run `cms events schemas`: {stale} differ from the models"


def test_each_event_schema_is_a_valid_2020_12_schema() -> None:
    for name in schemas.FILES:
        schema = json.loads((schemas.default_directory() / name).read_text(encoding="utf-8"))

        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == schemas.DIALECT


def test_drift_is_reported_when_a_file_differs(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    (tmp_path / "article.json").write_text("{}", encoding="utf-8")

    assert schemas.drift(tmp_path) == ["article.json"]
