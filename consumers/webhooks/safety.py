"""Where a webhook may go: never to this machine, the cluster's private networks or a cloud's
metadata service, unless an operator allows a network (`CMS_WEBHOOKS_ALLOWED_NETWORKS`).

A target is checked twice: when a subscription is saved (a clear 422 for the admin), and again
on every attempt, at connect time. The second check is the one that counts: DNS may answer
differently later (DNS rebinding), so `GuardedTransport` resolves the name itself, refuses the
request if any address is not allowed, and connects to the address it checked, sending the name
as the Host header and as the TLS server name (so certificates are verified against the name).
The address that was checked is the address connected to; there is no second lookup to subvert.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

import httpx2

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses the name resolves to, as text.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The target is not a URL we may call, or resolves to an address we may not reach."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def networks(cidrs: Sequence[str]) -> list[Network]:
    """The operator's allow-list; a malformed entry is a configuration error at start."""
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def split_target(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL with a host and no credentials."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("the URL must be http or https")
    if not parts.hostname:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("the URL must not carry credentials")
    if any(ch.isspace() or ch in "<>\"'" for ch in url):
        raise TargetRefused("the URL must not contain spaces, quotes or angle brackets")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def allowed(address: IPAddress, allow: Sequence[Network]) -> bool:
    """A public unicast address, or one inside an allowed network. Addresses that carry an IPv4
    address inside (mapped, 6to4, Teredo, NAT64) are judged by that address too."""
    if any(address in network for network in allow):
        return True
    if not address.is_global or address.is_multicast:
        return False
    inner = _embedded(address)
    return inner is None or allowed(inner, allow)


def _embedded(address: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


async def checked_addresses(
    host: str, port: int, resolver: Resolver, allow: Sequence[Network], resolve_seconds: float
) -> list[IPAddress]:
    """Every address `host` stands for, all of them allowed; else `TargetRefused`."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        found = [literal]
    else:
        try:
            async with asyncio.timeout(resolve_seconds):
                answers = await resolver(host, port)
        except (OSError, TimeoutError, UnicodeError) as exc:
            raise TargetRefused(f"{host} does not resolve: {type(exc).__name__}") from None
        found = [ipaddress.ip_address(answer.split("%")[0]) for answer in answers]
        if not found:
            raise TargetRefused(f"{host} does not resolve")
    refused = [str(address) for address in found if not allowed(address, allow)]
    if refused:
        raise TargetRefused(f"{host} resolves to an address that may not be called: {', '.join(refused)}")
    return found


async def check_url(url: str, resolver: Resolver, allow: Sequence[Network], resolve_seconds: float) -> None:
    _, host, port = split_target(url)
    await checked_addresses(host, port, resolver, allow, resolve_seconds)


class GuardedTransport(httpx2.AsyncBaseTransport):
    """Resolves, checks and pins the address of every request (see the module's docstring)."""

    def __init__(
        self, resolver: Resolver, allow: Sequence[Network], resolve_timeout: float, max_connections: int
    ) -> None:
        self._resolver = resolver
        self._allow = list(allow)
        self._resolve_timeout = resolve_timeout
        # trust_env off: a proxy from the environment would make the connection, unchecked.
        self._inner = httpx2.AsyncHTTPTransport(
            trust_env=False, limits=httpx2.Limits(max_connections=max_connections), retries=0
        )

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        host = request.url.host
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        addresses = await checked_addresses(host, port, self._resolver, self._allow, self._resolve_timeout)
        pinned = str(addresses[0])
        # The Host header was set from the name when the request was built and stays; the TLS
        # handshake names the host too, so the certificate is checked against it, not the IP.
        request.url = request.url.copy_with(host=pinned)
        if request.url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
