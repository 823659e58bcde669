"""Reading a live WordPress site through its REST API (`wp-json/wp/v2`): categories, tags and
users first, then the posts page by page (`X-WP-TotalPages`), each featured image from `media`.

Resumable: after each page of posts is written, the next page number is kept per site in
`wordpress_checkpoints`; a run that was interrupted starts there (the page it stopped on is read
again, which the import's keying makes harmless). Rate-limited: at most `rate` requests a second,
and a 429's `Retry-After` is honoured. With a user and an application password (Basic auth, as
WordPress's application passwords are used) it asks for `status=any` and `context=edit`, which
brings drafts, private and scheduled posts and the raw block markup.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2
import structlog
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from cms.importers.wordpress import mapping, store
from cms.importers.wordpress.progress import Progress
from cms.importers.wordpress.report import Report
from cms.importers.wordpress.run import Importer, fast_commits, site_key
from cms.importers.wordpress.source import Media, Site, SourcePost, Term
from cms.platform import db
from cms.settings import Settings

log = structlog.get_logger(__name__)

PER_PAGE = 100
_TIMEOUT = 30.0


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx2.TransportError):
        return True
    return isinstance(exc, httpx2.HTTPStatusError) and (
        exc.response.status_code == 429 or exc.response.status_code >= 500
    )


@dataclass
class Client:
    """The API with a request rate kept and transient failures retried a few times."""

    http: httpx2.AsyncClient
    base: str
    rate: float
    attempts: int = 3
    _last: float = 0.0
    media_cache: dict[int, Media | None] = field(default_factory=dict)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> httpx2.Response:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential_jitter(multiplier=0.2, max=5, jitter=0.2),
            reraise=True,
        ):
            with attempt:
                await self._pace()
                response = await self.http.get(f"{self.base}{path}", params=params)
                if response.status_code == 429:
                    await asyncio.sleep(min(_retry_after(response), 60))
                response.raise_for_status()
                return response
        raise AssertionError("unreachable")  # AsyncRetrying either returns or re-raises

    async def _pace(self) -> None:
        wait = self._last + 1 / self.rate - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last = time.monotonic()

    async def every(self, path: str, params: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Each item of a paged collection."""
        page = 1
        while True:
            response = await self.get(path, {**params, "per_page": PER_PAGE, "page": page})
            for item in response.json():
                yield item
            if page >= int(response.headers.get("x-wp-totalpages", "1") or 1):
                return
            page += 1

    async def media(self, media_id: int) -> Media | None:
        if media_id <= 0:
            return None
        if media_id not in self.media_cache:
            try:
                item = (await self.get(f"/media/{media_id}", {"context": "view"})).json()
            except httpx2.HTTPStatusError:
                item = None
            self.media_cache[media_id] = (
                None
                if not isinstance(item, dict)
                else Media(
                    url=str(item.get("source_url") or ""),
                    alt=str(item.get("alt_text") or ""),
                    caption=_rendered(item.get("caption")),
                )
            )
        return self.media_cache[media_id]


def _retry_after(response: httpx2.Response) -> float:
    try:
        return max(float(response.headers.get("retry-after", "1")), 0.0)
    except ValueError:
        return 1.0


def _rendered(value: Any, raw: bool = False) -> str:
    if isinstance(value, dict):
        if raw and isinstance(value.get("raw"), str):
            return str(value["raw"])
        return str(value.get("rendered") or "")
    return str(value or "")


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass
class Lookups:
    categories: dict[int, Term]
    tags: dict[int, Term]
    users: dict[int, str]


async def _lookups(client: Client, edit: bool) -> Lookups:
    context = {"context": "edit"} if edit else {}
    categories = {
        i["id"]: Term(i.get("slug", ""), i.get("name", "")) async for i in client.every("/categories", {})
    }
    tags = {i["id"]: Term(i.get("slug", ""), i.get("name", "")) async for i in client.every("/tags", {})}
    users = {
        i["id"]: str(i.get("name") or i.get("slug") or "") async for i in client.every("/users", context)
    }
    return Lookups(categories, tags, users)


async def _post(client: Client, item: dict[str, Any], known: Lookups) -> SourcePost:
    categories = [known.categories[c] for c in item.get("categories", []) if c in known.categories]
    author = known.users.get(item.get("author", 0))
    return SourcePost(
        post_id=int(item["id"]),
        post_type=str(item.get("type", "post")),
        status=str(item.get("status", "publish")),
        title=_rendered(item.get("title"), raw=True),
        content=_rendered(item.get("content"), raw=True),
        excerpt=_rendered(item.get("excerpt"), raw=True),
        post_name=str(item.get("slug") or ""),
        date_gmt=_date(item.get("date_gmt")),
        modified_gmt=_date(item.get("modified_gmt")),
        link=str(item.get("link") or ""),
        guid=_rendered(item.get("guid")),
        authors=[author] if author else [],
        categories=categories,
        primary_category=None,
        tags=[known.tags[t] for t in item.get("tags", []) if t in known.tags],
        featured=await client.media(int(item.get("featured_media") or 0)),
        password=bool(item.get("password")) or bool((item.get("content") or {}).get("protected")),
    )


async def import_rest(
    settings: Settings,
    url: str,
    options: mapping.Options,
    *,
    credentials: tuple[str, str] | None = None,
    rate: float = 5.0,
    progress: Progress | None = None,
    transport: httpx2.AsyncBaseTransport | None = None,
    per_page: int = PER_PAGE,
) -> Report:
    """Every post of the site, from the page a previous interrupted run reached."""
    site_url = url.rstrip("/")
    report = Report(source=site_url)
    async with (
        httpx2.AsyncClient(
            auth=credentials, timeout=_TIMEOUT, transport=transport, follow_redirects=True
        ) as http,
        db.connection(settings, application_name="cms-import") as conn,
    ):
        await fast_commits(conn)
        client = Client(http, f"{site_url}/wp-json/wp/v2", rate)
        try:
            language = options.language or await _site_language(client, credentials is not None)
            known = await _lookups(client, credentials is not None)
        except (httpx2.HTTPError, ValueError) as exc:
            report.refused = f"{site_url} does not answer as a WordPress REST API: {exc}"
            return report
        if language is None:
            report.refused = "the site's language is not public: pass --language (or a user to read it)"
            return report
        importer = Importer(conn, Site(url=site_url, language=language), options, report)
        key = site_key(site_url)
        page = await store.checkpoint(conn, key) or 1
        params: dict[str, Any] = {"orderby": "id", "order": "asc"}
        if credentials is not None:
            params |= {"status": "any", "context": "edit"}
        first = True
        try:
            while True:
                response = await client.get("/posts", {**params, "per_page": per_page, "page": page})
                pages = int(response.headers.get("x-wp-totalpages", "1") or 1)
                if progress is not None and first:
                    progress.total(int(response.headers.get("x-wp-total", "0") or 0))
                    progress.advance((page - 1) * per_page)
                first = False
                for item in response.json():
                    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                        raise ValueError(f"a post without a numeric id on page {page}")
                    await importer.one(await _post(client, item, known))
                    if progress is not None:
                        progress.advance(1)
                if page >= pages:
                    break
                page += 1
                await store.set_checkpoint(conn, key, page, datetime.now(UTC))
        except (httpx2.HTTPError, ValueError) as exc:
            report.interrupted = f"stopped at page {page} of the posts: {exc}; run again to resume there"
            return report
        await store.clear_checkpoint(conn, key)
        await importer.relate_all()
    return report


async def _site_language(client: Client, authenticated: bool) -> str | None:
    """The site's locale from its settings (`de_DE`): only an authenticated user may read them."""
    if not authenticated:
        return None
    try:
        found = (await client.get("/settings")).json().get("language")
    except httpx2.HTTPStatusError:
        return None
    return str(found) if found else None
