"""The one way the server sends HTTP requests to addresses admins type in (the activation callback).

A callback URL is a request the server makes on an admin's behalf, so it is guarded against reaching what only
the server can reach (SSRF):

- link-local, cloud-metadata, multicast, unspecified and reserved addresses are refused always;
- loopback and private addresses are refused unless ``ALLOW_PRIVATE_CALLBACKS=1`` (local development);
- the host is resolved first and every address it resolves to is checked; the connection then goes to the
  checked address (pinned), with the original ``Host`` header and TLS server name, so that a second DNS answer
  cannot swap in another address (DNS rebinding);
- redirects are followed by hand, up to the configured limit (Magento's ``post_maxredirects``, default 0), each
  target checked the same way; a redirect not followed counts as delivered, as Magento ignores the status and a
  POST/redirect/GET handler answers 303 after storing;
- one deadline covers resolving, connecting, sending and the answer; the answer body is not read.

The caller learns only that delivery failed (``OutboundError.message``): telling a closed port from an HTTP
status, or naming the addresses a host resolves to, would make the activation a port scanner and a DNS
oracle for whoever may create integrations. What happened, in words an admin can act on, is in
``OutboundError.detail`` for the server log. Neither ever contains the data that was sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import logging
import socket
from collections.abc import Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from errors import Refusal

logger = logging.getLogger("integrations.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata and host-agent addresses outside the link-local ranges.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "168.63.129.16",  # Azure host agent
        "192.0.0.192",  # Oracle Cloud
    )
)
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")

FORBIDDEN = "forbidden"
PRIVATE = "private"
PUBLIC = "public"


NOT_DELIVERED = (
    "The credentials could not be delivered to the callback URL: it must be reachable from the store and "
    "answer with a success status. The server log says what happened."
)


class OutboundError(Refusal):
    """The request could not be delivered: ``message`` for the caller, ``detail`` (what happened) for the log,
    ``kind`` a fixed word for metrics (invalid_url, unresolvable, forbidden_address, private_address,
    http_status, timeout, unreachable)."""

    def __init__(self, detail: str, kind: str = "unreachable") -> None:
        super().__init__(NOT_DELIVERED)
        self.detail = detail
        self.kind = kind


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address inside IPv4-mapped, 6to4 and NAT64 IPv6 addresses, which reach that IPv4 host."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in NAT64_PREFIX:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def classify(address: IPAddress) -> str:
    """``forbidden`` (never), ``private`` (only when allowed) or ``public``."""
    address = _embedded_ipv4(address)
    if address in METADATA_ADDRESSES or address.is_link_local or address.is_multicast or address.is_unspecified:
        return FORBIDDEN
    if address.is_loopback:
        return PRIVATE
    if address.is_reserved:
        return FORBIDDEN
    if isinstance(address, ipaddress.IPv4Address) and address == ipaddress.IPv4Address("255.255.255.255"):
        return FORBIDDEN
    if address.is_global:
        return PUBLIC
    return PRIVATE


@dataclasses.dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    address: IPAddress

    @property
    def pinned_url(self) -> str:
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return parts._replace(netloc=f"{host}:{self.port}").geturl()

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


async def resolve(url: str, *, allow_private: bool) -> Target:
    """Check the URL and every address its host resolves to; the first one is where to connect."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise OutboundError(f"The callback URL {url!r} is not a valid URL.", "invalid_url") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise OutboundError(f"The callback URL {url!r} must be an http:// or https:// URL with a host.", "invalid_url")
    if parts.username or parts.password:
        raise OutboundError("The callback URL must not contain a user name or password.", "invalid_url")
    host = parts.hostname
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise OutboundError(f"The callback host {host!r} could not be resolved.", "unresolvable") from None
    addresses: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OutboundError(f"The callback host {host!r} could not be resolved.", "unresolvable")
    for address in addresses:
        kind = classify(address)
        if kind == FORBIDDEN:
            raise OutboundError(
                f"The callback host {host!r} resolves to {address}, a link-local, cloud-metadata or reserved "
                "address; callbacks never go there.",
                "forbidden_address",
            )
        if kind == PRIVATE and not allow_private:
            raise OutboundError(
                f"The callback host {host!r} resolves to {address}, a private or loopback address; callbacks go "
                "there only when the server runs with ALLOW_PRIVATE_CALLBACKS=1.",
                "private_address",
            )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])


def _describe(error: Exception, url: str, target: Target | None, timeout: float) -> str:
    where = f"The callback URL {url}"
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return f"{where} did not answer within {timeout:g} s (oauth/consumer/post_timeout)."
    if isinstance(error, httpx.ConnectError):
        reason = str(error) or "connection refused"
        if "refused" in reason.lower():
            reason = "the connection was refused"
        at = f" at {target.address}" if target else ""
        return f"{where} could not be reached{at}: {reason}."
    if isinstance(error, httpx.RemoteProtocolError):
        return f"{where} did not answer with a valid HTTP response."
    return f"{where} could not be reached ({type(error).__name__})."


async def post_form(
    url: str,
    data: Mapping[str, str],
    *,
    timeout_seconds: float,
    max_redirects: int,
    allow_private: bool,
) -> int:
    """POST ``data`` form-encoded; the final status when it is 2xx or 3xx, else ``OutboundError``."""
    target: Target | None = None
    timeout = timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            async with httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # an environment proxy would bypass the address checks
                timeout=httpx.Timeout(timeout),
                headers={"User-Agent": "integrations-graphql/oauth-callback"},
            ) as client:
                method, body = "POST", dict(data)
                redirects = 0
                while True:
                    target = await resolve(url, allow_private=allow_private)
                    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
                    request = client.build_request(
                        method,
                        target.pinned_url,
                        data=body if method == "POST" else None,
                        headers={"Host": target.host_header},
                        extensions=extensions,
                    )
                    response = await client.send(request, stream=True)
                    await response.aclose()
                    status = response.status_code
                    location = response.headers.get("location")
                    if 200 <= status < 300:
                        return status
                    if 300 <= status < 400:
                        if not location or redirects >= max_redirects:
                            return status  # delivered; the redirect is not followed (as Magento)
                        redirects += 1
                        url = urljoin(target.url, location)
                        if status in {301, 302, 303}:
                            method, body = "GET", {}
                        continue
                    raise OutboundError(
                        f"The callback URL {target.url} answered HTTP {status}; 2xx or 3xx counts as delivered.",
                        "http_status",
                    )
    except OutboundError:
        raise
    except (httpx.HTTPError, OSError, TimeoutError) as error:
        timed_out = isinstance(error, httpx.TimeoutException | TimeoutError)
        raise OutboundError(_describe(error, url, target, timeout), "timeout" if timed_out else "unreachable") from None
