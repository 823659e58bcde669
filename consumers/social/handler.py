"""Applying an article event to its social posts: post once when it goes live, retract when
it goes away.

How exactly-once fits the runtime's one transaction per message
---------------------------------------------------------------
The runtime calls `apply` inside its transaction T, right after claiming the event's article
version in `social.applied_versions`, and commits T only when `apply` returns. A network call
must not happen inside T alone: if T rolled back after the call, the claim of the post would
vanish with it and a redelivery would post again. So T carries only the version claim, and
each post lives on its own connection (one per channel, opened from the store's DSN):

1. lock the post (`pg_advisory_lock` on article+channel, also taken by the approve/retry API);
2. in a short transaction of its own: decide (`lifecycle.plan`) and claim the post as
   `sending` (or `retracting`) with its idempotency key; COMMIT;
3. call the network with that key (Mastodon `Idempotency-Key`, Bluesky record key via
   `putRecord`, the webhook's `webhook-id`);
4. record the answer in another small commit (`sent`, `failed`, or still `sending` with the
   error and any Retry-After).

Then `apply` returns and the runtime commits T. Under redelivery:

- crash before 2 commits: nothing was claimed or sent; the message comes back and starts over.
- crash between 3 and 4: the post is `sending` (and `maybe_sent`); T rolled back, so the
  message comes back and the post is sent again with the same key: the network answers with
  the post it already made (Mastodon, within its ~1 h key memory), or `putRecord` rewrites the
  same record (Bluesky). Past the key's lifetime, the claim row refuses to guess and marks the
  post `failed` for an editor, rather than risk a second post.
- crash after 4, before T commits: the post is `sent`; the redelivery finds nothing to do.
- a retryable failure (429, 5xx, network): the post stays `sending`, `apply` raises
  `TransientError(retry_after=...)`, T rolls back and the runtime's delay queue brings the
  message back; an early return (before Retry-After) does not call the network.
- the same event twice at once (two processes): T's version claim is a row lock, so the second
  waits for the first's commit and then finds the version applied; the advisory lock also
  keeps an API approve/retry and a handler off the same post.

The network calls happen while T is open, so each is bounded by `CMS_SOCIAL_HTTP_TIMEOUT` and
channels run concurrently, well inside `idle_in_transaction_session_timeout`.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from cms.events.contract import Article, ArticleEvent, is_live
from cms.platform import db
from cms.platform.db import Connection
from consumers.runtime.errors import TransientError
from consumers.social import compose, corrections, delivery, lifecycle, reply_store, store, tid
from consumers.social.channels import Channel, configured
from consumers.social.counting import graphemes
from consumers.social.lifecycle import Plan
from consumers.social.settings import SocialSettings
from consumers.social.store import Draft, Post

log = structlog.get_logger(__name__)

KEY_NAMESPACE = uuid.UUID("8f0d3c1e-5b7a-4c2e-9d41-6a1f2b3c4d5e")
MAX_CARD_DESCRIPTION = 300
UNCOMPOSABLE = "the article's link alone is longer than this network allows: shorten the URL pattern"


class Social:
    """The consumer's wiring: its settings and its channels."""

    def __init__(self, settings: SocialSettings) -> None:
        self.settings = settings
        self._channels: list[Channel] | None = None

    @property
    def channels(self) -> list[Channel]:
        if self._channels is None:
            self._channels = configured(self.settings)
        return self._channels

    def channel(self, name: str) -> Channel | None:
        return next((channel for channel in self.channels if channel.name == name), None)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        dsn = self.settings.social_database_url or self.settings.database_url
        async with db.connection(self.settings, dsn, application_name="cms-social-post") as conn:
            yield conn

    async def apply(self, conn: Connection, event: ArticleEvent) -> None:
        article = event.data
        live = is_live(article)
        existing = await store.of_article(conn, article.id)
        replies = await reply_store.of_article(conn, article.id)
        due = [
            channel
            for channel in self.channels
            if self._needs_work(channel, article, live, existing)
            or corrections.needs_work(channel, article, live, replies)
        ]
        if not due:
            return
        results = await asyncio.gather(
            *(self._converge(channel, article, live) for channel in due), return_exceptions=True
        )
        _raise_first(results)

    def _needs_work(self, channel: Channel, article: Article, live: bool, existing: dict[str, Post]) -> bool:
        post = existing.get(channel.name)
        if post is None and not article.post_to_social:
            return False
        if post is not None and (post.article_live != live or post.article_version < article.version):
            return True
        return lifecycle.plan(post, live) is not Plan.NOTHING

    async def _converge(self, channel: Channel, article: Article, live: bool) -> None:
        """Bring one channel's post, then its correction replies, in line with the article."""
        async with self.connection() as conn:
            await conn.execute(delivery.LOCK, str(article.id), channel.name)
            await self._converge_post(conn, channel, article, live)
            # After the post: a reply needs the post out, and a retraction takes both.
            url = compose.article_url(self.settings.public_url, self.settings.social_url_pattern, article)
            await corrections.converge(conn, channel, article, live, url)

    async def _converge_post(self, conn: Connection, channel: Channel, article: Article, live: bool) -> None:
        """At most retract, then send."""
        for _ in range(3):
            async with conn.transaction():
                post, step = await self._claim(conn, channel, article, live)
            if post is None or step not in (*lifecycle.SENDS, Plan.RETRACT) or not channel.sends:
                return
            if step in lifecycle.SENDS and post.status != "sending":
                return  # review mode: it waits as `ready` for an editor
            if step is Plan.RETRACT:
                await delivery.retract(conn, channel, post)
                continue  # published again meanwhile? the next round renews it
            await delivery.send(conn, channel, post)
            return

    async def _claim(
        self, conn: Connection, channel: Channel, article: Article, live: bool
    ) -> tuple[Post | None, Plan]:
        post = await store.lock(conn, article.id, channel.name)
        if post is None and not article.post_to_social:
            return None, Plan.NOTHING  # the article opted out: no new post, ever
        draft = self.draft(channel, article, post) if live else None
        changed = draft is not None and post is not None and draft.text != post.text
        step = lifecycle.plan(post, live, text_changed=changed)
        if post is not None:
            await store.note_article(conn, post.id, live, max(article.version, post.article_version))
        match step:
            case Plan.CREATE:
                assert draft is not None
                created = await store.insert(conn, draft)
                if created.status == "failed":
                    created = await store.set_status(conn, created.id, "failed", UNCOMPOSABLE)
                return created, step
            case Plan.RENEW:
                assert post is not None
                renewed = self.draft(channel, article, post, generation=post.generation + 1)
                fresh = await store.renew(conn, post.id, renewed, post.generation + 1)
                if fresh.status == "failed":
                    fresh = await store.set_status(conn, fresh.id, "failed", UNCOMPOSABLE)
                return fresh, step
            case Plan.RECOMPOSE:
                assert post is not None
                assert draft is not None
                await store.recompose(conn, post.id, draft)
            case Plan.RETRACT:
                assert post is not None
                return await store.claim(conn, post.id, "retracting"), step
            case Plan.WITHDRAW:
                assert post is not None
                await store.mark_retracted(conn, post.id)
        return post, step

    def draft(
        self, channel: Channel, article: Article, post: Post | None, generation: int | None = None
    ) -> Draft:
        gen = generation or (post.generation if post is not None else 1)
        assert article.published_at is not None
        url = compose.article_url(self.settings.public_url, self.settings.social_url_pattern, article)
        try:
            text, status = compose.compose(compose.story_of(article, url), channel.profile), "ready"
        except compose.LinkTooLong as exc:
            log.error("social.uncomposable", channel=channel.name, error=str(exc))
            text, status = url, "failed"
        if status == "ready" and channel.auto:
            status = "sending"
        if channel.kind == "bluesky":
            key = tid.post_key(article.id, channel.name, gen, article.published_at)
        else:
            key = str(uuid.uuid5(KEY_NAMESPACE, f"{article.id}/{channel.name}/{gen}"))
        lead = compose.clean(article.lead)
        return Draft(
            article_id=article.id,
            channel=channel.name,
            status=status,
            text=text,
            link_url=url,
            card_title=compose.clean(article.title),
            card_description=compose.shorten(lead, lambda c: len(graphemes(c)) <= MAX_CARD_DESCRIPTION),
            language=article.language,
            published_at=article.published_at,
            idempotency_key=key,
            article_version=article.version,
        )


def _raise_first(results: list[BaseException | None]) -> None:
    """Every channel had its go; now report: a bug or outage first, else the retryable errors
    together, waiting as long as the most demanding Retry-After."""
    errors = [result for result in results if isinstance(result, BaseException)]
    for error in errors:
        if not isinstance(error, TransientError):
            raise error
    if errors:
        waits = [e.retry_after for e in errors if isinstance(e, TransientError) and e.retry_after is not None]
        raise TransientError("; ".join(str(e) for e in errors), retry_after=max(waits) if waits else None)
