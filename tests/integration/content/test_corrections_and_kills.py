"""Corrections and legal takedowns through the API: notes on delivery and in the event, a kill
that takes the article off delivery at once and that only an admin lifts, the reason on record."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx2

from tests.helpers import action, bearer, create_draft, event_types, publish

Record = asyncpg.Record
NOTE = "In einer früheren Fassung hieß es, das Treffen sei am Montag gewesen. Es war am Dienstag."
REASON = "Einstweilige Verfügung des LG Hamburg, Az. 324 O 123/26"


async def _live(api: httpx2.AsyncClient, token: dict[str, str], **fields: Any) -> dict[str, Any]:
    return await publish(api, token["editor"], await create_draft(api, token["author"], **fields))


async def _payloads(db: asyncpg.Connection[Record], article_id: str) -> list[dict[str, Any]]:
    rows = await db.fetch("SELECT payload FROM outbox WHERE article_id = $1 ORDER BY sequence", article_id)
    return [row["payload"] for row in rows]


async def test_a_correction_note_shows_on_delivery_without_its_author_and_is_in_the_event(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A correction is a new version and a cms.article.corrected event; delivery shows note and date only."""
    article = await _live(api, token, title="Gipfel in Genf")

    response = await action(api, token["editor"], article, "corrections", {"note": f"  {NOTE} "})

    assert response.status_code == 200, response.text
    corrected = response.json()
    assert corrected["version"] == article["version"] + 1
    assert response.headers["etag"] == f'"{corrected["version"]}"'
    [correction] = corrected["corrections"]
    assert (correction["note"], correction["by"]) == (NOTE, "eddie")
    assert await event_types(db, article["id"]) == [
        "cms.article.created",
        "cms.article.published",
        "cms.article.corrected",
    ]
    event = (await _payloads(db, article["id"]))[-1]
    assert event["data"]["corrections"] == corrected["corrections"]
    assert event["articleversion"] == corrected["version"]
    revision = await db.fetchrow(
        "SELECT action, actor FROM article_revisions WHERE article_id = $1 AND version = $2",
        article["id"],
        corrected["version"],
    )
    assert revision is not None
    assert (revision["action"], revision["actor"]) == ("correct", "eddie")

    delivered = (await api.get(f"/v1/content/articles/{article['slug']}")).json()
    assert delivered["corrections"] == [{"note": NOTE, "at": correction["at"]}]
    assert "eddie" not in str(delivered)
    assert delivered["version"] == corrected["version"]


async def test_corrections_accumulate_oldest_first(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """A second correction is added after the first; neither replaces the other."""
    article = await _live(api, token)
    first = (await action(api, token["editor"], article, "corrections", {"note": "Erstens."})).json()

    second = (await action(api, token["admin"], first, "corrections", {"note": "Zweitens."})).json()

    assert [(c["note"], c["by"]) for c in second["corrections"]] == [
        ("Erstens.", "eddie"),
        ("Zweitens.", "ada"),
    ]
    delivered = (await api.get(f"/v1/content/articles/{article['slug']}")).json()
    assert [c["note"] for c in delivered["corrections"]] == ["Erstens.", "Zweitens."]


async def test_a_correction_of_an_article_that_is_not_live_is_409_and_writes_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Only a published article takes a correction: for a draft it is a 409 naming its status, no event."""
    draft = await create_draft(api, token["author"])

    response = await action(api, token["editor"], draft, "corrections", {"note": NOTE})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_status"] == "draft"
    assert await event_types(db, draft["id"]) == ["cms.article.created"]


async def test_a_correction_note_must_be_plain_text_and_not_blank_or_too_long(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Markup, a blank note, an overlong note or a missing body are 422s and leave the article as it was."""
    article = await _live(api, token)

    answers = [
        await action(api, token["editor"], article, "corrections", body)
        for body in ({"note": "<b>fett</b>"}, {"note": "   "}, {"note": "x" * 1001}, {}, {"note": 5})
    ]

    assert [a.status_code for a in answers] == [422] * 5
    assert all(a.headers["content-type"] == "application/problem+json" for a in answers)
    assert await event_types(db, article["id"]) == ["cms.article.created", "cms.article.published"]


async def test_a_kill_takes_the_article_off_delivery_at_once_and_keeps_the_reason_apart(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A kill: 404 by slug, gone from lists, a cms.article.killed event, the reason only in the takedowns."""
    article = await _live(api, token, title="Vorwürfe gegen Firma X", section="world")
    other = await _live(api, token, title="Anderes", section="world")

    response = await action(api, token["editor"], article, "kill", {"reason": REASON})

    assert response.status_code == 200, response.text
    killed = response.json()
    assert (killed["status"], killed["version"]) == ("killed", article["version"] + 1)
    assert killed["killed_at"] is not None
    assert (await api.get(f"/v1/content/articles/{article['slug']}")).status_code == 404
    listed = (await api.get("/v1/content/articles", params={"section": "world"})).json()["items"]
    assert [item["id"] for item in listed] == [other["id"]]
    assert await event_types(db, article["id"]) == [
        "cms.article.created",
        "cms.article.published",
        "cms.article.killed",
    ]
    payloads = await _payloads(db, article["id"])
    assert payloads[-1]["data"]["status"] == "killed"
    assert REASON not in str(payloads)
    assert REASON not in response.text

    record = await api.get(f"/v1/admin/articles/{article['id']}/takedowns", headers=bearer(token["editor"]))
    assert record.status_code == 200
    [entry] = record.json()["items"]
    assert (entry["action"], entry["reason"], entry["actor"], entry["article_version"]) == (
        "kill",
        REASON,
        "eddie",
        killed["version"],
    )


async def test_nobody_publishes_a_killed_article_until_an_admin_restores_it(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Publishing a killed article is 409 even for an admin; restored by an admin it is publishable again."""
    article = await _live(api, token)
    killed = (await action(api, token["editor"], article, "kill", {"reason": REASON})).json()

    by_editor = await action(api, token["editor"], killed, "publish")
    by_admin = await action(api, token["admin"], killed, "publish")
    scheduled = await action(api, token["editor"], killed, "publish", {"publish_at": "2099-01-01T00:00:00Z"})
    unpublish = await action(api, token["editor"], killed, "unpublish")

    assert [r.status_code for r in (by_editor, by_admin, scheduled, unpublish)] == [409] * 4
    assert by_editor.json()["current_status"] == "killed"
    assert await event_types(db, article["id"]) == [
        "cms.article.created",
        "cms.article.published",
        "cms.article.killed",
    ]

    restored = await action(api, token["admin"], killed, "restore-killed", {"reason": "Verfügung aufgehoben"})
    assert restored.status_code == 200, restored.text
    assert (restored.json()["status"], restored.json()["killed_at"]) == ("unpublished", None)
    assert (await api.get(f"/v1/content/articles/{article['slug']}")).status_code == 404  # not live yet

    again = await action(api, token["editor"], restored.json(), "publish")
    assert again.status_code == 200
    assert (await api.get(f"/v1/content/articles/{article['slug']}")).status_code == 200
    assert (await event_types(db, article["id"]))[-2:] == ["cms.article.updated", "cms.article.published"]
    record = await api.get(f"/v1/admin/articles/{article['id']}/takedowns", headers=bearer(token["admin"]))
    assert [(e["action"], e["actor"]) for e in record.json()["items"]] == [
        ("kill", "eddie"),
        ("restore", "ada"),
    ]


async def test_a_kill_cancels_a_schedule_so_the_scheduler_never_publishes_it(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """A killed scheduled article loses its publish_at, so nothing is due; a second kill is a 409."""
    draft = await create_draft(api, token["author"])
    scheduled = (
        await action(api, token["editor"], draft, "publish", {"publish_at": "2099-01-01T00:00:00Z"})
    ).json()

    killed = (await action(api, token["editor"], scheduled, "kill", {"reason": REASON})).json()
    again = await action(api, token["editor"], killed, "kill", {"reason": REASON})

    assert (killed["status"], killed["publish_at"]) == ("killed", None)
    assert await db.fetchval("SELECT count(*) FROM articles WHERE status = 'scheduled'") == 0
    assert again.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM article_takedowns WHERE article_id = $1", draft["id"]) == 1


async def test_restore_killed_of_an_article_that_is_not_killed_is_409(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[Record]
) -> None:
    """Lifting a takedown that never happened is a 409, and nothing goes on record."""
    article = await _live(api, token)

    response = await action(api, token["admin"], article, "restore-killed", {"reason": "Versehen"})

    assert response.status_code == 409
    assert await db.fetchval("SELECT count(*) FROM article_takedowns") == 0
