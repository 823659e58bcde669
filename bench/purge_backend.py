"""A backend for bench.varnish_purge: `/obj/N` answers a small body that Varnish may keep, naming
the keys an article page of ours would (`article:N`, its section and tag lists, `list:all`).
Run as `python -m bench.purge_backend PORT`."""

from __future__ import annotations

import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SECTIONS = 50
TAGS = 500


def keys(number: int) -> str:
    return (
        f"article:{number} list:section:s{number % SECTIONS} list:tag:t{number % TAGS} "
        f"list:tag:t{(number * 7) % TAGS} list:language:de list:all"
    )


async def obj(request: Request) -> Response:
    number = int(request.path_params["number"])
    return Response(
        f'{{"id": {number}, "title": "Artikel {number}"}}',
        media_type="application/json",
        headers={
            "Cache-Control": "public, max-age=3600, s-maxage=3600, stale-if-error=86400",
            "xkey": keys(number),
        },
    )


async def healthz(request: Request) -> Response:
    return Response("ok")


def main() -> None:
    app = Starlette(routes=[Route("/obj/{number:int}", obj), Route("/healthz", healthz)])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
