"""The operator's documentation names every setting there is, and no setting that is not."""

from __future__ import annotations

import re
from pathlib import Path

from cms.system import SystemSettings

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_is_documented_in_operations_md() -> None:
    """Every setting appears as `CMS_*` in the settings table of docs/operations.md."""
    text = DOCS.read_text(encoding="utf-8")

    missing = [
        f"CMS_{name.upper()}" for name in SystemSettings.model_fields if f"`CMS_{name.upper()}`" not in text
    ]

    assert missing == []


def test_operations_md_names_no_setting_that_does_not_exist() -> None:
    """docs/operations.md names no CMS_* variable that the settings do not define."""
    known = {f"CMS_{name.upper()}" for name in SystemSettings.model_fields} | {"CMS_MIGRATIONS_DIR"}
    named = set(re.findall(r"CMS_[A-Z_]+[A-Z]", DOCS.read_text(encoding="utf-8")))

    assert named - known == set()
