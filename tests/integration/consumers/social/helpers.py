"""The social consumer in tests: its settings pointed at the fake networks, run in-process,
and its posts as stored."""

from __future__ import annotations

import contextlib
from typing import Any

import asyncpg
import httpx2

from cms.system import SystemSettings
from consumers.social import SPEC as SOCIAL
from tests.helpers import create_draft, fixture, publish
from tests.integration.consumers.helpers import running_consumer
from tests.integration.consumers.social.fakes import Networks

PUBLIC_URL = "https://zeitung.example"


def running_social(settings: SystemSettings) -> contextlib.AbstractAsyncContextManager[httpx2.AsyncClient]:
    """The social consumer as `cms-consumer social` runs it, with these settings' channels."""
    return running_consumer(SOCIAL, settings)


def social_settings(
    settings: SystemSettings, fakes: Networks | None, mode: str = "auto", **extra: Any
) -> SystemSettings:
    return settings.model_copy(
        update={
            "public_url": PUBLIC_URL,
            "social_channels": fakes.channels(mode) if fakes else [],
            "social_http_timeout": 1.0,
            **extra,
        }
    )


async def posts(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> dict[str, asyncpg.Record]:
    rows = await db.fetch("SELECT * FROM social.posts WHERE article_id = $1", article_id)
    return {row["channel"]: row for row in rows}


async def statuses(db: asyncpg.Connection[asyncpg.Record], article_id: str) -> dict[str, str]:
    return {channel: row["status"] for channel, row in (await posts(db, article_id)).items()}


def all_in(expected: str, channels: tuple[str, ...] = ("mastodon", "bluesky", "bridge")) -> dict[str, str]:
    return dict.fromkeys(channels, expected)


async def published_fixture(api: httpx2.AsyncClient, token: dict[str, str]) -> dict[str, Any]:
    draft = await create_draft(api, token["editor"], **fixture("article-stabschefs.de.json"))
    return await publish(api, token["editor"], draft)
