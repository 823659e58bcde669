"""The caches a purge goes to, each speaking its own HTTP API. A purge names surrogate keys;
`hard` (a kill) removes every copy, otherwise a cache that can marks them stale (soft), which
keeps them for revalidation and for serving while the origin fails.

- Varnish (deploy/varnish/default.vcl): `PURGE` with `xkey-purge: <keys>` (`xkey-soft: 1`
  unless hard), or with `purge_varnish_method=ban`, `BAN` with `xkey-ban: <regex>`.
- Fastly: `POST /service/{id}/purge`, `Surrogate-Key: <keys>` (256 at most), `Fastly-Key`,
  `Fastly-Soft-Purge: 1` unless hard.
- Cloudflare: `POST /client/v4/zones/{zone}/purge_cache` with `{"tags": [...]}` and a Bearer
  token, 30 tags a call by default; no soft purge by tag, so always hard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Protocol

import httpx2
import orjson

from consumers.purge.settings import PurgeSettings

USER_AGENT = "newsroom-cms-purge/1"
# Varnish's default http_req_hdr_len is 8 KiB: keep each xkey-purge or xkey-ban header below it.
VARNISH_HEADER_BYTES = 6000
FASTLY_KEYS_PER_REQUEST = 256
# What cms.platform.cache_keys spells: nothing a regular expression or a header treats specially.
_KEY = re.compile(r"^[A-Za-z0-9:_-]+$")


class PurgeFailed(Exception):
    """A cache did not confirm the purge; the keys stay queued and are tried again."""

    def __init__(self, cache: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"{cache}: {reason}")
        self.cache = cache
        self.retry_after = retry_after


class Cache(Protocol):
    name: str

    async def purge(self, client: httpx2.AsyncClient, keys: Sequence[str], *, hard: bool) -> None:
        """Purge `keys`, all of them, or raise PurgeFailed."""


class Varnish:
    def __init__(self, url: str, method: str = "xkey") -> None:
        self.name = f"varnish {url}"
        self.url = url.rstrip("/") + "/"
        self.method = method

    async def purge(self, client: httpx2.AsyncClient, keys: Sequence[str], *, hard: bool) -> None:
        for chunk in _by_bytes(keys, VARNISH_HEADER_BYTES):
            if self.method == "ban":
                # Anchored on the key separator: `tag:eu` must not ban `tag:eu-gipfel`.
                headers = {"xkey-ban": "(^|[[:space:],])(" + "|".join(chunk) + ")([[:space:],]|$)"}
                await _send(client, self.name, "BAN", self.url, headers=headers)
            else:
                headers = {"xkey-purge": " ".join(chunk), **({} if hard else {"xkey-soft": "1"})}
                await _send(client, self.name, "PURGE", self.url, headers=headers)


class Fastly:
    name = "fastly"

    def __init__(self, base_url: str, service_id: str, token: str) -> None:
        self.url = f"{base_url.rstrip('/')}/service/{service_id}/purge"
        self.token = token

    async def purge(self, client: httpx2.AsyncClient, keys: Sequence[str], *, hard: bool) -> None:
        for start in range(0, len(keys), FASTLY_KEYS_PER_REQUEST):
            chunk = keys[start : start + FASTLY_KEYS_PER_REQUEST]
            headers = {
                "Fastly-Key": self.token,
                "Surrogate-Key": " ".join(chunk),
                "Accept": "application/json",
                **({} if hard else {"Fastly-Soft-Purge": "1"}),
            }
            await _send(client, self.name, "POST", self.url, headers=headers)


class Cloudflare:
    name = "cloudflare"

    def __init__(self, base_url: str, zone_id: str, token: str, per_request: int = 30) -> None:
        self.url = f"{base_url.rstrip('/')}/client/v4/zones/{zone_id}/purge_cache"
        self.token = token
        self.per_request = per_request

    async def purge(self, client: httpx2.AsyncClient, keys: Sequence[str], *, hard: bool) -> None:
        for start in range(0, len(keys), self.per_request):
            body = orjson.dumps({"tags": list(keys[start : start + self.per_request])})
            headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
            response = await _send(client, self.name, "POST", self.url, headers=headers, content=body)
            try:
                success = orjson.loads(response.content).get("success") is True
            except (orjson.JSONDecodeError, AttributeError):
                success = False
            if not success:
                raise PurgeFailed(
                    self.name, f"answered {response.status_code} without success: {response.text[:200]}"
                )


def configured(settings: PurgeSettings) -> list[Cache]:
    """Every cache the settings name."""
    found: list[Cache] = [Varnish(url, settings.purge_varnish_method) for url in settings.purge_varnish_urls]
    if settings.purge_fastly_service_id and settings.purge_fastly_api_token:
        found.append(
            Fastly(
                settings.purge_fastly_url, settings.purge_fastly_service_id, settings.purge_fastly_api_token
            )
        )
    if settings.purge_cloudflare_zone_id and settings.purge_cloudflare_api_token:
        found.append(
            Cloudflare(
                settings.purge_cloudflare_url,
                settings.purge_cloudflare_zone_id,
                settings.purge_cloudflare_api_token,
                settings.purge_cloudflare_tags_per_request,
            )
        )
    return found


async def _send(
    client: httpx2.AsyncClient,
    cache: str,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    content: bytes | None = None,
) -> httpx2.Response:
    try:
        response = await client.request(
            method, url, headers={"User-Agent": USER_AGENT, **headers}, content=content
        )
    except httpx2.HTTPError as exc:
        raise PurgeFailed(cache, f"{type(exc).__name__}: {exc}") from exc
    if not 200 <= response.status_code < 300:
        raise PurgeFailed(
            cache, f"answered {response.status_code}: {response.text[:200]}", _retry_after(response)
        )
    return response


def _retry_after(response: httpx2.Response) -> float | None:
    """Seconds a rate-limited API asks us to wait (Fastly and Cloudflare send seconds)."""
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


def _by_bytes(keys: Sequence[str], limit: int) -> Iterator[list[str]]:
    """Keys in runs whose space-separated length stays within `limit` (a key alone may not)."""
    chunk: list[str] = []
    size = 0
    for key in keys:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a surrogate key: {key!r}")
        if chunk and size + 1 + len(key) > limit:
            yield chunk
            chunk, size = [], 0
        size += len(key) + (1 if chunk else 0)
        chunk.append(key)
    if chunk:
        yield chunk
