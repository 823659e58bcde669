"""The revision diff over HTTP: fields, blocks (moved, changed, added) and words, on a real article."""

from __future__ import annotations

import threading
from typing import Any

import httpx2
import pytest

from cms.articles import diff
from cms.events.contract import Article
from tests.helpers import bearer, create_draft, fixture, patch


def diff_path(article: dict[str, Any], a: int | str, b: int | str) -> str:
    return f"/v1/admin/articles/{article['id']}/revisions/{a}/diff/{b}"


async def edited_stabschefs(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, Any]:
    """The fixture at version 1, and at version 2 with the fifth block moved to second place, a word
    changed in the first, a block added at the end and a new title."""
    article = await create_draft(api, token["author"], **fixture("article-stabschefs.de.json"))
    body = list(article["body"])
    moved = body.pop(4)
    body.insert(1, moved)
    body[0] = {**body[0], "text": body[0]["text"].replace("am Donnerstag", "am Mittwoch")}
    body.append({"type": "paragraph", "text": "Ein neuer Absatz zum Schluss."})
    response = await patch(api, token["author"], article, body=body, title="Stabschefs sprechen wieder")
    assert response.status_code == 200, response.text
    return article


async def test_a_diff_of_the_fixture_shows_the_moved_block_the_changed_word_the_added_block_and_the_title(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A moved paragraph is one "moved" entry (not removed + added), a changed word is a word run."""
    article = await edited_stabschefs(api, token)
    original = fixture("article-stabschefs.de.json")["body"]

    response = await api.get(diff_path(article, 1, 2), headers=bearer(token["author"]))

    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["from_version"], answer["to_version"]) == (1, 2)
    assert [f["field"] for f in answer["fields"]] == ["title"]
    title = answer["fields"][0]
    assert title["before"] == fixture("article-stabschefs.de.json")["title"]
    assert title["after"] == "Stabschefs sprechen wieder"
    assert {"op": "insert", "text": " wieder"} in title["words"]

    blocks = answer["blocks"]
    kinds = [(b["change"], b["before_index"], b["after_index"]) for b in blocks]
    assert kinds == [
        ("changed", 0, 0),
        ("moved", 4, 1),
        ("unchanged", 1, 2),
        ("unchanged", 2, 3),
        ("unchanged", 3, 4),
        ("unchanged", 5, 5),
        ("unchanged", 6, 6),
        ("added", None, 7),
    ]
    assert [b for b in blocks if b["change"] == "removed"] == []
    changed, moved, added = blocks[0], blocks[1], blocks[-1]
    assert changed["edited"] is True
    edits = [run for run in changed["words"] if run["op"] != "equal"]
    assert edits == [{"op": "delete", "text": " Donnerstag"}, {"op": "insert", "text": " Mittwoch"}]
    # The runs are the texts again: the equal and deleted ones the old, the equal and inserted the new.
    assert "".join(r["text"] for r in changed["words"] if r["op"] != "insert") == original[0]["text"]
    assert "".join(r["text"] for r in changed["words"] if r["op"] != "delete") == changed["after"]["text"]
    assert (moved["edited"], moved["words"], moved["after"]) == (False, None, original[4])
    assert added["after"] == {"type": "paragraph", "text": "Ein neuer Absatz zum Schluss."}
    assert answer["limits"]["texts_without_word_diff"] == 0
    assert answer["limits"]["block_matching_complete"] is True


async def test_the_diff_backwards_and_of_a_version_with_itself(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """From 2 back to 1 the added block is removed and the title changes back; 1 to 1 changes nothing."""
    article = await edited_stabschefs(api, token)

    backwards = (await api.get(diff_path(article, 2, 1), headers=bearer(token["editor"]))).json()
    same = (await api.get(diff_path(article, 1, 1), headers=bearer(token["editor"]))).json()

    assert [b["change"] for b in backwards["blocks"]].count("removed") == 1
    assert [b["change"] for b in backwards["blocks"]].count("moved") == 1
    assert backwards["fields"][0]["after"] == fixture("article-stabschefs.de.json")["title"]
    assert same["fields"] == []
    assert {b["change"] for b in same["blocks"]} == {"unchanged"}


@pytest.mark.parametrize(("a", "b"), [(1, 3), (3, 1), (9, 9), (0, 1), (1, "x")])
async def test_an_unknown_version_is_a_404(
    api: httpx2.AsyncClient, token: dict[str, str], a: int | str, b: int | str
) -> None:
    """A version the article does not have (or one that is not a whole number from 1) is a 404 problem."""
    article = await edited_stabschefs(api, token)

    response = await api.get(diff_path(article, a, b), headers=bearer(token["author"]))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_deleted_articles_history_has_no_diff(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """Once an article is deleted, its diff is a 404 like its revisions."""
    article = await edited_stabschefs(api, token)
    await api.delete(
        f"/v1/admin/articles/{article['id']}", headers={**bearer(token["editor"]), "If-Match": '"2"'}
    )

    response = await api.get(diff_path(article, 1, 2), headers=bearer(token["author"]))

    assert response.status_code == 404


async def test_a_text_too_long_for_a_word_diff_is_given_whole_and_the_answer_says_so(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A changed 1 MB paragraph gets no word runs: before and after whole, marked and counted."""
    long_text = "Wort " * 200_000
    article = await create_draft(api, token["author"], body=[{"type": "paragraph", "text": long_text}])
    edited = await patch(
        api, token["author"], article, body=[{"type": "paragraph", "text": long_text + "Ende"}]
    )
    assert edited.status_code == 200

    answer = (await api.get(diff_path(article, 1, 2), headers=bearer(token["author"]))).json()

    [block] = answer["blocks"]
    assert (block["change"], block["edited"], block["words"], block["words_skipped"]) == (
        "changed",
        True,
        None,
        True,
    )
    assert block["after"]["text"].endswith("Ende")
    assert answer["limits"]["texts_without_word_diff"] == 1
    assert answer["limits"]["max_tokens_per_text"] == diff.MAX_TOKENS


async def test_the_diff_is_computed_off_the_event_loop(
    api: httpx2.AsyncClient, token: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comparison runs in a worker thread, not on the thread of the event loop that serves requests."""
    article = await edited_stabschefs(api, token)
    threads: list[int] = []
    compare = diff.compare

    def recording(old: Article, new: Article) -> diff.RevisionDiff:
        threads.append(threading.get_ident())
        return compare(old, new)

    monkeypatch.setattr(diff, "compare", recording)

    response = await api.get(diff_path(article, 1, 2), headers=bearer(token["author"]))

    assert response.status_code == 200
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


async def test_the_diff_is_documented_in_openapi(api: httpx2.AsyncClient) -> None:
    """/openapi.json describes the diff with its models: blocks with their change kinds, word runs."""
    spec = (await api.get("/openapi.json")).json()

    operation = spec["paths"]["/v1/admin/articles/{id}/revisions/{a}/diff/{b}"]["get"]
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = spec["components"]["schemas"]
    assert ref == "#/components/schemas/RevisionDiff"
    assert set(schemas["RevisionDiff"]["properties"]) >= {"fields", "blocks", "limits"}
    assert set(schemas["BlockChange"]["properties"]["change"]["enum"]) == {
        "unchanged",
        "changed",
        "moved",
        "added",
        "removed",
    }
    assert set(schemas["WordRun"]["properties"]["op"]["enum"]) == {"equal", "insert", "delete"}
    assert {p["name"] for p in operation["parameters"]} == {"id", "a", "b"}
