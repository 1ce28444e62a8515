"""User Roles on the integrations' ACL tree, through HTTP: stored expanded, read with the token on every
request (in every process), and never a way for an admin to hold or hand out more than they hold."""

from __future__ import annotations

from typing import Any

from tests.support.admin_users import (
    CREATE_ROLE,
    DELETE_ROLE,
    DELETE_USER,
    GET_ROLE,
    ROLES,
    UPDATE_ROLE,
    USER_PASSWORD,
    VIEWER,
    administrators_role_id,
    create_role,
    create_user,
    restricted_admin,
    restricted_admin_on_server,
    role_input,
)
from tests.support.database import create_admin_account
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.principals import ADMIN_PASSWORD

SALES = "Magento_Sales::sales"
CUSTOMERS = "{ customers(first: 1) { edges { node { id } } } }"
ORDERS = "{ orders(first: 1) { edges { node { incrementId } } } }"
INTEGRATIONS = "{ integrations(first: 1) { edges { node { id } } } }"


def forbidden(body: dict[str, Any], field: str) -> list[str]:
    """The missing resources of the FORBIDDEN error at ``field`` (which is null)."""
    assert body["data"] is None or body["data"][field] is None, body
    error = next(e for e in body["errors"] if e["path"] == [field])
    assert error["extensions"]["code"] == "FORBIDDEN", error
    return error["extensions"]["missingResources"]


# ------------------------------------------------------------------------------------- storing and reading


async def test_a_custom_role_is_stored_expanded_and_listed_by_name(admin: GraphQLClient) -> None:
    role = await create_role(admin, "Sales Clerks", "Magento_Sales::sales_order")
    assert role["name"] == "Sales Clerks"
    assert role["resourceAccess"] == "CUSTOM"
    assert role["selectedResources"] == ["Magento_Sales::sales_order"]
    assert {"Magento_Sales::sales_order", "Magento_Sales::actions_view", "Magento_Sales::cancel"} <= set(
        role["resources"]
    )
    assert "Magento_Sales::sales_invoice" not in role["resources"]  # a sibling, not chosen
    assert set(role["partialResources"]) == {
        "Magento_Backend::admin",
        "Magento_Sales::sales",
        "Magento_Sales::sales_operation",
    }
    assert role["userCount"] == 0
    assert (await admin.data(GET_ROLE, {"id": role["id"]}))["adminRole"] == role

    everything = await create_role(admin, "Auditors", "Magento_Backend::all")
    assert everything["resourceAccess"] == "ALL"
    assert everything["resources"] == ["Magento_Backend::all"]
    assert everything["selectedResources"] == everything["partialResources"] == []

    first = (await admin.data(ROLES, {"first": 2}))["adminRoles"]
    assert [e["node"]["name"] for e in first["edges"]] == ["Administrators", "Auditors"]
    assert first["edges"][0]["node"]["userCount"] == 1  # the admin fixture's account
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await admin.data(ROLES, {"first": 2, "after": first["pageInfo"]["endCursor"]}))["adminRoles"]
    assert [e["node"]["name"] for e in rest["edges"]] == ["Sales Clerks"]
    assert rest["pageInfo"]["hasNextPage"] is False
    for unknown in ("nope", everything["id"][:-2], "QWRtaW5Vc2VyOjE="):  # the last is AdminUser:1
        assert (await admin.data(GET_ROLE, {"id": unknown}))["adminRole"] is None


async def test_role_input_is_checked_field_by_field(admin: GraphQLClient) -> None:
    await create_role(admin, "Sales Clerks", SALES)
    cases = [
        ({"name": " sales  CLERKS "}, [(("input", "name"), "UNIQUE")]),
        ({"name": "  "}, [(("input", "name"), "REQUIRED")]),
        ({"name": "x" * 256}, [(("input", "name"), "TOO_LONG")]),
        ({"name": "Odd", "resources": ["Magento_Nope::x"]}, [(("input", "resources"), "UNKNOWN_RESOURCE")]),
    ]
    for fields, expected in cases:
        body = await admin.query(CREATE_ROLE, {"input": {**fields, "currentPassword": ADMIN_PASSWORD}})
        assert admin.user_errors(body["data"]["createAdminRole"]) == expected, fields
    roles = (await admin.data(ROLES))["adminRoles"]["edges"]
    assert [e["node"]["name"] for e in roles] == ["Administrators", "Sales Clerks"]


async def test_renaming_and_regranting_a_role(admin: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    body = await admin.query(
        UPDATE_ROLE, {"input": {"id": role["id"], "name": "Desk", "currentPassword": ADMIN_PASSWORD}}
    )
    renamed = body["data"]["updateAdminRole"]["role"]
    assert renamed["name"] == "Desk" and renamed["resources"] == role["resources"]
    body = await admin.query(
        UPDATE_ROLE,
        {"input": {"id": role["id"], "resources": ["Magento_Customer::manage"], "currentPassword": ADMIN_PASSWORD}},
    )
    regranted = body["data"]["updateAdminRole"]["role"]
    assert regranted["resources"] == ["Magento_Customer::manage"]
    assert regranted["partialResources"] == ["Magento_Backend::admin", "Magento_Customer::customer"]
    await create_role(admin, "Other", SALES)
    body = await admin.query(
        UPDATE_ROLE, {"input": {"id": role["id"], "name": "OTHER", "currentPassword": ADMIN_PASSWORD}}
    )
    assert admin.user_errors(body["data"]["updateAdminRole"]) == [(("input", "name"), "UNIQUE")]


async def test_a_role_is_deleted_only_when_no_user_holds_it(admin: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    user = await create_user(admin, "clerk", role["id"])
    assert (await admin.data(GET_ROLE, {"id": role["id"]}))["adminRole"]["userCount"] == 1
    body = await admin.query(DELETE_ROLE, {"id": role["id"], "password": ADMIN_PASSWORD})
    payload = body["data"]["deleteAdminRole"]
    assert admin.user_errors(payload) == [(("id",), "IN_USE")] and payload["deletedId"] is None
    assert (await admin.query(DELETE_USER, {"id": user["id"], "password": ADMIN_PASSWORD}))["data"]["deleteAdminUser"][
        "userErrors"
    ] == []
    body = await admin.query(DELETE_ROLE, {"id": role["id"], "password": ADMIN_PASSWORD})
    assert body["data"]["deleteAdminRole"] == {"deletedId": role["id"], "userErrors": []}
    assert (await admin.data(GET_ROLE, {"id": role["id"]}))["adminRole"] is None
    body = await admin.query(DELETE_ROLE, {"id": role["id"], "password": ADMIN_PASSWORD})
    assert admin.user_errors(body["data"]["deleteAdminRole"]) == [(("id",), "NOT_FOUND")]


# ------------------------------------------------------------------------------------- a restricted admin


async def test_a_sales_only_admin_reads_orders_and_nothing_else(admin: GraphQLClient) -> None:
    clerk = await restricted_admin(admin, SALES, username="clerk")
    viewer = (await clerk.data(VIEWER))["viewer"]
    assert viewer["kind"] == "ADMIN" and viewer["role"]["name"] == "clerk role"
    assert (
        "Magento_Sales::actions_view" in viewer["resources"] and "Magento_Customer::manage" not in viewer["resources"]
    )
    assert (await clerk.data(ORDERS))["orders"]["edges"] == []
    assert forbidden(await clerk.query(CUSTOMERS), "customers") == ["Magento_Customer::manage"]
    assert forbidden(await clerk.query(INTEGRATIONS), "integrations") == ["Magento_Integration::integrations"]
    assert forbidden(await clerk.query(ROLES), "adminRoles") == ["Magento_User::acl_roles"]
    body = await clerk.query(CREATE_ROLE, {"input": role_input("Mine", (SALES,), USER_PASSWORD)})
    assert body["data"] is None and clerk.error_codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["missingResources"] == ["Magento_User::acl_roles"]
    # Signing out needs no resource: any admin may.
    body = await clerk.query("mutation { revokeAdminToken { revoked userErrors { code } } }")
    assert body["data"]["revokeAdminToken"] == {"revoked": True, "userErrors": []}
    assert (await clerk.query(VIEWER, expect_status=401))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_viewer_shows_the_admins_role(admin: GraphQLClient, guest: GraphQLClient, integration: Any) -> None:
    viewer = (await admin.data(VIEWER))["viewer"]
    assert viewer["role"] == {"id": await administrators_role_id(admin), "name": "Administrators"}
    assert (await guest.data(VIEWER))["viewer"]["role"] is None
    assert (await integration("Magento_Backend::all").data(VIEWER))["viewer"]["role"] is None


def test_a_role_edit_is_seen_by_another_server_process_on_its_next_request(
    database_url: str, server_factory: Any
) -> None:
    create_admin_account(database_url, "admin", ADMIN_PASSWORD)
    first = server_factory({"DATABASE_URL": database_url})
    second = server_factory({"DATABASE_URL": database_url})
    admin = SyncGraphQLClient(first.base_url).sign_in("admin", ADMIN_PASSWORD)
    clerk = restricted_admin_on_server(admin, SALES, username="clerk").at(second.base_url)
    assert clerk.query(CUSTOMERS)["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    role = clerk.data(VIEWER)["viewer"]["role"]
    body = admin.query(
        UPDATE_ROLE,
        {
            "input": {
                "id": role["id"],
                "resources": [SALES, "Magento_Customer::manage"],
                "currentPassword": ADMIN_PASSWORD,
            }
        },
    )
    assert body["data"]["updateAdminRole"]["userErrors"] == []
    assert clerk.data(CUSTOMERS)["customers"]["edges"] == []
    assert "Traceback" not in first.output() + second.output()


# ------------------------------------------------------------------------------------- Your Password


async def test_every_role_write_needs_your_password_first_and_writes_nothing_without_it(
    admin: GraphQLClient,
) -> None:
    from models import TokenRequestLog

    role = await create_role(admin, "Clerks", SALES)
    writes = [
        (
            "createAdminRole",
            CREATE_ROLE,
            lambda p: {"input": {"name": "", "resources": ["nope"], "currentPassword": p}},
        ),
        (
            "updateAdminRole",
            UPDATE_ROLE,
            lambda p: {"input": {"id": role["id"], "name": "Renamed", "resourceAccess": "ALL", "currentPassword": p}},
        ),
        ("deleteAdminRole", DELETE_ROLE, lambda p: {"id": role["id"], "password": p}),
    ]
    for field, document, variables in writes:
        path = ("currentPassword",) if field.startswith("delete") else ("input", "currentPassword")
        missing = await admin.query(document, variables(None))
        assert admin.user_errors(missing["data"][field]) == [(path, "REQUIRED")], field
        wrong = await admin.query(document, variables("not-my-password-1"))
        payload = wrong["data"][field]
        assert admin.user_errors(payload) == [(path, "INVALID_PASSWORD")], field  # reported alone
        assert payload["userErrors"][0]["message"] == "You have entered an invalid password for current user."
    assert (await admin.data(GET_ROLE, {"id": role["id"]}))["adminRole"] == role
    assert [e["node"]["name"] for e in (await admin.data(ROLES))["adminRoles"]["edges"]] == ["Administrators", "Clerks"]
    # The wrong ones count toward the admin's lock-out, as failed sign-ins do.
    assert (await TokenRequestLog.get(user_name="admin")).failures_count == 3


# ------------------------------------------------------------------------------------- the escalation guard


async def test_an_admin_cannot_create_or_edit_a_role_holding_more_than_it_holds(admin: GraphQLClient) -> None:
    manager = await restricted_admin(admin, "Magento_User::acl_roles", "Magento_Catalog::catalog_inventory")
    password = USER_PASSWORD
    narrower = await create_role(manager, "Products", "Magento_Catalog::products", current_password=password)
    assert "Magento_Catalog::edit_product_design" in narrower["resources"]

    body = await manager.query(
        CREATE_ROLE,
        {"input": role_input("Wider", ("Magento_Catalog::catalog", "Magento_Sales::sales_invoice"), password)},
    )
    payload = body["data"]["createAdminRole"]
    assert manager.user_errors(payload) == [(("input", "resources"), "OUT_OF_SCOPE_PERMISSION")]
    assert "Magento_Catalog::catalog" in payload["userErrors"][0]["message"]
    assert "Magento_Sales::sales_invoice" in payload["userErrors"][0]["message"]
    body = await manager.query(CREATE_ROLE, {"input": role_input("Everything", ("Magento_Backend::all",), password)})
    assert manager.user_errors(body["data"]["createAdminRole"]) == [
        (("input", "resourceAccess"), "OUT_OF_SCOPE_PERMISSION")
    ]

    update = {"id": narrower["id"], "resourceAccess": "ALL", "currentPassword": password}
    body = await manager.query(UPDATE_ROLE, {"input": update})
    assert manager.user_errors(body["data"]["updateAdminRole"]) == [
        (("input", "resourceAccess"), "OUT_OF_SCOPE_PERMISSION")
    ]

    # Nor edit or delete a role that holds more than it does, nor its own role.
    administrators = await administrators_role_id(admin)
    rename = {"id": administrators, "name": "Mine now", "currentPassword": password}
    body = await manager.query(UPDATE_ROLE, {"input": rename})
    assert manager.user_errors(body["data"]["updateAdminRole"]) == [(("input", "id"), "OUT_OF_SCOPE_PERMISSION")]
    body = await manager.query(DELETE_ROLE, {"id": administrators, "password": password})
    assert manager.user_errors(body["data"]["deleteAdminRole"]) == [(("id",), "OUT_OF_SCOPE_PERMISSION")]
    own = (await manager.data(VIEWER))["viewer"]["role"]["id"]
    widen = {
        "id": own,
        "resources": ["Magento_User::acl_roles", "Magento_Catalog::catalog"],
        "currentPassword": password,
    }
    body = await manager.query(UPDATE_ROLE, {"input": widen})
    assert manager.user_errors(body["data"]["updateAdminRole"]) == [(("input", "id"), "NOT_ALLOWED")]
    body = await manager.query(DELETE_ROLE, {"id": own, "password": password})
    assert manager.user_errors(body["data"]["deleteAdminRole"]) == [(("id",), "NOT_ALLOWED")]
    assert (await admin.data(GET_ROLE, {"id": own}))["adminRole"]["resources"] == sorted(
        (await manager.data(VIEWER))["viewer"]["resources"]
    )


async def test_an_admin_with_all_cannot_edit_its_own_role(admin: GraphQLClient) -> None:
    administrators = await administrators_role_id(admin)
    body = await admin.query(
        UPDATE_ROLE, {"input": {"id": administrators, "resources": [SALES], "currentPassword": ADMIN_PASSWORD}}
    )
    assert admin.user_errors(body["data"]["updateAdminRole"]) == [(("input", "id"), "NOT_ALLOWED")]
    assert (await admin.data(VIEWER))["viewer"]["resources"] == ["Magento_Backend::all"]


async def test_a_role_with_all_that_no_active_admin_holds_may_be_narrowed(admin: GraphQLClient) -> None:
    spare = await create_role(admin, "Spare", "Magento_Backend::all")
    body = await admin.query(
        UPDATE_ROLE, {"input": {"id": spare["id"], "resources": [SALES], "currentPassword": ADMIN_PASSWORD}}
    )
    assert body["data"]["updateAdminRole"]["role"]["resourceAccess"] == "CUSTOM"


async def test_an_admin_cannot_grant_an_integration_more_than_its_role_holds(admin: GraphQLClient) -> None:
    """Integrations' escalation guard applies to admins through their role (it once applied to integrations
    that managed integrations, which they no longer may)."""
    from tests.support.integrations import CREATE, DELETE, UPDATE, create

    mine = {"currentPassword": USER_PASSWORD}

    manager = await restricted_admin(admin, "Magento_Integration::integrations", "Magento_Catalog::catalog_inventory")
    body = await manager.query(CREATE, {"input": {"name": "Sub", "resources": ["Magento_Catalog::products"], **mine}})
    sub = body["data"]["createIntegration"]
    assert sub["userErrors"] == []
    assert "Magento_Catalog::edit_product_design" in sub["integration"]["resources"]

    wider = {"name": "Wider", "resources": ["Magento_Catalog::catalog", "Magento_Sales::sales_invoice"], **mine}
    payload = (await manager.query(CREATE, {"input": wider}))["data"]["createIntegration"]
    assert manager.user_errors(payload) == [(("input", "resources"), "OUT_OF_SCOPE_PERMISSION")]
    assert "Magento_Catalog::catalog" in payload["userErrors"][0]["message"]
    assert "Magento_Sales::sales_invoice" in payload["userErrors"][0]["message"]
    body = await manager.query(CREATE, {"input": {"name": "Everything", "resourceAccess": "ALL", **mine}})
    assert manager.user_errors(body["data"]["createIntegration"]) == [
        (("input", "resourceAccess"), "OUT_OF_SCOPE_PERMISSION")
    ]
    body = await manager.query(UPDATE, {"input": {"id": sub["integration"]["id"], "resourceAccess": "ALL", **mine}})
    assert manager.user_errors(body["data"]["updateIntegration"]) == [
        (("input", "resourceAccess"), "OUT_OF_SCOPE_PERMISSION")
    ]

    # Nor may it take over an integration that holds more than it does.
    admin_made = await create(admin, name="Wide", resourceAccess="ALL")
    takeover = {"id": admin_made["id"], "callbackUrl": "https://evil.example/", **mine}
    body = await manager.query(UPDATE, {"input": takeover})
    assert manager.user_errors(body["data"]["updateIntegration"]) == [(("input", "id"), "OUT_OF_SCOPE_PERMISSION")]
    body = await manager.query(DELETE, {"id": admin_made["id"], **mine})
    assert manager.user_errors(body["data"]["deleteIntegration"]) == [(("id",), "OUT_OF_SCOPE_PERMISSION")]
    body = await manager.query(
        "mutation($id: ID!, $currentPassword: String) { authorizeIntegration(id: $id, currentPassword: "
        "$currentPassword) { credentials { accessToken } userErrors { code } } }",
        {"id": admin_made["id"], **mine},
    )
    assert body["data"]["authorizeIntegration"] == {
        "credentials": None,
        "userErrors": [{"code": "OUT_OF_SCOPE_PERMISSION"}],
    }
