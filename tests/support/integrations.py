"""GraphQL documents and small helpers for tests that create and activate integrations."""

from __future__ import annotations

from typing import Any

from resolvers.integrations.service import parse_global_id
from tests.support.graphql import GraphQLClient, SyncGraphQLClient

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


def created(body: dict[str, Any]) -> dict[str, Any]:
    """The integration a ``createIntegration`` answer holds (asserting no user errors)."""
    payload = body["data"]["createIntegration"]
    assert payload["userErrors"] == [], payload
    return payload["integration"]


async def create(admin: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """Create an integration and return it (asserting no user errors)."""
    return created(await admin.query(CREATE, {"input": fields}))


def create_on_server(admin: SyncGraphQLClient, **fields: Any) -> dict[str, Any]:
    """:func:`create` against a real server process."""
    return created(admin.query(CREATE, {"input": fields}))


async def authorize(admin: GraphQLClient, integration_id: str) -> dict[str, Any]:
    body = await admin.query(AUTHORIZE, {"id": integration_id})
    payload = body["data"]["authorizeIntegration"]
    assert payload["userErrors"] == [], payload
    return payload


def db_id(integration: dict[str, Any]) -> int:
    """The database id behind an integration's global id."""
    number = parse_global_id(integration["id"])
    assert number is not None
    return number
