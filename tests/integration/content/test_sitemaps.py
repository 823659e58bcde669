"""The sitemap index, its pages and the Google News sitemap, from the real API and database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx2

from cms.app import create_app
from cms.platform import pagination
from cms.system import SystemSettings
from tests.helpers import action, create_draft, patch
from tests.integration.content.feed_helpers import (
    PUBLIC_URL,
    SM,
    age,
    check_news,
    check_sitemapindex,
    check_urlset,
    clone_live,
    feeds_client,
    live,
    locs,
    parse,
    unpublish,
    url_of,
    when,
)

INDEX = "/v1/feeds/sitemap.xml"
PAGE = "/v1/feeds/sitemaps/articles.xml"
NEWS_SITEMAP = "/v1/feeds/sitemaps/news.xml"


def w3c(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def local(url: str) -> str:
    """A URL of the index, as a path on this API (the index names them on CMS_PUBLIC_URL)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_the_index_splits_live_articles_into_pages_of_the_page_size_with_their_lastmod(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Five live articles, pages of two: pages of 2, 2 and 1, oldest first, each URL once, right lastmods."""
    articles = [await live(api, token, title=f"Meldung {n}") for n in range(5)]
    await create_draft(api, token["author"], title="Entwurf", section="world")
    edited = await patch(api, token["editor"], articles[1], lead="neu")  # the first page's newest change
    assert edited.status_code == 200
    articles[1] = edited.json()

    async with feeds_client(settings, sitemap_page_size=2) as client:
        index = await client.get(INDEX)
        assert index.status_code == 200
        entries = check_sitemapindex(parse(index.content))
        pages = [await client.get(local(entry.findtext(f"{SM}loc") or "")) for entry in entries[:-1]]

    assert index.headers["content-type"].startswith("application/xml")
    assert entries[-1].findtext(f"{SM}loc") == f"{PUBLIC_URL}{NEWS_SITEMAP}"
    assert [response.status_code for response in pages] == [200, 200, 200]
    roots = [parse(response.content) for response in pages]
    urls = [check_urlset(root) for root in roots]
    assert [len(found) for found in urls] == [2, 2, 1]
    assert [loc for root in roots for loc in locs(root)] == [url_of(article) for article in articles]
    for entry, page_articles in zip(entries, (articles[0:2], articles[2:4], articles[4:]), strict=False):
        newest = max(when(article["updated_at"]) for article in page_articles)
        assert w3c(entry.findtext(f"{SM}lastmod") or "") == newest.replace(microsecond=0)
    by_url = {url_of(article): article for article in articles}
    for found in urls:
        for url in found:
            article = by_url[url.findtext(f"{SM}loc") or ""]
            assert w3c(url.findtext(f"{SM}lastmod") or "") == when(article["updated_at"]).replace(
                microsecond=0
            )
    assert "Entwurf" not in b"".join(response.content for response in pages).decode()


async def test_a_large_page_is_streamed_in_chunks_not_built_whole(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
    settings: SystemSettings,
) -> None:
    """2,501 URLs on one page arrive as several body chunks and make one well-formed urlset, each URL once."""
    first = await live(api, token, title="Vorlage")
    await clone_live(db, first["id"], 2500)
    application = create_app(settings.model_copy(update={"public_url": PUBLIC_URL}))
    chunks: list[bytes] = []
    status: list[int] = []
    finished = asyncio.Event()
    requested = False

    async def receive() -> MutableMapping[str, Any]:
        """The request once; then, as a client would, a disconnect only after the whole answer."""
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            if message.get("body"):
                chunks.append(message["body"])
            if not message.get("more_body", False):
                finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": PAGE,
        "raw_path": PAGE.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"cms.test")],
        "client": ("127.0.0.1", 1234),
        "server": ("cms.test", 80),
        "state": {},
    }
    async with application.router.lifespan_context(application):
        await application(scope, receive, send)

    assert status == [200]
    assert len(chunks) >= 3
    assert max(len(chunk) for chunk in chunks) < sum(len(chunk) for chunk in chunks) / 2
    found = locs(parse(b"".join(chunks)))
    assert len(found) == len(set(found)) == 2501
    assert found[0] == url_of(first)


async def test_an_unpublish_a_deletion_or_a_kill_takes_the_url_out_of_every_sitemap_at_once(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Sitemaps answer from the current state: right after an unpublish, delete or kill the URL is gone."""
    stays = await live(api, token, title="Bleibt")
    pulled = await live(api, token, title="Zurückgezogen")
    deleted = await live(api, token, title="Gelöscht")
    killed = await live(api, token, title="Abgeschaltet")

    async with feeds_client(settings) as client:
        before_page = locs(parse((await client.get(PAGE)).content))
        before_news = locs(parse((await client.get(NEWS_SITEMAP)).content))
        await unpublish(api, token, pulled)
        headers = {"Authorization": f"Bearer {token['editor']}", "If-Match": f'"{deleted["version"]}"'}
        removed = await api.delete(f"/v1/admin/articles/{deleted['id']}", headers=headers)
        assert removed.status_code in (200, 204), removed.text
        kill = await action(api, token["editor"], killed, "kill", {"reason": "court order"})
        assert kill.status_code == 200, kill.text
        after_page = locs(parse((await client.get(PAGE)).content))
        after_news = locs(parse((await client.get(NEWS_SITEMAP)).content))

    everything = [url_of(article) for article in (stays, pulled, deleted, killed)]
    assert sorted(before_page) == sorted(everything)
    assert sorted(before_news) == sorted(everything)
    assert after_page == after_news == [url_of(stays)]


async def test_news_sitemap_holds_the_last_48_hours_only_with_its_required_elements(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
    settings: SystemSettings,
) -> None:
    """Google News: articles first published within 48 hours, with publication, language, title and date."""
    recent = await live(api, token, title='Zölle & "Quoten" <3', language="en-GB")
    yesterday = await live(api, token, title="Gestern")
    old = await live(api, token, title="Vorgestern und älter")
    await age(db, yesterday["id"], hours=47)
    await age(db, old["id"], hours=49)
    yesterday_first = await db.fetchval(
        "SELECT first_published_at FROM articles WHERE id = $1", yesterday["id"]
    )

    async with feeds_client(settings, publication_name="Der Kurier & Co") as client:
        response = await client.get(NEWS_SITEMAP)
        page = await client.get(PAGE)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    entries = check_news(parse(response.content))
    assert [entry["loc"] for entry in entries] == [url_of(recent), url_of(yesterday)]
    assert entries[0]["title"] == 'Zölle & "Quoten" <3'
    assert entries[0]["language"] == "en"
    assert entries[1]["language"] == "de"
    assert {entry["name"] for entry in entries} == {"Der Kurier & Co"}
    assert w3c(entries[0]["publication_date"]) == when(recent["first_published_at"]).replace(microsecond=0)
    assert w3c(entries[1]["publication_date"]) == yesterday_first.replace(microsecond=0)
    assert url_of(old) in locs(parse(page.content))  # still in the sitemap, only not news
    assert "Vorgestern" not in response.text


async def test_news_sitemap_lists_at_most_1000_articles_newest_first(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
    settings: SystemSettings,
) -> None:
    """1,006 fresh articles: the news sitemap carries the newest 1,000."""
    first = await live(api, token, title="Serie")
    await clone_live(db, first["id"], 1005)

    async with feeds_client(settings) as client:
        response = await client.get(NEWS_SITEMAP)

    entries = check_news(parse(response.content))
    assert len(entries) == 1000
    assert entries[0]["loc"] == f"{PUBLIC_URL}/world/{first['slug']}-copy-1005"
    assert url_of(first) not in {entry["loc"] for entry in entries}
    assert response.text.count("<news:news>") == 1000


async def test_sitemaps_answer_304_to_their_validators(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """The index and the news sitemap answer 304 to their ETag, a page to its Last-Modified."""
    await live(api, token, title="Validiert")
    async with feeds_client(settings) as client:
        await asyncio.sleep(2.2)  # until the newest change has settled and Last-Modified is sent
        index = await client.get(INDEX)
        news = await client.get(NEWS_SITEMAP)
        page = await client.get(PAGE)
        again = [
            await client.get(INDEX, headers={"If-None-Match": index.headers["etag"]}),
            await client.get(NEWS_SITEMAP, headers={"If-None-Match": news.headers["etag"]}),
            await client.get(PAGE, headers={"If-Modified-Since": page.headers["last-modified"]}),
            await client.get(INDEX, headers={"If-Modified-Since": index.headers["last-modified"]}),
        ]
        stale = await client.get(PAGE, headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})
        nonsense = await client.get(PAGE, headers={"If-Modified-Since": "yesterday-ish"})

    assert [response.status_code for response in again] == [304, 304, 304, 304]
    assert all(response.headers["cache-control"] == index.headers["cache-control"] for response in again)
    assert stale.status_code == nonsense.status_code == 200


async def test_bad_cursors_pages_past_the_end_and_accepts_without_xml_are_4xx_problems(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """A start that is no cursor of ours: 422; one past the last article: 404; no XML accepted: 406."""
    await live(api, token, title="Einzig")
    cases: list[tuple[str, dict[str, str], int]] = [
        (f"{PAGE}?start=not-a-cursor", {}, 422),
        (f"{PAGE}?start=" + "A" * 300, {}, 422),
        (f"{PAGE}?start={pagination.encode(datetime(9999, 12, 31, tzinfo=UTC), uuid.UUID(int=0))}", {}, 404),
        (INDEX, {"Accept": "application/json"}, 406),
        (NEWS_SITEMAP, {"Accept": "image/png"}, 406),
        (PAGE, {"Accept": "*/*;q=0"}, 406),
        ("/v1/feeds/sitemaps/other.xml", {}, 404),
    ]
    async with feeds_client(settings) as client:
        for path, headers, status in cases:
            response = await client.get(path, headers=headers)
            assert response.status_code == status, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"


async def test_every_sitemap_names_sitemap_and_list_all_not_its_articles(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Sitemaps (up to 50,000 URLs) name `sitemap` and `list:all`, never each article, in 200s and 304s."""
    article = await live(api, token, title="Im Sitemap")
    async with feeds_client(settings) as client:
        answers = [await client.get(path) for path in (INDEX, PAGE, NEWS_SITEMAP)]
        not_modified = await client.get(INDEX, headers={"If-None-Match": answers[0].headers["etag"]})

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert not_modified.status_code == 304
    for answer in [*answers, not_modified]:
        assert answer.headers["surrogate-key"] == answer.headers["xkey"] == "sitemap list:all"
        assert answer.headers["cache-control"].startswith("public, max-age=60, s-maxage=60, ")
        assert article["id"] not in answer.headers["surrogate-key"]
