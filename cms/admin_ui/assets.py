"""The front end's built files: Vite's manifest maps each page's entry to its hashed files.

`make install` / `make run` build them (`npm ci`, `vite build` in frontend/) into static/; nothing is
loaded from a CDN, so the UI works in an air-gapped newsroom.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DIST = Path(__file__).parent / "static"
_MANIFEST = DIST / ".vite" / "manifest.json"
# Every built file name is [a-zA-Z0-9._-] under assets/: nothing else is ever served.
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


@dataclass(frozen=True)
class Entry:
    script: str
    styles: tuple[str, ...]
    preloads: tuple[str, ...]


class AssetsMissing(RuntimeError):
    """The front end was not built: run `make install`."""


@dataclass(frozen=True)
class Assets:
    entries: dict[str, Entry]

    def entry(self, name: str) -> Entry:
        return self.entries[name]


def load(dist: Path = DIST) -> Assets:
    """The page entries from the manifest; AssetsMissing when the front end was not built."""
    manifest = dist / ".vite" / "manifest.json"
    try:
        raw = json.loads(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssetsMissing(f"{manifest} is missing: build the front end with `make install`") from None
    entries = {}
    for chunk in raw.values():
        if not chunk.get("isEntry"):
            continue
        name = Path(chunk["src"]).stem
        styles = set(chunk.get("css", []))
        preloads = []
        for imported in _imports(raw, chunk):
            styles.update(raw[imported].get("css", []))
            preloads.append(raw[imported]["file"])
        entries[name] = Entry(chunk["file"], tuple(sorted(styles)), tuple(preloads))
    return Assets(entries)


def _imports(raw: dict[str, dict[str, Any]], chunk: dict[str, Any]) -> list[str]:
    """The static imports of `chunk`, transitively, each once."""
    seen: list[str] = []
    todo: list[str] = list(chunk.get("imports", []))
    while todo:
        key = todo.pop()
        if key in seen or key not in raw:
            continue
        seen.append(key)
        todo.extend(raw[key].get("imports", []))
    return seen


def built_names(dist: Path = DIST) -> list[str]:
    """The built files' names (empty before a build): the only names the asset route serves."""
    folder = dist / "assets"
    return sorted(path.name for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


def file(dist: Path, name: str) -> Path | None:
    """A built file under assets/ by its plain name; None for anything else (no traversal)."""
    if not name or name.startswith(".") or not set(name) <= _ALLOWED or len(name) > 200:
        return None
    found = dist / "assets" / name
    return found if found.is_file() else None
