"""ASGI middleware of the app as a whole (authentication has its own in ``auth.middleware``).

``DatabaseUnavailableMiddleware`` covers everything outside GraphQL execution (authentication, the OAuth
token endpoints): a database outage raised there becomes HTTP 503 in the format of the path's clients,
with a ``Retry-After``, instead of a 500. Inside execution ``schema.errors`` does the same for resolvers.

``StoreBaseRedirects`` makes every redirect the server builds point at ``STORE_BASE_URL``: Starlette
builds ``/admin`` -> ``/admin/`` (and the other trailing-slash redirects) from the request's ``Host``
header, which a client chooses freely.

``BodyLimit`` is Starlette's request body limit (``MAX_BODY_BYTES``), its 413 answered to GraphQL clients
as a JSON error with ``REQUEST_TOO_LARGE`` rather than text.

``CORS`` is Starlette's CORS middleware, except that an origin that is not allowed gets no CORS header at
all (Starlette adds some to every response to a request with an ``Origin``), and a refused preflight is
answered as a JSON error.

``RequestId`` gives every HTTP request an id (the one a trusted proxy sent, else a new one), sets it for the
request's log lines and answers it in ``X-Request-Id``; ``ObservedApp`` puts it outside everything else, so
that even a 500 from Starlette's own error middleware carries it.

``ResponseHeaders`` marks every response ``nosniff``, and answers that may carry secrets (GraphQL, whose
answers hold credentials and tokens; the OAuth token endpoints) ``no-store``, so no shared or browser
cache keeps them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.oauth.endpoints import form_response
from auth.proxy import TrustedProxyMiddleware
from errors import ErrorCode, graphql_error
from media import error_response, negotiate, refusal_response
from models.availability import database_unavailable, log_unavailable
from observability.logs import REQUEST_ID
from observability.metrics import CURRENT, Metrics
from schema.errors import RETRY_AFTER, UNAVAILABLE_MESSAGE


def on_response_start(send: Send, change: Callable[[Message], None]) -> Send:
    """``send``, first calling ``change`` on the response's start message (its status and headers)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            change(message)
        await send(message)

    return sending


def _unavailable_response(scope: Scope) -> Response:
    headers = {"retry-after": RETRY_AFTER}
    if scope.get("path", "").startswith("/oauth/"):
        return form_response([("oauth_problem", "service_unavailable")], 503, headers)
    error = graphql_error(UNAVAILABLE_MESSAGE, ErrorCode.SERVICE_UNAVAILABLE)
    return refusal_response(Headers(scope=scope).get("accept"), 503, error.formatted, headers)


class DatabaseUnavailableMiddleware:
    """Pure ASGI: a database outage raised anywhere below becomes a clean 503 (if nothing was sent yet)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started: list[Message] = []
        try:
            await self.app(scope, receive, on_response_start(send, started.append))
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            log_unavailable(exc, scope.get("path", "?"))
            await _unavailable_response(scope)(scope, receive, send)


class StoreBaseRedirects:
    """Pure ASGI: a redirect to this server's own path is re-based onto ``STORE_BASE_URL``, whatever the Host."""

    def __init__(self, app: ASGIApp, store_base_url: str) -> None:
        self.app = app
        self.base = store_base_url if store_base_url.endswith("/") else store_base_url + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        def rebase_location(message: Message) -> None:
            if not 300 <= message["status"] < 400:
                return
            headers = MutableHeaders(scope=message)
            location = headers.get("location")
            if location is not None:
                headers["location"] = self.rebase(location)

        await self.app(scope, receive, on_response_start(send, rebase_location))

    def rebase(self, location: str) -> str:
        """``scheme://any-host/path?query`` (or ``/path?query``) -> the same path and query under the base."""
        parts = urlsplit(location)
        path_and_query = parts.path + (f"?{parts.query}" if parts.query else "")
        return urljoin(self.base, path_and_query.lstrip("/"))


#: Longest ``X-Request-Id`` accepted from a proxy; a longer one (or one with spaces or control characters) is
#: replaced by a new id, so a log line never carries what a client chose beyond that.
MAX_REQUEST_ID_LENGTH = 128
REQUEST_ID_HEADER = b"x-request-id"


def _acceptable_request_id(value: bytes) -> str | None:
    if 0 < len(value) <= MAX_REQUEST_ID_LENGTH and all(0x21 <= byte <= 0x7E for byte in value):
        return value.decode("ascii")
    return None


class Peers(Protocol):
    def __contains__(self, host: str | None, /) -> bool: ...


def trusted_peers(forwarded_allow_ips: str) -> Peers:
    """The peers ``auth.proxy.TrustedProxyMiddleware`` trusts (``FORWARDED_ALLOW_IPS``): its own check."""

    async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    trusted: Peers = TrustedProxyMiddleware(nothing, forwarded_allow_ips).trusted_hosts
    return trusted


class RequestId:
    """Pure ASGI: the request's id in ``observability.logs.REQUEST_ID`` and in the response's ``X-Request-Id``.

    An incoming ``X-Request-Id`` is kept only from a peer in ``FORWARDED_ALLOW_IPS`` (the same peers whose
    ``X-Forwarded-*`` headers count) and only when it is 1-128 visible ASCII characters; otherwise the id is
    new (32 hex digits). The app's ``Metrics`` (or None) is made current for the request too.
    """

    def __init__(self, app: ASGIApp, trusted: Peers, metrics: Metrics | None = None) -> None:
        self.app = app
        self.trusted = trusted
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        client = scope.get("client")
        if client and client[0] in self.trusted:
            for name, value in scope["headers"]:
                if name == REQUEST_ID_HEADER:
                    request_id = _acceptable_request_id(value)
                    break
        request_id = request_id or uuid.uuid4().hex
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        id_token = REQUEST_ID.set(request_id)
        metrics_token = CURRENT.set(self.metrics)
        await self.app(scope, receive, sending)
        # Reset only after a normal end: the server logs an escaped exception after this returns, and each
        # request runs in a task of its own, whose context goes with it.
        CURRENT.reset(metrics_token)
        REQUEST_ID.reset(id_token)


class ObservedApp(Starlette):
    """Starlette with ``RequestId`` outside its whole stack, error middleware included."""

    def __init__(self, *args: Any, trusted: Peers, metrics: Metrics | None = None, **kwargs: Any) -> None:
        self.trusted = trusted
        self.metrics = metrics
        super().__init__(*args, **kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return RequestId(super().build_middleware_stack(), self.trusted, self.metrics)


#: Paths whose answers may carry secrets: never stored by any cache.
NO_STORE_PREFIXES = ("/graphql", "/oauth/token/")


class ResponseHeaders:
    """Pure ASGI: ``X-Content-Type-Options: nosniff`` on every response, ``Cache-Control: no-store`` where
    answers may carry secrets (headers a response sets itself are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = scope.get("path", "").startswith(NO_STORE_PREFIXES)

        def add_headers(message: Message) -> None:
            # One pass over the raw names (lower-case, as ASGI has them): this runs for every response.
            headers = message["headers"] = list(message.get("headers", ()))
            names = {name for name, _ in headers}
            if b"x-content-type-options" not in names:
                headers.append((b"x-content-type-options", b"nosniff"))
            if no_store and b"cache-control" not in names:
                headers.append((b"cache-control", b"no-store"))

        await self.app(scope, receive, on_response_start(send, add_headers))


#: Paths whose clients read errors as GraphQL JSON.
GRAPHQL_PREFIX = "/graphql"


class BodyLimit:
    """Pure ASGI: Starlette's body limit; on GraphQL paths its plain-text 413 becomes a JSON error."""

    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = RequestBodyLimitMiddleware(app, max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith(GRAPHQL_PREFIX):
            await self.app(scope, receive, send)
            return
        replacement: list[Message] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 413:
                media_type = negotiate(Headers(scope=scope).get("accept"))
                response = error_response(
                    413, "The request body is too large.", ErrorCode.REQUEST_TOO_LARGE, media_type
                )
                replacement.append({"type": "http.response.body", "body": response.body, "more_body": False})
                message = {**message, "headers": response.raw_headers}
            elif message["type"] == "http.response.body" and replacement:
                if message.get("more_body", False):
                    return
                message = replacement[0]
            await send(message)

        await self.app(scope, receive, sending)


class CORS(CORSMiddleware):
    """Starlette's CORS middleware, silent towards origins that are not allowed."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code == 200:
            return response
        allowed = self.is_allowed_origin(request_headers["origin"])
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"content-length", "content-type"} and (allowed or not name.startswith("access-control-"))
        }
        if not allowed:
            headers["vary"] = "Origin"
        reason = bytes(response.body).decode()
        body = {"errors": [{"message": f"{reason}.", "extensions": {"code": ErrorCode.FORBIDDEN.value}}]}
        return Response(json.dumps(body), 400, headers, media_type="application/json")

    async def send(self, message: Message, send: Send, request_headers: Headers) -> None:
        origin = request_headers.get("origin")
        if message["type"] == "http.response.start" and origin is not None and not self.is_allowed_origin(origin):
            MutableHeaders(scope=message).add_vary_header("Origin")
            await send(message)
            return
        await super().send(message, send, request_headers)
