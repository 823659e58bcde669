"""A local stand-in for a WordPress site's REST API (`/wp-json/wp/v2`): posts, categories, tags,
users, media and settings, paged with `X-WP-Total` and `X-WP-TotalPages` as WordPress pages them,
drafts only for a Basic-authenticated user, and a script of failures per page of posts."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

USER, PASSWORD = "redaktion", "abcd efgh ijkl mnop"
SITE = "https://rest.example"


def _post(post_id: int, status: str, slug: str, content: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": post_id,
        "type": "post",
        "status": status,
        "slug": slug,
        "link": f"{SITE}/{slug}/",
        "date_gmt": f"2021-0{post_id % 9 + 1}-01T08:00:00",
        "modified_gmt": "2021-10-01T08:00:00",
        "title": {"rendered": f"Beitrag {post_id}", "raw": f"Beitrag {post_id}"},
        "content": {"rendered": content, "raw": content, "protected": False},
        "excerpt": {"rendered": f"<p>Vorspann {post_id}</p>", "raw": f"Vorspann {post_id}"},
        "guid": {"rendered": f"{SITE}/?p={post_id}"},
        "author": 1,
        "featured_media": 0,
        "categories": [10],
        "tags": [20],
        **extra,
    }


POSTS = [
    _post(
        1, "publish", "erster", "<!-- wp:paragraph --><p>Eins</p><!-- /wp:paragraph -->", featured_media=50
    ),
    _post(2, "publish", "zweiter", 'Zwei\n\nSiehe auch: <a href="https://rest.example/erster/">Eins</a>'),
    _post(3, "draft", "dritter", "Drei"),
    _post(4, "private", "vierter", "Vier"),
    _post(5, "future", "fuenfter", "Fünf", date_gmt="2091-01-01T08:00:00"),
]


@dataclass
class FakeWordPress:
    """Requests seen (path and query), and how many times a page of posts fails with a 500."""

    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    failing_pages: dict[int, int] = field(default_factory=dict)

    def authorized(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return request.headers.get("authorization") == expected

    async def posts(self, request: Request) -> Response:
        query = dict(request.query_params)
        self.requests.append((request.url.path, query))
        page, per_page = int(query.get("page", "1")), int(query.get("per_page", "10"))
        if self.failing_pages.get(page, 0) > 0:
            self.failing_pages[page] -= 1
            return JSONResponse({"code": "internal_server_error"}, status_code=500)
        if query.get("status") == "any" and not self.authorized(request):
            return JSONResponse({"code": "rest_invalid_param"}, status_code=400)
        visible = POSTS if query.get("status") == "any" else [p for p in POSTS if p["status"] == "publish"]
        return self.paged(visible, page, per_page)

    def paged(self, items: list[dict[str, Any]], page: int, per_page: int) -> Response:
        pages = max(1, -(-len(items) // per_page))
        if page > pages:
            return JSONResponse({"code": "rest_post_invalid_page_number"}, status_code=400)
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
        return JSONResponse(chunk, headers=headers)

    async def collection(self, request: Request) -> Response:
        self.requests.append((request.url.path, dict(request.query_params)))
        name = request.path_params["name"]
        items = {
            "categories": [{"id": 10, "slug": "politik", "name": "Politik"}],
            "tags": [{"id": 20, "slug": "wahl", "name": "Wahl"}],
            "users": [{"id": 1, "slug": "jdoe", "name": "Jana Doe"}],
        }[name]
        return self.paged(items, int(request.query_params.get("page", "1")), 100)

    async def media(self, request: Request) -> Response:
        self.requests.append((request.url.path, dict(request.query_params)))
        media_id = int(request.path_params["id"])
        if media_id != 50:
            return JSONResponse({"code": "rest_post_invalid_id"}, status_code=404)
        return JSONResponse(
            {"id": 50, "source_url": f"{SITE}/wp-content/uploads/bild.jpg", "alt_text": "Ein Bild",
             "caption": {"rendered": "<p>Bildunterschrift</p>"}}
        )  # fmt: skip

    async def settings(self, request: Request) -> Response:
        if not self.authorized(request):
            return JSONResponse({"code": "rest_forbidden"}, status_code=401)
        return JSONResponse({"title": "Rest", "language": "de_DE"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/wp-json/wp/v2/posts", self.posts),
                Route("/wp-json/wp/v2/settings", self.settings),
                Route("/wp-json/wp/v2/media/{id:int}", self.media),
                Route("/wp-json/wp/v2/{name:str}", self.collection),
            ]
        )
