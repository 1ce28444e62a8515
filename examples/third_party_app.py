"""A reference third-party app for the store's integration handshake (Magento-compatible OAuth 1.0a).

What it does, in the order things happen:

1. ``POST /callback`` (the integration's *Callback URL*): the store posts ``oauth_consumer_key``,
   ``oauth_consumer_secret``, ``store_base_url`` and ``oauth_verifier`` when the admin activates the integration.
   The app stores them and answers 200 (only a 2xx answer counts as delivered).
2. ``GET /login`` (the *Identity link URL*): the admin's browser arrives with ``oauth_consumer_key`` and
   ``success_call_back``. The page has one button, "Link account".
3. ``POST /login``: the app trades the verifier for a request token and then an access token (HMAC-SHA256, no
   ``oauth_callback``, with requests-oauthlib), stores the access token and sends the browser to
   ``success_call_back``, which closes the store's popup.
4. ``GET /products`` and ``POST /query``: GraphQL calls to the store, signed with the access token.
   The same from a shell: ``python examples/third_party_app.py query '{ viewer { kind name } }'``.

5. ``oauth2-query``: the other method, OAuth 2.0 client credentials (an integration whose authentication methods
   include ``OAUTH2_CLIENT_CREDENTIALS``): no handshake, requests-oauthlib's ``BackendApplicationClient`` fetches a
   bearer token from the store's token endpoint (found in its ``/.well-known/oauth-authorization-server``) with
   the consumer key and secret, and calls GraphQL with it: ``python examples/third_party_app.py oauth2-query
   --store URL --client-id KEY --client-secret SECRET '{ viewer { kind } }'``
   (``OAUTHLIB_INSECURE_TRANSPORT=1`` for a store on plain http, in development only).

Run it: ``python examples/third_party_app.py serve --port 9000`` (or ``uvicorn examples.third_party_app:app``).
State (credentials and tokens) is kept in ``THIRD_PARTY_STATE`` (default ``third_party_state.json``), readable
only by its owner. A real app would also authenticate its own users on the login page and keep secrets in a
secret store; this one keeps to what the handshake needs.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1, OAuth1Session
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

PRODUCTS_QUERY = "{ products(first: 20) { edges { node { sku name price } } } }"
CALLBACK_FIELDS = ("oauth_consumer_key", "oauth_consumer_secret", "store_base_url", "oauth_verifier")


@dataclasses.dataclass
class StoreLink:
    """What the app knows about one store's integration, keyed by consumer key."""

    consumer_key: str
    consumer_secret: str
    store_base_url: str
    verifier: str
    access_token: str | None = None
    access_token_secret: str | None = None

    @property
    def linked(self) -> bool:
        return bool(self.access_token and self.access_token_secret)

    def url(self, path: str) -> str:
        return self.store_base_url.rstrip("/") + "/" + path.lstrip("/")


class StateFile:
    """A small JSON file of store links; written atomically, owner-only."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def load(self) -> dict[str, StoreLink]:
        if not self.path.exists():
            return {}
        data = json.loads(self.path.read_text() or "{}")
        return {key: StoreLink(**value) for key, value in data.items()}

    def get(self, consumer_key: str) -> StoreLink | None:
        return self.load().get(consumer_key)

    def put(self, link: StoreLink) -> None:
        with self._lock:
            links = self.load()
            links[link.consumer_key] = link
            temporary = self.path.with_suffix(".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump({k: dataclasses.asdict(v) for k, v in links.items()}, handle, indent=2)
            os.replace(temporary, self.path)

    def latest_linked(self) -> StoreLink | None:
        linked = [link for link in self.load().values() if link.linked]
        return linked[-1] if linked else None


def state() -> StateFile:
    return StateFile(Path(os.environ.get("THIRD_PARTY_STATE", "third_party_state.json")))


# ------------------------------------------------------------------------------------------ OAuth calls


def exchange_tokens(link: StoreLink) -> StoreLink:
    """Verifier -> request token -> access token, as Magento's integration clients do it."""
    session = OAuth1Session(
        link.consumer_key, client_secret=link.consumer_secret, signature_method=SIGNATURE_HMAC_SHA256
    )
    request_token = session.fetch_request_token(link.url("oauth/token/request"), timeout=30)
    session = OAuth1Session(
        link.consumer_key,
        client_secret=link.consumer_secret,
        resource_owner_key=request_token["oauth_token"],
        resource_owner_secret=request_token["oauth_token_secret"],
        verifier=link.verifier,
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    access = session.fetch_access_token(link.url("oauth/token/access"), timeout=30)
    return dataclasses.replace(
        link, access_token=access["oauth_token"], access_token_secret=access["oauth_token_secret"]
    )


def call_graphql(link: StoreLink, query: str, variables: dict[str, Any] | None = None) -> requests.Response:
    """A GraphQL call signed with the access token (a JSON body is not part of an OAuth 1.0a signature)."""
    auth = OAuth1(
        link.consumer_key,
        client_secret=link.consumer_secret,
        resource_owner_key=link.access_token,
        resource_owner_secret=link.access_token_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    return requests.post(
        link.url("graphql"), json={"query": query, "variables": variables or {}}, auth=auth, timeout=30
    )


def call_graphql_oauth2(
    store: str, client_id: str, client_secret: str, query: str, scope: str | None = None
) -> requests.Response:
    """OAuth 2.0 client credentials: a bearer token from the store's token endpoint, then the GraphQL call."""
    from oauthlib.oauth2 import BackendApplicationClient
    from requests_oauthlib import OAuth2Session

    base = store.rstrip("/")
    metadata = requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=30).json()
    session = OAuth2Session(client=BackendApplicationClient(client_id=client_id, scope=scope))
    session.fetch_token(token_url=metadata["token_endpoint"], client_id=client_id, client_secret=client_secret)
    return session.post(f"{base}/graphql", json={"query": query}, timeout=30)


# ----------------------------------------------------------------------------------------------- pages

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:3rem auto}}
button{{font-size:1.1rem;padding:.5rem 1rem}}</style>
</head><body><h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.scheme in {"http", "https"}


async def callback(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in CALLBACK_FIELDS}
    missing = [name for name, value in values.items() if not value]
    if missing:
        return PlainTextResponse(f"missing: {', '.join(missing)}", status_code=400)
    if urlsplit(values["store_base_url"]).scheme not in {"http", "https"}:
        return PlainTextResponse("store_base_url must be an http(s) URL", status_code=400)
    state().put(
        StoreLink(
            consumer_key=values["oauth_consumer_key"],
            consumer_secret=values["oauth_consumer_secret"],
            store_base_url=values["store_base_url"],
            verifier=values["oauth_verifier"],
        )
    )
    return PlainTextResponse("OK")


async def login_page(request: Request) -> Response:
    key = request.query_params.get("oauth_consumer_key", "")
    back = request.query_params.get("success_call_back", "")
    link = state().get(key)
    if link is None:
        return page("Unknown store", "<p>No credentials have been received for this store yet.</p>", 404)
    body = (
        f"<p>Link your account with the store at <b>{html.escape(link.store_base_url)}</b>?</p>"
        '<form method="post" action="login">'
        f'<input type="hidden" name="oauth_consumer_key" value="{html.escape(key)}">'
        f'<input type="hidden" name="success_call_back" value="{html.escape(back)}">'
        '<button type="submit">Link account</button></form>'
    )
    return page("Link account", body)


async def login_submit(request: Request) -> Response:
    form = await request.form()
    key = str(form.get("oauth_consumer_key") or "")
    back = str(form.get("success_call_back") or "")
    link = state().get(key)
    if link is None:
        return page("Unknown store", "<p>No credentials have been received for this store yet.</p>", 404)
    try:
        link = await run_in_threadpool(exchange_tokens, link)
    except Exception as error:  # show the store's oauth_problem to the person linking
        return page("Linking failed", f"<p>{html.escape(str(error))}</p>", 502)
    state().put(link)
    if back and same_origin(back, link.store_base_url):
        return RedirectResponse(back, status_code=303)
    return page("Linked", "<p>Your account is linked. You can close this window.</p>")


async def products(request: Request) -> Response:
    return await _query(PRODUCTS_QUERY, None)


async def query(request: Request) -> Response:
    payload = await request.json()
    return await _query(str(payload.get("query") or ""), payload.get("variables"))


async def _query(document: str, variables: dict[str, Any] | None) -> Response:
    link = state().latest_linked()
    if link is None:
        return JSONResponse({"error": "no store is linked yet"}, status_code=409)
    response = await run_in_threadpool(call_graphql, link, document, variables)
    return JSONResponse(response.json(), status_code=response.status_code)


async def home(request: Request) -> Response:
    links = state().load().values()
    items = "".join(
        f"<li>{html.escape(link.store_base_url)}: {'linked' if link.linked else 'waiting for linking'}</li>"
        for link in links
    )
    return page("Third-party app", f"<ul>{items or '<li>No store yet.</li>'}</ul>")


app = Starlette(
    routes=[
        Route("/", home),
        Route("/callback", callback, methods=["POST"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/products", products, methods=["GET"]),
        Route("/query", query, methods=["POST"]),
    ]
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=9000)
    ask = commands.add_parser("query", help="send a signed GraphQL query to the linked store")
    ask.add_argument("document", nargs="?", default=PRODUCTS_QUERY)
    bearer = commands.add_parser("oauth2-query", help="fetch an OAuth 2.0 token (client credentials) and query")
    bearer.add_argument("document", nargs="?", default=PRODUCTS_QUERY)
    bearer.add_argument("--store", default=os.environ.get("STORE_URL", "http://127.0.0.1:8000/"))
    bearer.add_argument("--client-id", default=os.environ.get("OAUTH2_CLIENT_ID", ""), help="the consumer key")
    bearer.add_argument("--client-secret", default=os.environ.get("OAUTH2_CLIENT_SECRET", ""), help="the secret")
    bearer.add_argument("--scope", help="space-separated resource ids (default: the whole grant)")
    args = parser.parse_args(argv)
    if args.command == "oauth2-query":
        response = call_graphql_oauth2(args.store, args.client_id, args.client_secret, args.document, args.scope)
        print(json.dumps(response.json(), indent=2))
        return 0 if response.ok else 1
    if args.command == "serve":
        import uvicorn

        uvicorn.run(app, host=args.host, port=args.port)
        return 0
    link = state().latest_linked()
    if link is None:
        print("No store is linked yet: activate the integration in the store first.", file=sys.stderr)
        return 1
    response = call_graphql(link, args.document)
    print(json.dumps(response.json(), indent=2))
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main())
