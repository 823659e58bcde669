"""An article that says `post_to_social: false` (an imported archive) is never posted."""

from __future__ import annotations

import asyncpg
import httpx2

from cms.system import SystemSettings
from tests.helpers import create_draft, eventually, patch, publish
from tests.integration.consumers.social.fakes import Networks
from tests.integration.consumers.social.helpers import all_in, running_social, social_settings, statuses
from tests.integration.events.helpers import RelayStarter


async def test_an_article_that_opts_out_gets_no_post_when_published_nor_after_an_edit(
    api: httpx2.AsyncClient,
    token: dict[str, str],
    consumer_settings: SystemSettings,
    fakes: Networks,
    running_relay: RelayStarter,
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """Published and then edited, the opted-out article has no post row and no network call,
    while an ordinary article published after it is posted to every channel."""
    async with running_social(social_settings(consumer_settings, fakes)), running_relay():
        quiet = await create_draft(api, token["editor"], title="Aus dem Archiv", post_to_social=False)
        quiet = await publish(api, token["editor"], quiet)
        edited = await patch(api, token["editor"], quiet, lead="Nachgetragen")
        assert edited.status_code == 200, edited.text
        marker = await publish(api, token["editor"], await create_draft(api, token["editor"], title="Neu"))

        async def marker_sent() -> bool:
            try:
                return await statuses(db, marker["id"]) == all_in("sent")
            except asyncpg.UndefinedTableError:
                return False

        await eventually(marker_sent, within=20)

    assert quiet["post_to_social"] is False
    assert await db.fetchval("SELECT count(*) FROM social.posts WHERE article_id = $1", quiet["id"]) == 0
    assert fakes.mastodon.created == 1
    assert len(fakes.bluesky.posts) == 1
    assert len(fakes.webhook.published) == 1
