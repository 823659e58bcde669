"""The shipped VCL's two ways to purge by key, and who may use them."""

from __future__ import annotations

import asyncpg
import httpx2
import pytest

from consumers.purge.caches import PurgeFailed, Varnish
from tests.helpers import create_draft, publish
from tests.varnish import cms_serve, varnish

Record = asyncpg.Record


@pytest.mark.parametrize("method", ["xkey", "ban"])
async def test_both_purge_methods_make_the_next_read_a_miss_and_spare_other_pages(
    method: str, database_url: str, api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """xkey (soft) and a ban on the xkey header each drop the named article's page, and only it:
    `tag:eu` is not `tag:eu-gipfel`, another article's page stays cached."""
    editor = token["editor"]
    one = await publish(api, editor, await create_draft(api, editor, title="Eins", tags=["eu"]))
    two = await publish(api, editor, await create_draft(api, editor, title="Zwei", tags=["eu-gipfel"]))
    pages = [f"/v1/content/articles/{a['slug']}?language=de" for a in (one, two)]
    async with (
        cms_serve(database_url, {"CMS_DELIVERY_S_MAXAGE": "3600"}) as backend,
        varnish(backend.port) as cache,
        httpx2.AsyncClient(base_url=cache.url) as reader,
    ):
        for path in pages * 2:
            await reader.get(path)
        assert [(await reader.get(path)).headers["x-cache"] for path in pages] == ["HIT", "HIT"]

        async with httpx2.AsyncClient() as client:
            await Varnish(cache.url, method).purge(client, [f"article:{one['id']}", "tag:eu"], hard=False)

        assert [(await reader.get(path)).headers["x-cache"] for path in pages] == ["MISS", "HIT"]


async def test_only_the_purgers_acl_may_purge_or_ban(database_url: str) -> None:
    """From an address outside `acl purgers`, PURGE and BAN are refused with 403."""
    async with (
        cms_serve(database_url) as backend,
        varnish(backend.port, purgers=("192.0.2.10",)) as cache,
        httpx2.AsyncClient() as client,
    ):
        for method in ("xkey", "ban"):
            with pytest.raises(PurgeFailed, match="403"):
                await Varnish(cache.url, method).purge(client, ["list:all"], hard=True)
