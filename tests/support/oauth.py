"""Helpers for OAuth tests: integrations made directly in the database, their token rows, oauthlib-signed
requests, and a real HTTP server on loopback that plays the third party's callback endpoint.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from auth import secret_box
from auth.clock import clock
from auth.oauth.tokens import TYPE_ACCESS
from auth.tokens import hash_token
from models import Integration, IntegrationGrant, OAuthConsumer, OAuthToken
from models.integration import STATUS_ACTIVE, STATUS_INACTIVE
from tests.support.graphql import GraphQLClient

GRAPHQL_URL = "http://testserver/graphql"
REQUEST_TOKEN_URL = "http://testserver/oauth/token/request"
ACCESS_TOKEN_URL = "http://testserver/oauth/token/access"
VIEWER = "{ viewer { kind name resources } }"


@dataclasses.dataclass
class Creds:
    integration_id: int
    consumer_id: int
    consumer_key: str
    consumer_secret: str
    token: str | None = None
    token_secret: str | None = None

    def client(self, **overrides: Any) -> Client:
        values: dict[str, Any] = {
            "client_secret": self.consumer_secret,
            "resource_owner_key": self.token,
            "resource_owner_secret": self.token_secret,
            "signature_method": SIGNATURE_HMAC_SHA256,
            "timestamp": str(int(clock.time())),
        }
        values.update(overrides)
        key = values.pop("client_key", self.consumer_key)
        return Client(key, **values)


async def make_integration(
    name: str = "Acme ERP",
    *,
    resources: tuple[str, ...] = ("Magento_Catalog::catalog", "Magento_Catalog::catalog_inventory"),
    all_resources: bool = False,
    status: int = STATUS_ACTIVE,
    endpoint: str | None = None,
    identity_link_url: str | None = None,
    with_access_token: bool = True,
) -> Creds:
    """An integration with a consumer and, by default, an active access token (what a finished exchange leaves)."""
    integration = await Integration.create(
        name=name,
        email="ops@example.com",
        endpoint=endpoint,
        identity_link_url=identity_link_url,
        status=status if with_access_token else STATUS_INACTIVE,
    )
    await IntegrationGrant.create(integration=integration, all_resources=all_resources, resources=list(resources))
    key, secret = secret_box.generate_token(), secret_box.generate_token()
    consumer = await OAuthConsumer.create(
        integration=integration, name=f"Integration{integration.id}", key=key, secret=secret_box.encrypt(secret)
    )
    creds = Creds(integration.id, consumer.id, key, secret)
    if with_access_token:
        token, token_secret = secret_box.generate_token(), secret_box.generate_token()
        await OAuthToken.create(
            consumer=consumer,
            type=TYPE_ACCESS,
            token_hash=hash_token(token),
            token_encrypted=secret_box.encrypt(token),
            secret=secret_box.encrypt(token_secret),
        )
        creds.token, creds.token_secret = token, token_secret
    return creds


async def find_token_row(token: str, token_type: str | None = None) -> OAuthToken | None:
    """Look a presented token up by its hash (optionally only of one type)."""
    query = OAuthToken.filter(token_hash=hash_token(token))
    if token_type is not None:
        query = query.filter(type=token_type)
    return await query.first()


def shown_client(credentials: dict[str, Any]) -> Client:
    """An oauthlib client signing with the four credentials an admin is shown (``IntegrationCredentials``), its
    timestamps from the wall clock: for requests to real server processes."""
    return Client(
        credentials["consumerKey"],
        client_secret=credentials["consumerSecret"],
        resource_owner_key=credentials["accessToken"],
        resource_owner_secret=credentials["accessTokenSecret"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )


def signer(credentials: dict[str, Any]) -> Any:
    """A requests auth that signs with the four credentials an admin is shown (``IntegrationCredentials``)."""
    from requests_oauthlib import OAuth1

    return OAuth1(
        credentials["consumerKey"],
        client_secret=credentials["consumerSecret"],
        resource_owner_key=credentials["accessToken"],
        resource_owner_secret=credentials["accessTokenSecret"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )


def sign(
    client: Client, url: str = GRAPHQL_URL, method: str = "POST", body: str | None = None, form: bool = False
) -> dict[str, str]:
    """Headers of a signed request (a form body is signed; a JSON body is not part of OAuth 1.0a signatures)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    _uri, signed, _body = client.sign(url, method, body=body if form else None, headers=headers)
    return dict(signed)


async def signed_gql(
    caller: GraphQLClient,
    creds: Creds,
    query: str,
    *,
    status: int | None = 200,
    url: str = GRAPHQL_URL,
    oauth: Client | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A GraphQL request signed for ``url`` with ``creds`` (or ``oauth``), sent without a bearer token."""
    signed = sign(oauth or creds.client(), url)
    return await caller.query(query, expect_status=status, headers={**signed, **(headers or {})})


def problem(response: httpx.Response) -> str:
    """The ``oauth_problem`` of a token endpoint's answer."""
    values = dict(urllib.parse.parse_qsl(response.text))
    assert "oauth_problem" in values, response.text
    return values["oauth_problem"]


def gql_problem(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", body
    return error["message"]


# ----------------------------------------------------------------------------- the third party's server


@dataclasses.dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclasses.dataclass
class Behaviour:
    status: int = 200
    delay: float = 0.0
    location: str | None = None


class CallbackServer:
    """A real HTTP server on 127.0.0.1 that records requests and answers as told per path."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.behaviour: dict[str, Behaviour] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path = self.path.split("?", 1)[0]
                outer.received.append(
                    Received(self.command, self.path, dict(self.headers.items()), dict(urllib.parse.parse_qsl(raw)))
                )
                behaviour = outer.behaviour.get(path, Behaviour())
                if behaviour.delay:
                    time.sleep(behaviour.delay)
                self.send_response(behaviour.status)
                if behaviour.location:
                    self.send_header("Location", behaviour.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = _handle
            do_GET = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/callback", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def __enter__(self) -> CallbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
