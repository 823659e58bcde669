"""Writing posts in: each post in one transaction (its article, revision, event, mapping row and
redirects), keyed by the site and the WordPress post id, so a second run updates what changed,
skips what did not, and duplicates nothing. Then a second pass sets `related` from the "see
also" links, once every post they may point at is in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import structlog

from cms.articles import imports, redirects, service
from cms.events.contract import Article
from cms.importers.wordpress import mapping, store
from cms.importers.wordpress.report import Line, Outcome, Report
from cms.importers.wordpress.source import Site, SourcePost
from cms.platform.db import Connection
from cms.platform.errors import SlugTaken
from cms.platform.identity import Actor
from cms.platform.roles import Role

log = structlog.get_logger(__name__)

ACTOR = Actor(name="system:wordpress-import", role=Role.editor)
ACTION = "import:wordpress"
_LISTED_TYPES = ("post", "page")


def site_key(url: str) -> str:
    """The site as a key: host and path, so the http and https exports of one site are one site."""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host + parts.path.rstrip("/")


async def fast_commits(conn: Connection) -> None:
    """One transaction per post is thousands of commits; waiting for each to reach the disk
    is most of an import's time. A crash may lose the last few commits (never half of one: a
    post and its mapping row commit together), which a second run, idempotent, writes again."""
    await conn.execute("SET synchronous_commit = off")


@dataclass
class Importer:
    conn: Connection
    site: Site
    options: mapping.Options
    report: Report

    @property
    def key(self) -> str:
        return site_key(self.site.url)

    def _context(self) -> service.Context:
        now = datetime.now(UTC)
        return service.Context(actor=ACTOR, now=now, correlation_id=f"wordpress-import-{uuid.uuid4().hex}")

    async def one(self, post: SourcePost) -> None:
        """Import or update one post, or say why not; never raises for one bad post."""
        ctx = self._context()
        mapped = mapping.map_post(post, self.site, self.options, ctx.now)
        if isinstance(mapped, mapping.Skipped):
            if post.post_type in _LISTED_TYPES:
                self.report.add(Line(post.post_id, mapped.title, "skipped", reason=mapped.reason))
            else:
                self.report.ignored[post.post_type] += 1
            return
        title = mapped.incoming.fields.title
        existing = await store.get(self.conn, self.key, post.post_id)
        if existing is not None and existing.content_hash == mapped.content_hash:
            self.report.add(Line(post.post_id, title, "unchanged", article_id=str(existing.article_id)))
            return
        try:
            async with self.conn.transaction():
                article, outcome = await self._write(mapped, existing, ctx)
                notes = [*mapped.notes, *await self._redirect(mapped, article, ctx)]
                await store.save(
                    self.conn,
                    self.key,
                    post.post_id,
                    article_id=article.id,
                    article_version=article.version,
                    content_hash=mapped.content_hash,
                    permalink=mapped.permalink,
                    see_also=mapped.see_also,
                    now=ctx.now,
                )
        except _Skip as skip:
            self.report.add(Line(post.post_id, title, "skipped", reason=str(skip)))
            return
        self.report.add(Line(post.post_id, title, outcome, article_id=str(article.id), notes=notes))

    async def _write(
        self, mapped: mapping.Mapped, existing: store.ImportedPost | None, ctx: service.Context
    ) -> tuple[Article, Outcome]:
        if existing is None:
            try:
                return await imports.create(self.conn, mapped.incoming, ctx, action=ACTION), "imported"
            except SlugTaken as exc:
                raise _Skip(str(exc)) from None
        try:
            article = await imports.update(
                self.conn, existing.article_id, mapped.incoming, existing.article_version, ctx, action=ACTION
            )
        except imports.ChangedHere as exc:
            raise _Skip(f"{exc}: left as it is") from None
        if article is None:
            raise _Skip("deleted in the CMS since the import: not brought back")
        return article, "updated" if article.version != existing.article_version else "unchanged"

    async def _redirect(self, mapped: mapping.Mapped, article: Article, ctx: service.Context) -> list[str]:
        paths = [p for p in dict.fromkeys(map(redirects.normal_path, mapped.old_urls)) if p is not None]
        if not paths:
            return []
        taken = await redirects.add(self.conn, paths, article.id, origin=self.key, now=ctx.now)
        return [f"old URL {path} already redirects to an article from another source: kept" for path in taken]

    async def relate_all(self, batch: int = 500) -> None:
        """Second pass: "see also" links that lead to imported articles become `related`."""
        after = 0
        while True:
            rows = await store.with_see_also(self.conn, self.key, after, batch)
            if not rows:
                return
            for row in rows:
                await self._relate(row)
            after = rows[-1].post_id

    async def _relate(self, row: store.ImportedPost) -> None:
        paths = {url: redirects.normal_path(url) for url in row.see_also}
        found = await redirects.articles_at(self.conn, [p for p in paths.values() if p])
        related = [found[p] for p in paths.values() if p in found]
        for url, path in paths.items():
            if path not in found:
                self.report.see_also_missing.append((row.post_id, url))
        if not related:
            return
        ctx = self._context()
        try:
            async with self.conn.transaction():
                article = await imports.relate(
                    self.conn, row.article_id, related, row.article_version, ctx, action=ACTION
                )
                if article is not None and article.version != row.article_version:
                    await store.set_version(self.conn, self.key, row.post_id, article.version)
                    self.report.related_set += 1
        except imports.ChangedHere as exc:
            log.info("wordpress.related_skipped", post_id=row.post_id, reason=str(exc))


class _Skip(Exception):
    """This post is left as it is, for the reason given."""

