"""RSS and Atom feeds, read as feed readers read them (feedparser) from the real API and database."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import asyncpg
import feedparser
import httpx2

from cms.system import SystemSettings
from tests.helpers import action, create_draft, patch
from tests.integration.content.feed_helpers import PUBLIC_URL, feeds_client, live, unpublish, url_of, when

RSS = "/v1/feeds/rss.xml"
ATOM = "/v1/feeds/atom.xml"
CACHE_SETTINGS = {
    "delivery_max_age": 120,
    "delivery_s_maxage": 900,
    "delivery_stale_while_revalidate": 600,
    "delivery_stale_if_error": 7200,
}
CACHE_CONTROL = "public, max-age=120, s-maxage=900, stale-while-revalidate=600, stale-if-error=7200"


def read(response: httpx2.Response) -> Any:
    """The feed as a reader sees it; a feed with any fault (bozo) fails the test here."""
    assert response.status_code == 200, response.text
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


async def test_rss_is_valid_with_rfc822_dates_permanent_guids_links_and_language(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """RSS 2.0: newest first, pubDate in RFC 822 from published_at, urn:uuid guids that are no permalink."""
    older = await live(api, token, title="Ältere Meldung", lead="Erst das.", authors=["Anna Beispiel"])
    newer = await live(api, token, title="Neuere Meldung", section="politik", tags=["eu"])
    await create_draft(api, token["author"], title="Entwurf bleibt intern", section="world")

    async with feeds_client(settings, feed_language="de", publication_name="Der Kurier") as client:
        response = await client.get(RSS)
    parsed = read(response)

    assert response.headers["content-type"].startswith("application/rss+xml")
    assert parsed.version == "rss20"
    assert parsed.feed.title == "Der Kurier"
    assert parsed.feed.language == "de"
    assert [entry.id for entry in parsed.entries] == [f"urn:uuid:{newer['id']}", f"urn:uuid:{older['id']}"]
    assert all(entry.guidislink is False for entry in parsed.entries)
    assert response.text.count('isPermaLink="false"') == 2
    first = parsed.entries[0]
    assert first.link == f"{PUBLIC_URL}/politik/{newer['slug']}"
    assert first.published == format_datetime(when(newer["published_at"]))
    assert parsedate_to_datetime(first.published) == when(newer["published_at"]).replace(microsecond=0)
    assert parsed.entries[1].author == "Anna Beispiel"
    assert "Entwurf" not in response.text


async def test_atom_has_rfc3339_published_and_updated_times_and_urn_ids(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Atom: each entry's published and updated are the article's own times, in RFC 3339."""
    article = await live(api, token, title="Atom-Meldung", lead="Kurz.", language="en")

    async with feeds_client(settings) as client:
        response = await client.get(ATOM)
    parsed = read(response)

    assert response.headers["content-type"].startswith("application/atom+xml")
    assert parsed.version == "atom10"
    (entry,) = parsed.entries
    assert entry.id == f"urn:uuid:{article['id']}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00", entry.published)
    assert datetime.fromisoformat(entry.published) == when(article["published_at"])
    assert datetime.fromisoformat(entry.updated) == when(article["updated_at"])
    assert entry.language == "en"
    assert entry.link == url_of(article)


async def test_guid_and_published_date_stay_when_a_live_article_is_edited(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """An edit (even of title and slug) keeps the GUID and published date; only updated and the link move."""
    article = await live(api, token, title="Erste Fassung")
    async with feeds_client(settings) as client:
        before_rss = read(await client.get(RSS)).entries[0]
        before_atom = read(await client.get(ATOM)).entries[0]
        edited = await patch(api, token["editor"], article, title="Zweite Fassung", slug="zweite-fassung")
        assert edited.status_code == 200, edited.text
        after_rss = read(await client.get(RSS)).entries[0]
        after_atom = read(await client.get(ATOM)).entries[0]

    assert after_rss.id == before_rss.id == f"urn:uuid:{article['id']}"
    assert after_atom.id == before_atom.id
    assert after_rss.published == before_rss.published
    assert after_atom.published == before_atom.published
    assert datetime.fromisoformat(after_atom.updated) > datetime.fromisoformat(before_atom.updated)
    assert after_atom.title == "Zweite Fassung"
    assert after_rss.link == f"{PUBLIC_URL}/world/zweite-fassung" != before_rss.link


async def test_section_tag_and_language_feeds_hold_only_their_articles(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Per section, per tag and ?language=: each feed lists exactly the live articles that match."""
    world_de = await live(api, token, title="Welt auf Deutsch", tags=["klima"])
    world_en = await live(api, token, title="World in English", language="en", tags=["klima", "eu"])
    sport = await live(api, token, title="Sport", section="sport", tags=["eu"])

    async with feeds_client(settings) as client:

        async def ids(path: str) -> set[str]:
            return {entry.id.removeprefix("urn:uuid:") for entry in read(await client.get(path)).entries}

        assert await ids("/v1/feeds/sections/world/rss.xml") == {world_de["id"], world_en["id"]}
        assert await ids("/v1/feeds/sections/sport/atom.xml") == {sport["id"]}
        assert await ids("/v1/feeds/tags/eu/rss.xml") == {world_en["id"], sport["id"]}
        assert await ids("/v1/feeds/tags/klima/atom.xml?language=de") == {world_de["id"]}
        assert await ids("/v1/feeds/rss.xml?language=en") == {world_en["id"]}
        assert await ids("/v1/feeds/sections/nowhere/rss.xml") == set()
        english = read(await client.get("/v1/feeds/sections/world/atom.xml?language=en"))
    assert english.feed.language == "en"
    assert english.feed.title.endswith(": world")
    links = {link.rel: link.href for link in english.feed.links}
    assert links["self"] == f"{PUBLIC_URL}/v1/feeds/sections/world/atom.xml?language=en"


async def test_drafts_reviews_scheduled_unpublished_deleted_and_killed_articles_never_appear(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """A feed holds live articles only; an unpublish, a deletion or a kill takes one out at once."""
    shown = await live(api, token, title="Sichtbar")
    await create_draft(api, token["author"], title="Entwurf", section="world")
    review = await create_draft(api, token["author"], title="In Prüfung", section="world")
    assert (await action(api, token["author"], review, "submit")).status_code == 200
    later = await create_draft(api, token["author"], title="Geplant", section="world")
    scheduled = await action(api, token["editor"], later, "publish", {"publish_at": "2099-01-01T00:00:00Z"})
    assert scheduled.status_code == 200, scheduled.text
    gone = await live(api, token, title="Zurückgezogen")
    deleted = await live(api, token, title="Gelöscht")
    killed = await live(api, token, title="Abgeschaltet")

    async with feeds_client(settings) as client:
        assert len(read(await client.get(RSS)).entries) == 4
        await unpublish(api, token, gone)
        current = (await api.get(f"/v1/admin/articles/{deleted['id']}", headers=_auth(token))).json()
        removed = await api.delete(
            f"/v1/admin/articles/{deleted['id']}",
            headers={**_auth(token), "If-Match": f'"{current["version"]}"'},
        )
        assert removed.status_code in (200, 204), removed.text
        kill = await action(api, token["editor"], killed, "kill", {"reason": "court order"})
        assert kill.status_code == 200, kill.text
        for path in (RSS, ATOM, "/v1/feeds/sections/world/rss.xml"):
            response = await client.get(path)
            assert [entry.id for entry in read(response).entries] == [f"urn:uuid:{shown['id']}"]
            for title in ("Entwurf", "In Prüfung", "Geplant", "Zurückgezogen", "Gelöscht", "Abgeschaltet"):
                assert title not in response.text


def _auth(token: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['editor']}"}


async def test_if_none_match_with_the_etag_answers_304_until_the_feed_changes(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """ETag: the same feed answers 304 with its validators and cache headers; a change gives a 200."""
    article = await live(api, token, title="Zwischengespeichert")
    async with feeds_client(settings, **CACHE_SETTINGS) as client:
        first = await client.get(RSS)
        again = await client.get(RSS, headers={"If-None-Match": first.headers["etag"]})
        edited = await patch(api, token["editor"], article, title="Geändert")
        assert edited.status_code == 200
        changed = await client.get(RSS, headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert first.headers["cache-control"] == CACHE_CONTROL
    assert again.headers["surrogate-key"] == first.headers["surrogate-key"]
    assert changed.status_code == 200
    assert changed.headers["etag"] != first.headers["etag"]
    assert "Geändert" in changed.text


async def test_if_modified_since_answers_304_and_an_unpublish_makes_it_answer_200(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Last-Modified: 304 while nothing changed; an article leaving the feed counts as a change."""
    stays = await live(api, token, title="Bleibt")
    goes = await live(api, token, title="Geht")
    async with feeds_client(settings) as client:
        fresh = await client.get(ATOM)
        await asyncio.sleep(2.2)  # a Last-Modified is sent once the newest change has settled
        first = await client.get(ATOM)
        since = first.headers["last-modified"]
        unchanged = await client.get(ATOM, headers={"If-Modified-Since": since})
        await unpublish(api, token, goes)
        right_after = await client.get(ATOM, headers={"If-Modified-Since": since})
        await asyncio.sleep(2.2)
        settled = await client.get(ATOM, headers={"If-Modified-Since": since})

    assert "last-modified" not in fresh.headers
    assert parsedate_to_datetime(since) <= datetime.now(parsedate_to_datetime(since).tzinfo)
    assert unchanged.status_code == 304
    assert unchanged.headers["etag"] == first.headers["etag"]
    for response in (right_after, settled):
        assert response.status_code == 200
        assert [entry.id for entry in read(response).entries] == [f"urn:uuid:{stays['id']}"]
    assert parsedate_to_datetime(settled.headers["last-modified"]) > parsedate_to_datetime(since)


async def test_full_text_setting_puts_the_body_as_safe_html_and_excerpt_only_the_lead(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """`full`: the body as HTML, inline markup kept and plain fields escaped; `excerpt`: the lead alone."""
    lead = 'Tom & Jerry say "1 < 2"'
    body = [
        {"type": "paragraph", "text": "Ein <b>fetter</b> Satz mit <a href='https://example.org/x'>Link</a>."},
        {"type": "heading", "text": "Zwischentitel", "level": 2},
        {"type": "quote", "text": "Zitat", "attribution": "A & B <3 Chef"},
        {"type": "list", "items": ["eins", "zwei"], "ordered": True},
        {
            "type": "image",
            "url": "https://img.example/a.jpg",
            "alt": 'Ein "Bild" & mehr',
            "credit": "Foto: X",
        },
        {"type": "embed", "url": "https://video.example/v?a=1&b=2"},
    ]
    await live(api, token, title="Volltext", lead=lead, body=body)

    async with feeds_client(settings, feed_content="full") as client:
        full_rss = read(await client.get(RSS)).entries[0]
        full_atom = read(await client.get(ATOM)).entries[0]
    async with feeds_client(settings, feed_content="excerpt") as client:
        excerpt_response = await client.get(ATOM)
        excerpt = read(excerpt_response).entries[0]
        excerpt_rss = read(await client.get(RSS)).entries[0]

    for entry in (full_rss, full_atom):
        content = entry.content[0].value
        assert "<b>fetter</b>" in content
        assert "<h2>Zwischentitel</h2>" in content
        assert "A &amp; B &lt;3 Chef" in content
        assert "<ol><li>eins</li><li>zwei</li></ol>" in content
        assert (
            'alt="Ein &quot;Bild&quot; &amp; mehr"' in content or "alt='Ein \"Bild\" &amp; mehr'" in content
        )
        assert "https://video.example/v?a=1&amp;b=2" in content
        assert "<3" not in content
        assert html.unescape(entry.summary) == lead
    for entry in (excerpt, excerpt_rss):
        assert "content" not in entry
        assert html.unescape(entry.summary) == lead
    assert "fetter" not in excerpt_response.text


async def test_a_control_character_in_a_title_does_not_break_the_feed(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
    settings: SystemSettings,
) -> None:
    """Text XML cannot carry (a stray control character) is dropped, so the feed still parses."""
    article = await live(api, token, title="Sauber")
    await db.execute(
        "UPDATE articles SET title = $2, lead = $3 WHERE id = $1", article["id"], "Bell\x07 Ton", "a\x1bb"
    )

    async with feeds_client(settings, feed_content="full") as client:
        for path in (RSS, ATOM):
            entry = read(await client.get(path)).entries[0]
            assert entry.title == "Bell Ton"


async def test_feeds_use_the_delivery_apis_cache_control(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Feeds are cached as the delivery API's answers are: the same Cache-Control."""
    await live(api, token, title="Cache")
    async with feeds_client(settings, **CACHE_SETTINGS) as client:
        delivery = await client.get("/v1/content/articles")
        feeds = [await client.get(path) for path in (RSS, ATOM, "/v1/feeds/tags/x/rss.xml")]

    assert delivery.headers["cache-control"] == CACHE_CONTROL
    assert all(response.headers["cache-control"] == delivery.headers["cache-control"] for response in feeds)


async def test_bad_paths_queries_and_accept_headers_are_4xx_problems(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """A section that is no slug, an unknown format, a bad language or an Accept without XML: 4xx problems."""
    await live(api, token, title="Da")
    cases: list[tuple[str, dict[str, str], int]] = [
        ("/v1/feeds/sections/Not_A_Slug/rss.xml", {}, 404),
        ("/v1/feeds/sections/" + "a" * 500 + "/rss.xml", {}, 404),
        ("/v1/feeds/tags/%00/atom.xml", {}, 404),
        ("/v1/feeds/sections/world/json.xml", {}, 404),
        ("/v1/feeds/sections/world/rss", {}, 404),
        ("/v1/feeds/rss.xml?language=!!", {}, 422),
        ("/v1/feeds/rss.xml", {"Accept": "application/json"}, 406),
        ("/v1/feeds/atom.xml", {"Accept": "application/xml;q=0, text/html"}, 406),
        ("/v1/feeds/atom.xml", {"Accept": ";;;,,,=q=abc"}, 406),
        ("/v1/feeds/rss.xml", {"Accept": "text/xml;q=" + "9" * 5000}, 400),
    ]
    async with feeds_client(settings) as client:
        for path, headers, status in cases:
            response = await client.get(path, headers=headers)
            assert response.status_code == status, (path, headers, response.text)
            assert response.headers["content-type"] == "application/problem+json", path
        # Readers' usual lists are fine, and so is a browser's.
        for accept in ("application/rss+xml, application/atom+xml;q=0.9", "text/html,*/*;q=0.8", "text/*"):
            assert (await client.get(RSS, headers={"Accept": accept})).status_code == 200, accept


async def test_a_feed_names_its_feed_its_lists_and_every_article_in_it(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """Feed keys: feed:<scope>, the list it is (list:all or per filter) and each article id it carries."""
    other = await live(api, token, title="Sport", section="sport")
    article = await live(api, token, title="Politik", section="politik", tags=["eu"])

    async with feeds_client(settings) as client:
        site = await client.get(RSS)
        section = await client.get("/v1/feeds/sections/politik/atom.xml", params={"language": "de"})
        tagged = await client.get("/v1/feeds/tags/eu/rss.xml")

    assert [r.status_code for r in (site, section, tagged)] == [200, 200, 200]
    assert site.headers["xkey"] == site.headers["surrogate-key"]
    assert site.headers["surrogate-key"].split() == [
        "feed:site",
        "list:all",
        f"article:{article['id']}",
        f"article:{other['id']}",
    ]
    assert section.headers["surrogate-key"].split() == [
        "feed:section:politik",
        "list:section:politik",
        "list:language:de",
        f"article:{article['id']}",
    ]
    assert tagged.headers["surrogate-key"].split() == [
        "feed:tag:eu",
        "list:tag:eu",
        f"article:{article['id']}",
    ]


async def test_a_feed_error_is_never_cached_and_names_no_keys(
    api: httpx2.AsyncClient, token: dict[str, str], settings: SystemSettings
) -> None:
    """A 404 or 406 from the feeds is private, no-store, without surrogate keys."""
    async with feeds_client(settings) as client:
        answers = [
            await client.get("/v1/feeds/sections/Not_A_Slug/rss.xml"),
            await client.get(RSS, headers={"Accept": "application/json"}),
        ]

    assert [a.status_code for a in answers] == [404, 406]
    for answer in answers:
        assert answer.headers["cache-control"] == "private, no-store"
        assert "surrogate-key" not in answer.headers
        assert "xkey" not in answer.headers
