"""The browser side: the admin console (the static single-page app in ``web/``, served at ``/admin``) and the
GraphiQL page of ``/graphql`` with its assets (``web/graphiql/``, served at ``/graphiql``), all with strict
headers.

Both are plain files with no third-party origin (GraphiQL's bundles are vendored by
``scripts/build-graphiql.sh``), so their Content-Security-Policy can allow nothing but this origin: no inline
scripts or styles, no framing. They talk to ``/graphql`` like any other client. The files are package data
(the ``web`` package), found beside this module whether it runs from a checkout or an installed wheel.
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from middleware import on_response_start

WEB_DIR = Path(__file__).resolve().parent / "web"
GRAPHIQL_DIR = WEB_DIR / "graphiql"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    # Always revalidate, so a deployed fix reaches open consoles on their next load.
    "cache-control": "no-cache",
}


class SecurityHeaders:
    """Pure-ASGI middleware that adds ``SECURITY_HEADERS`` to every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        def add_headers(message: Message) -> None:
            MutableHeaders(scope=message).update(SECURITY_HEADERS)

        send_with_headers = on_response_start(send, add_headers)

        try:
            await self.app(scope, receive, send_with_headers)
        except HTTPException as error:
            # StaticFiles raises for 404/405; answer here so those responses carry the headers too.
            response = PlainTextResponse(error.detail, status_code=error.status_code, headers=error.headers)
            await response(scope, receive, send_with_headers)


def console_mount(directory: Path = WEB_DIR) -> Mount:
    """``/admin`` -> ``web/`` (``/admin/`` serves ``index.html``; ``/admin`` redirects there)."""
    return Mount("/admin", app=SecurityHeaders(StaticFiles(directory=directory, html=True)), name="admin")


#: GraphiQL's page: the console's policy, plus the fonts its stylesheet embeds as data: URLs.
GRAPHIQL_SECURITY_HEADERS = {
    **SECURITY_HEADERS,
    "content-security-policy": f"{CONTENT_SECURITY_POLICY}; font-src 'self' data:",
}


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page for ``GET /graphql`` from a browser: boots from ``/graphiql/boot.js``, no CDN."""
    html = (GRAPHIQL_DIR / "page.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=GRAPHIQL_SECURITY_HEADERS)


def graphiql_mount(directory: Path = GRAPHIQL_DIR) -> Mount:
    """``/graphiql`` -> ``web/graphiql/``: the page's script and style, and the vendored GraphiQL and React."""
    return Mount("/graphiql", app=SecurityHeaders(StaticFiles(directory=directory)), name="graphiql")
