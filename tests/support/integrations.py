"""GraphQL documents and small helpers for tests that create and activate integrations.

Every integration write asks for Your Password (``currentPassword``): the documents take it as a variable
(or in the input), and ``YOUR_PASSWORD`` is the ``admin`` fixture's, to spread into the variables or input.
"""

from __future__ import annotations

from typing import Any

from resolvers.integrations.service import parse_global_id
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.principals import ADMIN_PASSWORD

#: Your Password of the ``admin`` fixture's account, as integration writes send it.
YOUR_PASSWORD = {"currentPassword": ADMIN_PASSWORD}

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
DELETE = f"""mutation($id: ID!, $currentPassword: String) {{
  deleteIntegration(id: $id, currentPassword: $currentPassword) {{ deletedId {USER_ERRORS} }} }}"""
AUTHORIZE_FIELDS = f"""
    integration {{ {INTEGRATION_FIELDS} }}
    credentials {{ consumerKey consumerSecret accessToken accessTokenSecret }}
    identityLinkUrl successCallbackUrl {USER_ERRORS}
"""
AUTHORIZE = f"""mutation($id: ID!, $currentPassword: String) {{
  authorizeIntegration(id: $id, currentPassword: $currentPassword) {{ {AUTHORIZE_FIELDS} }} }}"""
REAUTHORIZE = f"""mutation($id: ID!, $currentPassword: String) {{
  reauthorizeIntegration(id: $id, currentPassword: $currentPassword) {{ {AUTHORIZE_FIELDS} }} }}"""
GET = f"query($id: ID!) {{ integration(id: $id) {{ {INTEGRATION_FIELDS} }} }}"


def created(body: dict[str, Any]) -> dict[str, Any]:
    """The integration a ``createIntegration`` answer holds (asserting no user errors)."""
    payload = body["data"]["createIntegration"]
    assert payload["userErrors"] == [], payload
    return payload["integration"]


async def create(admin: GraphQLClient, **fields: Any) -> dict[str, Any]:
    """Create an integration as the ``admin`` fixture's account and return it (asserting no user errors)."""
    return created(await admin.query(CREATE, {"input": {**fields, **YOUR_PASSWORD}}))


def create_on_server(admin: SyncGraphQLClient, password: str = ADMIN_PASSWORD, **fields: Any) -> dict[str, Any]:
    """:func:`create` against a real server process, as an admin whose password is ``password``."""
    return created(admin.query(CREATE, {"input": {**fields, "currentPassword": password}}))


async def authorize(admin: GraphQLClient, integration_id: str) -> dict[str, Any]:
    body = await admin.query(AUTHORIZE, {"id": integration_id, **YOUR_PASSWORD})
    payload = body["data"]["authorizeIntegration"]
    assert payload["userErrors"] == [], payload
    return payload


def db_id(integration: dict[str, Any]) -> int:
    """The database id behind an integration's global id."""
    number = parse_global_id(integration["id"])
    assert number is not None
    return number
