"""The URL a client used, behind trusted reverse proxies: OAuth 1.0a signs the absolute URL.

``X-Forwarded-Proto``/``-For`` (parsed as uvicorn's own middleware parses them) and ``X-Forwarded-Host``
are honoured only when the connecting peer is in ``FORWARDED_ALLOW_IPS``. The decision needs the real peer
address, so the server runs uvicorn without its proxy handling and this middleware does it inside the app.

The host a signature covers must be one the store answers to (``PublicOrigins``: the host of
``STORE_BASE_URL`` plus ``ALLOWED_HOSTS``). Otherwise anyone could make the server verify a request
signed for ``http://evil.example/graphql``, and a malformed ``Host`` header (``[``, ``127.0.0.1:99999``)
would reach oauthlib's URL parser; both are refused here, before any signature work.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote, urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from errors import Refusal

DEFAULT_PORTS = {"http": "80", "https": "443"}
HOST_NOT_ALLOWED = "This request was sent to a host the store does not answer to; sign it for the store's base URL."

_FORBIDDEN_HOST_CHARACTERS = frozenset(" /\\@?#\t\r\n")
_FORWARDED_PROTOS = frozenset({"http", "https", "ws", "wss"})
_FORWARDED_HEADERS = frozenset({b"x-forwarded-proto", b"x-forwarded-for", b"x-forwarded-host"})


def _forwarded_host(value: bytes) -> bytes | None:
    # The first value is what the client asked the outermost proxy for.
    host = value.split(b",", 1)[0].strip()
    if host and not _FORBIDDEN_HOST_CHARACTERS.intersection(host.decode("latin-1")):
        return host
    return None


class TrustedProxyMiddleware:
    """``X-Forwarded-Proto``, ``-For`` and ``-Host`` from a trusted peer, read in one pass over the headers.

    The scheme and the client address are taken as uvicorn's ``ProxyHeadersMiddleware`` takes them (its
    parser of ``FORWARDED_ALLOW_IPS`` and of the ``X-Forwarded-For`` chain decides): that middleware is not
    stacked in as well, so a request's headers are scanned once, and not at all for a peer that is not
    trusted.
    """

    def __init__(self, app: ASGIApp, trusted_hosts: str = "127.0.0.1") -> None:
        self.app = app
        # uvicorn's parser of the trusted addresses and networks (``*`` trusts every peer).
        uvicorn_proxy = ProxyHeadersMiddleware(app, trusted_hosts=trusted_hosts)  # type: ignore[arg-type]
        self.trusted_hosts = uvicorn_proxy.trusted_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" or scope["type"] == "websocket":
            client = scope.get("client")
            if client and client[0] in self.trusted_hosts:
                scope = self._forwarded(scope)
        await self.app(scope, receive, send)

    def _forwarded(self, scope: Scope) -> Scope:
        """``scope`` as the client sent the request to the outermost proxy (itself when nothing was forwarded)."""
        proto: bytes | None = None
        host: bytes | None = None
        seen_host = False
        for_values: list[bytes] = []
        for name, value in scope["headers"]:
            if name not in _FORWARDED_HEADERS:
                continue
            if name == b"x-forwarded-proto":
                proto = value  # the last one, as uvicorn reads it
            elif name == b"x-forwarded-for":
                for_values.append(value)
            elif name == b"x-forwarded-host" and not seen_host:
                seen_host, host = True, _forwarded_host(value)
        if proto is None and host is None and not for_values:
            return scope
        scope = dict(scope)
        if proto is not None:
            scheme = proto.decode("latin-1").strip()
            if scheme in _FORWARDED_PROTOS:
                scope["scheme"] = scheme.replace("http", "ws") if scope["type"] == "websocket" else scheme
        if for_values:
            address, port = self.trusted_hosts.get_trusted_client_address(b", ".join(for_values).decode("latin-1"))
            if address:  # an empty X-Forwarded-For leaves the peer's address
                scope["client"] = (address, port)
        if host is not None:
            scope["headers"] = [*((n, v) for n, v in scope["headers"] if n != b"host"), (b"host", host)]
        return scope


class HostNotAllowed(Refusal):
    """The request's ``Host`` is not one of the store's public hosts."""

    def __init__(self) -> None:
        super().__init__(HOST_NOT_ALLOWED)


def _authority(scheme: str, host: str) -> str:
    """``host[:port]`` lower-cased, without the scheme's default port (as OAuth's base string URI has it)."""
    host = host.strip().lower()
    name, colon, port = host.rpartition(":")
    if colon and not name.endswith("]") and "]" in port:  # a bare IPv6 address: the colon is not a port
        return host
    if colon and port == DEFAULT_PORTS.get(scheme):
        return name
    return host


class PublicOrigins:
    """The hosts the store answers to: ``STORE_BASE_URL``'s, and any in ``ALLOWED_HOSTS``."""

    def __init__(self, store_base_url: str, allowed_hosts: Iterable[str] = ()) -> None:
        base = urlsplit(store_base_url)
        self.base_scheme = base.scheme or "http"
        self.base_path = base.path if base.path.endswith("/") else base.path + "/"
        hosts = [base.netloc, *allowed_hosts]
        self.authorities = frozenset(_authority(scheme, host) for host in hosts if host for scheme in DEFAULT_PORTS)

    def url_of(self, scope: Scope) -> str:
        """``scheme://host[:port]/path?query`` as the client sent it; ``HostNotAllowed`` for another host."""
        scheme = scope.get("scheme", "http")
        host = next((v.decode("latin-1") for n, v in scope["headers"] if n == b"host"), "")
        if _authority(scheme, host) not in self.authorities:
            raise HostNotAllowed
        raw_path = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else quote(scope.get("root_path", "") + scope["path"])
        query = scope.get("query_string", b"").decode("latin-1")
        return f"{scheme}://{host.strip()}{path}" + (f"?{query}" if query else "")
