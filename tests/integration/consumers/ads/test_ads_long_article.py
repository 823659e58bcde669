"""A 1.9 MB German article through the ads consumer: its page is scored while the process keeps
answering, since brand safety runs beside the event loop rather than on it."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

import asyncpg

from cms.events.contract import ArticleEvent
from cms.system import SystemSettings
from consumers.ads import SPEC as ADS
from tests.integration.consumers.ads.helpers import applied, running_ads, send, slots_of
from tests.unit.ads_samples import long_german_article


async def test_healthz_answers_within_a_second_while_a_long_article_is_scored(
    consumer_settings: SystemSettings, db: asyncpg.Connection[asyncpg.Record]
) -> None:
    """Scoring held /healthz (and, under `cms up`, every request) for 18 s; now it stays prompt."""
    article = long_german_article()
    event = ArticleEvent(
        id=uuid.uuid4(),
        type="cms.article.published",
        subject=str(article.id),
        time=article.updated_at,
        sequence="1",
        articleversion=article.version,
        data=article,
    ).model_dump_json()
    assert len(event) > 1_800_000

    async with running_ads(consumer_settings) as ads:
        await send(ADS.queue(consumer_settings), event.encode())
        # The client shares the consumer's loop (as `cms up` shares it with the API), so a held
        # loop shows as a gap between answers, wherever it falls: in a request or between two.
        answered = [time.perf_counter()]
        async with asyncio.timeout(60):
            while await applied(db, str(article.id)) is None:
                assert (await ads.get("/healthz")).status_code == 200
                answered.append(time.perf_counter())
                await asyncio.sleep(0.05)
        page = (await slots_of(ads, str(article.id))).json()

    took = answered[-1] - answered[0]
    longest = max(later - earlier for earlier, later in itertools.pairwise(answered))
    assert page["targeting"]["brand_safety"] == "sensitive"  # the text was scored, in full
    assert page["targeting"]["brand_safety_categories"][0] == "military_conflict"
    assert longest < 1.0, (longest, took)
    assert len(answered) >= 4, (len(answered), took)  # /healthz was asked while the article was in hand
    print(f"long article applied within {took:.2f} s; longest wait for /healthz {longest * 1000:.0f} ms")
