"""The one way the server sends HTTP requests to addresses admins type in (the activation callback).

A callback URL is a request the server makes on an admin's behalf, so it is guarded against reaching what only
the server can reach (SSRF):

- link-local, cloud-metadata, multicast, unspecified and reserved addresses are refused always;
- loopback and private addresses are refused unless the store setting ``privateCallbackAllowList`` lists the
  host name or a network holding the address (an on-premise ERP; read per request, so no restart), or the
  server runs with ``ALLOW_PRIVATE_CALLBACKS=1`` (local development);
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
import re
import socket
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from errors import Refusal

logger = logging.getLogger("integrations.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

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
#: Host names of cloud metadata services (they resolve to the addresses above or to link-local ones).
METADATA_HOSTNAMES = frozenset(
    {"metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"}
)
#: What no allow-list entry may cover: link-local ranges, also inside IPv4-mapped, NAT64 and 6to4 addresses.
NEVER_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("169.254.0.0/16", "fe80::/10", "::ffff:169.254.0.0/112", "64:ff9b::a9fe:0/112", "2002:a9fe::/32")
)
_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")

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


class ForbiddenEntry(ValueError):
    """An allow-list entry that would reach link-local or cloud-metadata addresses."""


def _never_reached(network: IPNetwork) -> bool:
    return any(network.overlaps(n) for n in NEVER_NETWORKS if n.version == network.version) or any(
        a in network for a in METADATA_ADDRESSES if a.version == network.version
    )


def allow_list_entry(raw: str) -> str:
    """One ``privateCallbackAllowList`` entry, normalised: a host name (lower case), an address, or a network.

    A ValueError says what is wrong with it (a ``ForbiddenEntry`` for one that covers link-local or
    cloud-metadata addresses); the message quotes the entry.
    """
    text = raw.strip().lower()
    shown = raw.strip()[:100]
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        network = None
    if network is not None:
        if _never_reached(network):
            raise ForbiddenEntry(
                f'"{shown}" covers link-local or cloud-metadata addresses, which callbacks never reach: list a '
                "narrower network."
            )
        whole = network.prefixlen == network.max_prefixlen
        return str(network.network_address) if whole else str(network)
    if "/" in text or ":" in text or not _HOST_NAME.fullmatch(text.rstrip(".")):
        raise ValueError(
            f'"{shown}" is neither a host name (letters, digits, hyphens and dots; IDN in its xn-- form), an IP '
            "address nor a network in CIDR notation (e.g. 10.20.0.0/16 or fd12:3456::/48)."
        )
    if text.rstrip(".") in METADATA_HOSTNAMES:
        raise ForbiddenEntry(f'"{shown}" is a cloud-metadata host name, which callbacks never reach.')
    return text.rstrip(".")


@dataclasses.dataclass(frozen=True)
class PrivateAllowList:
    """The host names and networks an admin let callbacks reach on private networks and loopback."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> PrivateAllowList:
        """The list from stored entries; one that is malformed or forbidden (stored some other way) is skipped."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            try:
                entry = allow_list_entry(raw)
            except ValueError:
                continue
            try:
                networks.append(ipaddress.ip_network(entry))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def allows(self, host: str, address: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.hosts:
            return True
        candidates = {address, _embedded_ipv4(address)}
        return any(a in n for a in candidates for n in self.networks if a.version == n.version)


NO_PRIVATE_HOSTS = PrivateAllowList()


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


async def resolve(url: str, *, allow_private: bool, allow_list: PrivateAllowList = NO_PRIVATE_HOSTS) -> Target:
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
    if host.rstrip(".") in METADATA_HOSTNAMES:
        raise OutboundError(f"The callback host {host!r} is a cloud-metadata service; callbacks never go there.")
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
        if kind == PRIVATE and not allow_private and not allow_list.allows(host, address):
            raise OutboundError(
                f"The callback host {host!r} resolves to {address}, a private or loopback address; callbacks go "
                "there only when the host or a network holding the address is in Stores > Configuration > OAuth > "
                "Private callback allow-list (privateCallbackAllowList), or the server runs with "
                "ALLOW_PRIVATE_CALLBACKS=1 (development).",
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
    allow_list: PrivateAllowList = NO_PRIVATE_HOSTS,
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
                    target = await resolve(url, allow_private=allow_private, allow_list=allow_list)
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
