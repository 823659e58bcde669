"""One article by slug parses its query string once per distinct string: the answers must not show it."""

from __future__ import annotations

import httpx2

from tests.helpers import create_draft, publish


async def test_a_bad_language_is_refused_every_time_also_after_good_ones(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """A bad language parameter is a 422 each time, whatever answers were given before it."""
    article = await publish(api, token["editor"], await create_draft(api, token["author"], slug="stabschefs"))
    path = f"/v1/content/articles/{article['slug']}"

    statuses = []
    for language in ("de", "Deutsch!", "de", "Deutsch!", "Deutsch!"):
        statuses.append((await api.get(path, params={"language": language})).status_code)

    assert statuses == [200, 422, 200, 422, 422]


async def test_repeated_query_strings_keep_picking_the_right_translation(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Asked again with the same query strings, delivery still picks the right translation."""
    editor, author = token["editor"], token["author"]
    german = await publish(api, editor, await create_draft(api, author, slug="stabschefs", language="de"))
    english = await publish(api, editor, await create_draft(api, author, slug="stabschefs", language="en"))

    for _ in range(2):
        de = await api.get("/v1/content/articles/stabschefs", params={"language": "de"})
        en = await api.get("/v1/content/articles/stabschefs", params={"language": "en"})
        fr = await api.get("/v1/content/articles/stabschefs", params={"language": "fr"})
        assert (de.json()["id"], en.json()["id"], fr.status_code) == (german["id"], english["id"], 404)


async def test_more_distinct_query_strings_than_are_remembered_still_answer(
    api: httpx2.AsyncClient, token: dict[str, str]
) -> None:
    """Hundreds of distinct query strings still get correct answers, a bad one still a 422."""
    article = await publish(api, token["editor"], await create_draft(api, token["author"], slug="stabschefs"))
    path = f"/v1/content/articles/{article['slug']}"

    statuses = {
        (await api.get(path, params={"language": "de", "utm": str(n)})).status_code for n in range(300)
    }
    statuses.add((await api.get(path, params={"language": "de", "utm": "0"})).status_code)
    statuses.add((await api.get(path, params={"language": "xx-INVALID!"})).status_code)

    assert statuses == {200, 422}
