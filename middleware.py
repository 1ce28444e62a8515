"""ASGI middleware of the app as a whole (authentication has its own in ``auth.middleware``).

``DatabaseUnavailableMiddleware`` covers everything outside GraphQL execution (authentication, the OAuth
token endpoints): a database outage raised there becomes HTTP 503 in the format of the path's clients,
with a ``Retry-After``, instead of a 500. Inside execution ``schema.errors`` does the same for resolvers.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.oauth.endpoints import form_response
from errors import ErrorCode, graphql_error
from models.availability import database_unavailable, log_unavailable
from schema.errors import RETRY_AFTER, UNAVAILABLE_MESSAGE


def _unavailable_response(scope: Scope) -> Response:
    headers = {"retry-after": RETRY_AFTER}
    if scope.get("path", "").startswith("/oauth/"):
        return form_response([("oauth_problem", "service_unavailable")], 503, headers)
    error = graphql_error(UNAVAILABLE_MESSAGE, ErrorCode.SERVICE_UNAVAILABLE)
    return JSONResponse({"data": None, "errors": [error.formatted]}, 503, headers)


class DatabaseUnavailableMiddleware:
    """Pure ASGI: a database outage raised anywhere below becomes a clean 503 (if nothing was sent yet)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            log_unavailable(exc, scope.get("path", "?"))
            await _unavailable_response(scope)(scope, receive, send)
