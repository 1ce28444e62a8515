"""Admin users and their roles, through GraphQL: documents, and "an admin whose role holds R" for any test.

``restricted_admin(admin, *resources)`` creates a role holding ``resources`` (a Custom selection, expanded
as saved; ``Magento_Backend::all`` for All) and a user holding it, and signs that user in; the ``admin``
fixture's account makes them, with its own password as "Your Password". ``restricted_admin_on_server`` is
the same against a real server process.
"""

from __future__ import annotations

from typing import Any

from auth.acl import ALL
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.principals import ADMIN_PASSWORD

#: The password of every user these helpers create.
USER_PASSWORD = "user-password-1"

ROLE_FIELDS = "id name resourceAccess resources selectedResources partialResources userCount"
USER_FIELDS = "id username email firstName lastName isActive role { id name } totpEnabled createdAt"
USER_ERRORS = "userErrors { field message code }"

CREATE_ROLE = (
    "mutation($input: CreateAdminRoleInput!) "
    f"{{ createAdminRole(input: $input) {{ role {{ {ROLE_FIELDS} }} {USER_ERRORS} }} }}"
)
UPDATE_ROLE = (
    "mutation($input: UpdateAdminRoleInput!) "
    f"{{ updateAdminRole(input: $input) {{ role {{ {ROLE_FIELDS} }} {USER_ERRORS} }} }}"
)
DELETE_ROLE = (
    "mutation($id: ID!, $password: String) "
    f"{{ deleteAdminRole(id: $id, currentPassword: $password) {{ deletedId {USER_ERRORS} }} }}"
)
GET_ROLE = f"query($id: ID!) {{ adminRole(id: $id) {{ {ROLE_FIELDS} }} }}"
ROLES = (
    "query($first: Int, $after: String) { adminRoles(first: $first, after: $after) "
    f"{{ edges {{ cursor node {{ {ROLE_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)

CREATE_USER = (
    "mutation($input: CreateAdminUserInput!) "
    f"{{ createAdminUser(input: $input) {{ user {{ {USER_FIELDS} }} {USER_ERRORS} }} }}"
)
UPDATE_USER = (
    "mutation($input: UpdateAdminUserInput!) "
    f"{{ updateAdminUser(input: $input) {{ user {{ {USER_FIELDS} }} {USER_ERRORS} }} }}"
)
DELETE_USER = (
    "mutation($id: ID!, $password: String) "
    f"{{ deleteAdminUser(id: $id, currentPassword: $password) {{ deletedId {USER_ERRORS} }} }}"
)
GET_USER = f"query($id: ID!) {{ adminUser(id: $id) {{ {USER_FIELDS} }} }}"
USERS = (
    "query($first: Int, $after: String) { adminUsers(first: $first, after: $after) "
    f"{{ edges {{ cursor node {{ {USER_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
)
INVALIDATE_TOKENS = (
    "mutation($id: ID!, $password: String) "
    f"{{ invalidateAdminTokens(userId: $id, currentPassword: $password) {{ revokedCount {USER_ERRORS} }} }}"
)
CHANGE_PASSWORD = (
    "mutation($current: String, $new: String!) "
    f"{{ changeAdminPassword(currentPassword: $current, newPassword: $new) {{ {USER_ERRORS} }} }}"
)
LOCKED_USERS = "{ lockedAdminUsers { user { id username } lockExpiresAt failuresCount } }"
UNLOCK_USER = f"mutation($id: ID!) {{ unlockAdminUser(id: $id) {{ {USER_ERRORS} }} }}"
VIEWER = "{ viewer { kind name resources role { id name } } }"


def role_input(name: str, resources: tuple[str, ...], current_password: str) -> dict[str, Any]:
    """``CreateAdminRoleInput`` for a role holding ``resources`` (All, given ``Magento_Backend::all``)."""
    if ALL in resources:
        return {"name": name, "resourceAccess": "ALL", "currentPassword": current_password}
    return {"name": name, "resourceAccess": "CUSTOM", "resources": list(resources), "currentPassword": current_password}


def user_input(username: str, role_id: str, current_password: str, /, **fields: Any) -> dict[str, Any]:
    """``CreateAdminUserInput`` for a user holding ``role_id`` (``fields`` override the defaults)."""
    return {
        "username": username,
        "email": f"{username}@example.com",
        "firstName": username.title(),
        "lastName": "Tester",
        "password": USER_PASSWORD,
        "roleId": role_id,
        "currentPassword": current_password,
        **fields,
    }


def payload_of(body: dict[str, Any], field: str, result: str) -> dict[str, Any]:
    """The ``result`` of mutation ``field``, asserting that it was written without user errors."""
    assert body.get("errors") is None, body
    payload = body["data"][field]
    assert payload["userErrors"] == [], payload
    return payload[result]


async def create_role(
    admin: GraphQLClient, name: str, *resources: str, current_password: str = ADMIN_PASSWORD
) -> dict[str, Any]:
    """A role holding ``resources`` (All, given ``Magento_Backend::all``)."""
    body = await admin.query(CREATE_ROLE, {"input": role_input(name, resources, current_password)})
    return payload_of(body, "createAdminRole", "role")


async def create_user(
    admin: GraphQLClient, username: str, role_id: str, *, current_password: str = ADMIN_PASSWORD, **fields: Any
) -> dict[str, Any]:
    """A user holding the role ``role_id``, with the password ``USER_PASSWORD`` (unless ``fields`` say)."""
    body = await admin.query(CREATE_USER, {"input": user_input(username, role_id, current_password, **fields)})
    return payload_of(body, "createAdminUser", "user")


async def administrators_role_id(admin: GraphQLClient) -> str:
    """The global id of the built-in role "Administrators" (All)."""
    roles = (await admin.data(ROLES, {"first": 100}))["adminRoles"]["edges"]
    return next(edge["node"]["id"] for edge in roles if edge["node"]["name"] == "Administrators")


async def restricted_admin(
    admin: GraphQLClient, *resources: str, username: str = "restricted", current_password: str = ADMIN_PASSWORD
) -> GraphQLClient:
    """A signed-in admin whose role (``"<username> role"``) holds ``resources``; ``admin`` creates both."""
    role = await create_role(admin, f"{username} role", *resources, current_password=current_password)
    await create_user(admin, username, role["id"], current_password=current_password)
    return await admin.with_token(None).sign_in(username, USER_PASSWORD)


def restricted_admin_on_server(
    admin: SyncGraphQLClient, *resources: str, username: str = "restricted", current_password: str = ADMIN_PASSWORD
) -> SyncGraphQLClient:
    """:func:`restricted_admin` against a real server process."""
    role = payload_of(
        admin.query(CREATE_ROLE, {"input": role_input(f"{username} role", resources, current_password)}),
        "createAdminRole",
        "role",
    )
    payload_of(
        admin.query(CREATE_USER, {"input": user_input(username, role["id"], current_password)}),
        "createAdminUser",
        "user",
    )
    return admin.with_token(None).sign_in(username, USER_PASSWORD)
