"""The admin list's `q=` search (drafts too) and its sorts, keyset-paged; bad input is a 422."""

from __future__ import annotations

import asyncpg
import httpx2

from tests.helpers import action, bearer, create_draft


async def test_q_finds_drafts_and_live_articles_by_title_lead_or_slug(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A draft is found by a piece of its title, another by its lead, any case; others are not."""
    by_title = await create_draft(api, token["editor"], title="Haushaltsdebatte im Bundestag")
    by_lead = await create_draft(api, token["editor"], title="Heute", lead="Die HAUSHALTSdebatte geht weiter")
    live = await create_draft(api, token["editor"], title="Haushaltsdebatte vertagt")
    published = await action(api, token["editor"], live, "publish")
    assert published.status_code == 200, published.text
    await create_draft(api, token["editor"], title="Wetter am Wochenende")

    response = await api.get(
        "/v1/admin/articles", params={"q": "haushaltsDEBATTE"}, headers=bearer(token["author"])
    )
    drafts_only = await api.get(
        "/v1/admin/articles",
        params={"q": "haushaltsdebatte", "status": "draft"},
        headers=bearer(token["author"]),
    )

    assert response.status_code == 200, response.text
    assert {item["id"] for item in response.json()["items"]} == {by_title["id"], by_lead["id"], live["id"]}
    assert {item["id"] for item in drafts_only.json()["items"]} == {by_title["id"], by_lead["id"]}


async def test_q_takes_like_wildcards_literally(api: httpx2.AsyncClient, token: dict[str, str]) -> None:
    """`%` and `_` in q match themselves, not any text."""
    percent = await create_draft(api, token["editor"], title="Zinsen steigen um 100% im Jahr")
    await create_draft(api, token["editor"], title="Zinsen steigen um 1000 Punkte")

    found = await api.get("/v1/admin/articles", params={"q": "100%"}, headers=bearer(token["editor"]))
    underscore = await api.get("/v1/admin/articles", params={"q": "1_0"}, headers=bearer(token["editor"]))

    assert [item["id"] for item in found.json()["items"]] == [percent["id"]]
    assert underscore.json()["items"] == []


async def test_each_sort_pages_through_every_match_once_in_its_order(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """updated, oldest and title each page with cursors through all matches, none twice, in order."""
    titles = ["Gamma Stadtrat", "Alpha Stadtrat", "Delta Stadtrat", "Beta Stadtrat", "Epsilon Stadtrat"]
    made = [await create_draft(api, token["editor"], title=title) for title in titles]
    await create_draft(api, token["editor"], title="Anderes Thema")
    newest_first = [article["id"] for article in reversed(made)]
    by_title = [article["id"] for article in sorted(made, key=lambda article: article["title"])]
    expected = {"updated": newest_first, "oldest": newest_first[::-1], "title": by_title}

    for sort, order in expected.items():
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"q": "stadtrat", "sort": sort, "limit": "2", **({"cursor": cursor} if cursor else {})}
            response = await api.get("/v1/admin/articles", params=params, headers=bearer(token["editor"]))
            assert response.status_code == 200, response.text
            page = response.json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == order, sort


async def test_bad_q_or_sort_is_a_422_problem_and_changes_nothing(
    api: httpx2.AsyncClient, token: dict[str, str], db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Too short, too long, NUL and an unknown sort each get a 422 problem; no row changes."""
    await create_draft(api, token["editor"], title="Bleibt wie es ist")
    before = await db.fetch("SELECT id, version, updated_at FROM articles ORDER BY id")
    events_before = await db.fetchval("SELECT count(*) FROM outbox")

    for params in ({"q": "ab"}, {"q": "x" * 101}, {"q": "abc\x00"}, {"sort": "popular"}, {"sort": ""}):
        response = await api.get("/v1/admin/articles", params=params, headers=bearer(token["editor"]))
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")

    assert await db.fetch("SELECT id, version, updated_at FROM articles ORDER BY id") == before
    assert await db.fetchval("SELECT count(*) FROM outbox") == events_before


async def test_q_is_answered_from_the_trigram_index_at_100000_articles(
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """At 100,000 articles a rare piece is looked up in articles_admin_text; one in every article
    walks articles_admin newest first: neither reads every match or every row."""
    await db.execute(
        """INSERT INTO articles
               (id, slug, language, title, lead, status, created_at, updated_at, owner, version)
           SELECT gen_random_uuid(), 'stueck-' || n, 'de', 'Meldung Nummer ' || n, 'Kurz gesagt ' || n,
                  'draft', now(), now() - n * interval '1 minute', 'eddie', 1
           FROM generate_series(1, 100000) AS n"""
    )
    await db.execute("ANALYZE articles")
    query = (
        "EXPLAIN SELECT id FROM articles WHERE deleted_at IS NULL"
        " AND (title || ' ' || lead || ' ' || slug) ILIKE $1"
        " ORDER BY updated_at DESC, id DESC LIMIT 51"
    )

    rare = "\n".join(row[0] for row in await db.fetch(query, "%indexprobe%"))
    common = "\n".join(row[0] for row in await db.fetch(query, "%meldung%"))

    assert "articles_admin_text" in rare, rare
    assert "Seq Scan" not in rare, rare
    # A piece in every article: walk the newest first and stop at the page's end, no sort of all.
    assert "Index Scan using articles_admin on articles" in common, common
    assert "Sort" not in common, common
    assert "articles_admin_text" not in common, common
