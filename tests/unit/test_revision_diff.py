"""The revision diff as pure functions: block matching, move detection and word runs."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cms.articles import diff
from cms.events.contract import Article

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def article(version: int, *texts: str, **fields: Any) -> Article:
    return Article.model_validate(
        {
            "id": uuid.UUID(int=1),
            "slug": "s",
            "language": "de",
            "title": "Titel",
            "lead": "",
            "body": [{"type": "paragraph", "text": t} for t in texts],
            "section": None,
            "tags": [],
            "authors": [],
            "related": [],
            "status": "draft",
            "publish_at": None,
            "unpublish_at": None,
            "published_at": None,
            "first_published_at": None,
            "created_at": NOW,
            "updated_at": NOW,
            "owner": "a",
            "version": version,
            **fields,
        }
    )


def changes(old: Article, new: Article) -> list[tuple[str, int | None, int | None]]:
    return [(b.change, b.before_index, b.after_index) for b in diff.compare(old, new).blocks]


def test_swapping_two_blocks_is_one_move_not_two() -> None:
    """Of two swapped paragraphs one stays in place and the other is "moved": nothing removed or added."""
    old = article(1, "Erster Absatz.", "Zweiter Absatz.", "Dritter Absatz.")
    new = article(2, "Zweiter Absatz.", "Erster Absatz.", "Dritter Absatz.")

    found = changes(old, new)

    # Either of the two may count as the one that moved; never both, never a removal.
    assert found in (
        [("unchanged", 1, 0), ("moved", 0, 1), ("unchanged", 2, 2)],
        [("moved", 1, 0), ("unchanged", 0, 1), ("unchanged", 2, 2)],
    )


def test_a_block_moved_and_edited_is_moved_with_word_runs() -> None:
    """A paragraph moved to the end with a word changed is matched by similarity: moved, edited, with runs."""
    old = article(1, "Der Kanzler reiste am Montag nach Paris und traf dort den Präsidenten.", "Zweitens.")
    new = article(2, "Zweitens.", "Der Kanzler reiste am Dienstag nach Paris und traf dort den Präsidenten.")

    [kept, moved] = diff.compare(old, new).blocks

    assert (kept.change, moved.change, moved.edited) == ("unchanged", "moved", True)
    assert moved.words is not None
    assert [(r.op, r.text) for r in moved.words if r.op != "equal"] == [
        ("delete", " Montag"),
        ("insert", " Dienstag"),
    ]


def test_an_unrelated_replacement_is_removed_and_added() -> None:
    """A paragraph replaced by one sharing no words is removed + added, the removal after its predecessor."""
    old = article(1, "Bleibt stehen.", "Alter Text über Wetter.")
    new = article(2, "Bleibt stehen.", "Völlig anderer Inhalt zu Fußball.")

    assert changes(old, new) == [("unchanged", 0, 0), ("removed", 1, None), ("added", None, 1)]


def test_repeated_equal_blocks_pair_in_order() -> None:
    """Identical paragraphs are matched in order, so inserting one more adds one and moves none."""
    old = article(1, "Gleich.", "Gleich.", "Ende.")
    new = article(2, "Gleich.", "Gleich.", "Gleich.", "Ende.")

    assert [c[0] for c in changes(old, new)].count("moved") == 0
    assert [c[0] for c in changes(old, new)].count("added") == 1


def test_field_changes_list_only_what_changed_with_word_runs_for_title_and_lead() -> None:
    """Only changed fields appear; the title gets word runs, tags before and after whole."""
    old = article(1, title="Alte Schlagzeile", tags=["a"])
    new = article(2, title="Neue Schlagzeile", tags=["a", "b"])

    fields = {f.field: f for f in diff.compare(old, new).fields}

    assert set(fields) == {"title", "tags"}
    assert (fields["tags"].before, fields["tags"].after, fields["tags"].words) == (["a"], ["a", "b"], None)
    assert fields["title"].words == [
        diff.WordRun(op="delete", text="Alte"),
        diff.WordRun(op="insert", text="Neue"),
        diff.WordRun(op="equal", text=" Schlagzeile"),
    ]


def test_word_diffs_stop_at_the_total_budget() -> None:
    """Past the total token budget further edited blocks get no runs, and the answer counts them."""
    words = " ".join(f"w{i}" for i in range(diff.MAX_TOKENS - 10))
    count = diff.TOTAL_TOKENS // (2 * (diff.MAX_TOKENS - 10)) + 2
    old = article(1, *[f"{i} {words}" for i in range(count)])
    new = article(2, *[f"{i} {words} neu" for i in range(count)])

    result = diff.compare(old, new)

    assert {b.change for b in result.blocks} == {"changed"}
    assert 0 < result.limits.texts_without_word_diff < count
    assert all(b.words_skipped == (b.words is None) for b in result.blocks)


@given(st.text(max_size=200), st.text(max_size=200))
def test_word_runs_give_back_both_texts(before: str, after: str) -> None:
    """Equal and deleted runs give the old text, equal and inserted the new: tokenising loses nothing."""
    runs = diff.word_runs(before, after)

    assert runs is not None
    assert "".join(r.text for r in runs if r.op != "insert") == before
    assert "".join(r.text for r in runs if r.op != "delete") == after
    assert all(r.text for r in runs)
