"""OAuth 2.0 client credentials for tests: an active client and its tokens from /oauth2/token."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.support.graphql import GraphQLClient
from tests.support.integrations import AUTHORIZE, YOUR_PASSWORD, create

#: Both authentication methods (``Integration.authMethods``).
BOTH = ["OAUTH1", "OAUTH2_CLIENT_CREDENTIALS"]


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def active_client(
    admin: GraphQLClient, methods: list[str] | None = None, name: str = "Acme", **fields: Any
) -> dict[str, Any]:
    """Create and activate a manual integration; its id, consumer key (client id) and secret."""
    integration = await create(admin, name=name, authMethods=methods or BOTH, **fields)
    body = await admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    payload = body["data"]["authorizeIntegration"]
    assert payload["userErrors"] == [], payload
    return {"id": integration["id"], **payload["credentials"]}


async def token_request(
    client: httpx.AsyncClient, creds: dict[str, Any], secret: str | None = None, **form: str
) -> httpx.Response:
    headers = basic(creds["consumerKey"], secret or creds["consumerSecret"])
    return await client.post("/oauth2/token", data={"grant_type": "client_credentials", **form}, headers=headers)


async def access_token(client: httpx.AsyncClient, creds: dict[str, Any], **form: str) -> str:
    response = await token_request(client, creds, **form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])
