"""What an import did, post by post: imported, updated, unchanged, skipped (with the reason), and
what could not be mapped; as text for a person and as JSON for a script."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["imported", "updated", "unchanged", "skipped"]


@dataclass
class Line:
    post_id: int
    title: str
    outcome: Outcome
    reason: str | None = None
    article_id: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    """Counts of every outcome; a line only for a post with something to say (skipped, or with
    notes), so the report of a large site stays small: which article each post became is in
    `wordpress_posts`."""

    source: str
    lines: list[Line] = field(default_factory=list)
    tally: Counter[str] = field(default_factory=Counter)
    # Items that are neither posts nor pages (attachments, menu items…): counted, not listed.
    ignored: Counter[str] = field(default_factory=Counter)
    related_set: int = 0
    see_also_missing: list[tuple[int, str]] = field(default_factory=list)
    refused: str | None = None
    # A REST import that stopped part way (the site failed): run again to resume.
    interrupted: str | None = None
    seconds: float = 0.0

    def add(self, line: Line) -> None:
        self.tally[line.outcome] += 1
        if line.outcome == "skipped" or line.notes:
            self.lines.append(line)

    def counts(self) -> dict[str, int]:
        return {kind: self.tally.get(kind, 0) for kind in ("imported", "updated", "unchanged", "skipped")}

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "refused": self.refused,
            "interrupted": self.interrupted,
            "counts": self.counts(),
            "seconds": round(self.seconds, 3),
            "related_set": self.related_set,
            "ignored": dict(self.ignored),
            "posts": [{k: v for k, v in line.__dict__.items() if v not in (None, [])} for line in self.lines],
            "see_also_not_imported": [{"post_id": p, "url": u} for p, u in self.see_also_missing],
        }

    def as_text(self) -> str:
        if self.refused is not None:
            return f"refused: {self.refused}\nnothing was imported"
        counts = self.counts()
        rate = sum(counts.values()) / self.seconds if self.seconds > 0 else 0.0
        out = [
            f"WordPress import from {self.source}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()),
            f"{self.seconds:.1f} s ({rate:.0f} posts/s); see also set on {self.related_set} article(s)",
        ]
        if self.ignored:
            out.append(
                "not posts, ignored: " + ", ".join(f"{n} {kind}" for kind, n in sorted(self.ignored.items()))
            )
        skipped = [line for line in self.lines if line.outcome == "skipped"]
        if skipped:
            out.append("skipped:")
            out += [f"  {line.post_id} {line.title!r}: {line.reason}" for line in skipped]
        noted = [line for line in self.lines if line.notes]
        if noted:
            out.append("could not be mapped as it was (kept as text, or left out as named):")
            for line in noted:
                out.append(f"  {line.post_id} {line.title!r}:")
                out += [f"    - {note}" for note in line.notes]
        if self.interrupted is not None:
            out.append(f"interrupted: {self.interrupted}")
        if self.see_also_missing:
            out.append('"see also" links to posts that were not imported (not in related):')
            out += [f"  {post_id}: {url}" for post_id, url in self.see_also_missing]
        return "\n".join(out)
