"""A burst of 1,000 publishes and unpublishes, delivered with duplicates and out of order: the
inventory must end up counting exactly the slots of the articles that are live at their last
version."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx2
import pytest

from cms.events.contract import Article, ArticleEvent, EventType, Paragraph
from cms.system import SystemSettings
from consumers.ads import SPEC as ADS
from consumers.ads import brand_safety, config
from consumers.ads.page import page_of
from tests.helpers import eventually
from tests.integration.consumers.ads.helpers import inventory, running_ads, send

ARTICLES = 125
VERSIONS = 8  # 125 x 8 = 1,000 events
DUPLICATES = 300

_T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
_PARAGRAPH = (
    "The council met on Tuesday evening to discuss the new cycle lane along the high street, and "
    "residents filled the hall to hear the plans presented by the transport committee."
)
_TITLES = (
    "Council approves the new cycle lane",
    "Troops cross the border as the invasion begins",  # sensitive: military conflict
    "Local bakery wins the regional bread award",
)


@pytest.fixture
async def ads_app(consumer_settings: SystemSettings) -> AsyncIterator[httpx2.AsyncClient]:
    async with running_ads(consumer_settings.model_copy(update={"consumer_prefetch": 64})) as client:
        yield client


def _version(article_id: uuid.UUID, version: int, rng: random.Random, section: str) -> Article:
    live = version > 1 and rng.random() < 0.55
    at = _T0 + timedelta(minutes=version)
    return Article(
        id=article_id,
        slug=f"story-{article_id.hex[:8]}",
        language="en",
        title=rng.choice(_TITLES),
        lead="",
        body=[Paragraph(text=_PARAGRAPH)] * rng.choice([2, 4, 8, 12]),
        section=section,
        tags=["burst"],
        authors=["Desk"],
        related=[],
        status="published" if live else ("unpublished" if version > 1 else "draft"),
        publish_at=None,
        unpublish_at=None,
        published_at=at if live else None,
        first_published_at=_T0 + timedelta(minutes=2) if version > 1 else None,
        created_at=_T0,
        updated_at=at,
        owner="eddie",
        version=version,
    )


def _event(article: Article, sequence: int) -> bytes:
    kind: EventType = (
        "cms.article.created"
        if article.version == 1
        else "cms.article.published"
        if article.status == "published"
        else "cms.article.unpublished"
    )
    return (
        ArticleEvent(
            id=uuid.uuid4(),
            type=kind,
            subject=str(article.id),
            time=article.updated_at,
            sequence=str(sequence),
            articleversion=article.version,
            data=article,
        )
        .model_dump_json()
        .encode()
    )


def _history(rng: random.Random) -> tuple[list[bytes], list[Article]]:
    """Every event of every article, and each article at its last version."""
    events: list[bytes] = []
    last: list[Article] = []
    for _ in range(ARTICLES):
        article_id = uuid.uuid4()
        section = rng.choice(["world", "sport", "local"])
        versions = [_version(article_id, v, rng, section) for v in range(1, VERSIONS + 1)]
        events += [_event(article, len(events) + n) for n, article in enumerate(versions, start=1)]
        last.append(versions[-1])
    return events, last


async def _all_applied(db: asyncpg.Connection[asyncpg.Record]) -> bool:
    done: int = await db.fetchval("SELECT count(*) FROM ads.applied_versions WHERE version = $1", VERSIONS)
    return done == ARTICLES


async def test_inventory_matches_the_live_articles_after_a_shuffled_burst_with_duplicates(
    ads_app: httpx2.AsyncClient,
    consumer_settings: SystemSettings,
    token: dict[str, str],
    db: asyncpg.Connection[asyncpg.Record],
) -> None:
    """1,000 events shuffled with duplicates leave exactly the live articles' slots, counted afresh."""
    rng = random.Random(20261102)  # noqa: S311 (a seeded, reproducible shuffle, not a secret)
    events, last = _history(rng)
    delivered = events + rng.choices(events, k=DUPLICATES)
    rng.shuffle(delivered)
    assert len(events) == 1000

    await send(ADS.queue(consumer_settings), *delivered)
    await eventually(lambda: _all_applied(db), within=120, every=0.25)

    rules, safety = config.load(), brand_safety.load()
    pages = [page_of(article, rules, safety) for article in last if article.status == "published"]
    expected: Counter[tuple[Any, ...]] = Counter()
    for page in pages:
        expected[(page.article.section, page.safety.level)] += len(page.slots)
    report = await inventory(ads_app, token["editor"], group_by="section,brand_safety")
    counted = {(g["section"], g["brand_safety"]): g["slots"] for g in report["groups"]}

    assert 0 < len(pages) < ARTICLES  # some live, some not: the burst decided both ways
    assert counted == dict(expected)
    assert sum(g["articles"] for g in report["groups"]) == len(pages)  # one section, one level each
    total = await inventory(ads_app, token["editor"])
    assert total["groups"] == [{"slots": sum(len(p.slots) for p in pages), "articles": len(pages)}]
    active = await db.fetch("SELECT slot_id FROM ads.slots WHERE active")
    assert {row["slot_id"] for row in active} == {slot.id for page in pages for slot in page.slots}
