"""The URL a client used, behind trusted reverse proxies: OAuth 1.0a signs the absolute URL.

``X-Forwarded-Proto``/``-For`` (through uvicorn's own middleware) and ``X-Forwarded-Host`` are honoured only
when the connecting peer is in ``FORWARDED_ALLOW_IPS``. The decision needs the real peer address, so the
server runs uvicorn without its proxy handling and this middleware does it inside the app.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

_FORBIDDEN_HOST_CHARACTERS = frozenset(" /\\@?#\t\r\n")


def _forwarded_host(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"x-forwarded-host":
            # The first value is what the client asked the outermost proxy for.
            host = value.split(b",", 1)[0].strip()
            text = host.decode("latin-1")
            if host and not _FORBIDDEN_HOST_CHARACTERS.intersection(text):
                return host
            return None
    return None


class TrustedProxyMiddleware:
    def __init__(self, app: ASGIApp, trusted_hosts: str = "127.0.0.1") -> None:
        self.app = ProxyHeadersMiddleware(app, trusted_hosts=trusted_hosts)  # type: ignore[arg-type]
        self.trusted_hosts = self.app.trusted_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            client = scope.get("client")
            if client and client[0] in self.trusted_hosts:
                host = _forwarded_host(scope["headers"])
                if host is not None:
                    headers = [(n, v) for n, v in scope["headers"] if n != b"host"]
                    headers.append((b"host", host))
                    scope = {**scope, "headers": headers}
        await self.app(scope, receive, send)  # type: ignore[arg-type]


def request_url(scope: Scope) -> str:
    """``scheme://host[:port]/path?query`` as the client sent it (path and query not re-encoded)."""
    scheme = scope.get("scheme", "http")
    host = None
    for name, value in scope["headers"]:
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host:
        server = scope.get("server")
        if server:
            name, port = server[0], server[1]
            host = name if port in {None, 80 if scheme == "http" else 443} else f"{name}:{port}"
        else:
            host = "localhost"
    raw_path = scope.get("raw_path")
    path = raw_path.decode("latin-1") if raw_path else quote(scope.get("root_path", "") + scope["path"])
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")
