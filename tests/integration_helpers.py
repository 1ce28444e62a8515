"""GraphQL documents and small helpers for tests that create and activate integrations."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.routing import Route

from auth.middleware import AuthenticationFailed, PrincipalMiddleware
from auth.principal import integration_principal
from tests.conftest import gql

INTEGRATION_FIELDS = """
    id name email callbackUrl identityLinkUrl status setupType resourceAccess resources partialResources
    selectedResources isTokenExchange isSecure createdAt updatedAt
    credentials { consumerKey consumerSecret accessToken accessTokenSecret }
"""
USER_ERRORS = "userErrors { field message code }"

CREATE = f"""
mutation($input: CreateIntegrationInput!) {{
  createIntegration(input: $input) {{ integration {{ {INTEGRATION_FIELDS} }} {USER_ERRORS} }}
}}"""
UPDATE = f"""
mutation($input: UpdateIntegrationInput!) {{
  updateIntegration(input: $input) {{ integration {{ {INTEGRATION_FIELDS} }} {USER_ERRORS} }}
}}"""
DELETE = f"mutation($id: ID!) {{ deleteIntegration(id: $id) {{ deletedId {USER_ERRORS} }} }}"
AUTHORIZE_FIELDS = f"""
    integration {{ {INTEGRATION_FIELDS} }}
    credentials {{ consumerKey consumerSecret accessToken accessTokenSecret }}
    identityLinkUrl successCallbackUrl {USER_ERRORS}
"""
AUTHORIZE = f"mutation($id: ID!) {{ authorizeIntegration(id: $id) {{ {AUTHORIZE_FIELDS} }} }}"
REAUTHORIZE = f"mutation($id: ID!) {{ reauthorizeIntegration(id: $id) {{ {AUTHORIZE_FIELDS} }} }}"
GET = f"query($id: ID!) {{ integration(id: $id) {{ {INTEGRATION_FIELDS} }} }}"


async def create(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    """Create an integration and return it (asserting no user errors)."""
    body = await gql(client, CREATE, {"input": fields}, token=token)
    payload = body["data"]["createIntegration"]
    assert payload["userErrors"] == [], payload
    return payload["integration"]


async def authorize(client: httpx.AsyncClient, token: str, integration_id: str) -> dict[str, Any]:
    body = await gql(client, AUTHORIZE, {"id": integration_id}, token=token)
    payload = body["data"]["authorizeIntegration"]
    assert payload["userErrors"] == [], payload
    return payload


def codes(payload: dict[str, Any]) -> list[tuple[tuple[str, ...] | None, str]]:
    return [(tuple(e["field"]) if e["field"] else None, e["code"]) for e in payload["userErrors"]]


TEST_SCHEME = "TestIntegration"


def enable_test_integration_scheme(app: Any) -> None:
    """Let requests authenticate as an integration with ``Authorization: TestIntegration <db id>``.

    The principal is built from the integration's stored grant, as the OAuth scheme will, so tests of
    what an integration may do run through the real enforcement and resolvers without signed requests.
    """
    from models import Integration, IntegrationGrant

    async def authenticate(scope: Any, receive: Any, credentials: str) -> Any:
        row = await Integration.get_or_none(id=int(credentials))
        if row is None:
            raise AuthenticationFailed("unknown test integration")
        grant = await IntegrationGrant.get(integration_id=row.id)
        return integration_principal(row.id, row.name, frozenset(grant.resources)), receive

    route = next(r for r in app.routes if isinstance(r, Route) and r.path == "/graphql")
    middleware = route.app
    assert isinstance(middleware, PrincipalMiddleware)
    middleware.authenticators[TEST_SCHEME.lower()] = authenticate


def as_integration(db_id: int) -> dict[str, str]:
    return {"Authorization": f"{TEST_SCHEME} {db_id}"}
