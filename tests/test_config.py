"""Store configuration through GraphQL: reading, validation, and the resource tree."""

from __future__ import annotations

import httpx

from tests.conftest import gql

OAUTH_FIELDS = (
    "consumerExpirationPeriod consumerPostMaxRedirects consumerPostTimeout enableIntegrationAsBearer "
    "allowHmacSha1 adminTokenLifetime customerTokenLifetime maxFailuresCount lockoutTime "
    "cleanupProbability cleanupExpirationPeriod"
)


async def test_defaults_are_magentos(client: httpx.AsyncClient, admin_token: str) -> None:
    body = await gql(
        client,
        f"{{ config {{ webApiSecurity {{ allowAnonymousGuestAccess }} oauth {{ {OAUTH_FIELDS} }} }} }}",
        token=admin_token,
    )
    assert body["data"]["config"] == {
        "webApiSecurity": {"allowAnonymousGuestAccess": False},
        "oauth": {
            "consumerExpirationPeriod": 300,
            "consumerPostMaxRedirects": 0,
            "consumerPostTimeout": 5,
            "enableIntegrationAsBearer": False,
            "allowHmacSha1": False,
            "adminTokenLifetime": 4,
            "customerTokenLifetime": 1,
            "maxFailuresCount": 6,
            "lockoutTime": 1800,
            "cleanupProbability": 100,
            "cleanupExpirationPeriod": 120,
        },
    }


async def test_update_oauth_config_saves_and_validates(client: httpx.AsyncClient, admin_token: str) -> None:
    ok = await gql(
        client,
        "mutation { updateOAuthConfig(input: {consumerExpirationPeriod: 600, enableIntegrationAsBearer: true}) "
        "{ oauth { consumerExpirationPeriod enableIntegrationAsBearer consumerPostTimeout } userErrors { code } } }",
        token=admin_token,
    )
    assert ok["data"]["updateOAuthConfig"] == {
        "oauth": {"consumerExpirationPeriod": 600, "enableIntegrationAsBearer": True, "consumerPostTimeout": 5},
        "userErrors": [],
    }
    bad = await gql(
        client,
        "mutation { updateOAuthConfig(input: {consumerPostTimeout: 0, maxFailuresCount: -1, adminTokenLifetime: 8}) "
        "{ oauth { adminTokenLifetime } userErrors { field code message } } }",
        token=admin_token,
    )
    payload = bad["data"]["updateOAuthConfig"]
    assert payload["oauth"] is None
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("input", "consumerPostTimeout"),
        ("input", "maxFailuresCount"),
    }
    assert {e["code"] for e in payload["userErrors"]} == {"OUT_OF_RANGE"}
    after = await gql(client, "{ config { oauth { adminTokenLifetime consumerPostTimeout } } }", token=admin_token)
    assert after["data"]["config"]["oauth"] == {"adminTokenLifetime": 4, "consumerPostTimeout": 5}


async def test_admin_token_lifetime_setting_applies_to_new_tokens(client: httpx.AsyncClient, admin_token: str) -> None:
    import datetime as dt

    from auth.clock import clock
    from tests.conftest import ADMIN_PASSWORD

    await gql(
        client,
        "mutation { updateOAuthConfig(input: {adminTokenLifetime: 1}) { userErrors { code } } }",
        token=admin_token,
    )
    body = await gql(
        client,
        f'mutation {{ generateAdminToken(username: "admin", password: "{ADMIN_PASSWORD}") {{ expiresAt }} }}',
    )
    expires = dt.datetime.fromisoformat(body["data"]["generateAdminToken"]["expiresAt"])
    assert abs((expires - clock.now()).total_seconds() - 3600) < 60


async def test_guest_cannot_read_or_change_config(client: httpx.AsyncClient) -> None:
    body = await gql(client, "{ config { webApiSecurity { allowAnonymousGuestAccess } oauth { lockoutTime } } }")
    assert body["data"] == {"config": {"webApiSecurity": None, "oauth": None}}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}
    denied = await gql(client, "mutation { setGuestAccess(allow: true) { userErrors { code } } }")
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["requiredResources"] == ["Magento_Webapi::config_webapi"]


async def test_resource_tree_has_magentos_top_level(client: httpx.AsyncClient, admin_token: str) -> None:
    body = await gql(
        client,
        "{ resourceTree { id title sortOrder guestEligible children { id title guestEligible "
        "children { id guestEligible children { id } } } } }",
        token=admin_token,
    )
    tree = body["data"]["resourceTree"]
    assert [n["title"] for n in tree] == [
        "Dashboard",
        "Sales",
        "Catalog",
        "Customers",
        "My Account",
        "Marketing",
        "Content",
        "Reports",
        "Stores",
        "System",
        "Global Search",
    ]
    catalog = next(n for n in tree if n["id"] == "Magento_Catalog::catalog")
    inventory = catalog["children"][0]
    assert inventory["id"] == "Magento_Catalog::catalog_inventory"
    assert [(c["id"], c["guestEligible"]) for c in inventory["children"]] == [
        ("Magento_Catalog::products", True),
        ("Magento_Catalog::categories", True),
    ]
    system = next(n for n in tree if n["id"] == "Magento_Backend::system")
    assert any(c["id"] == "Magento_Integration::extensions" for c in system["children"])
    guest = await gql(client, "{ resourceTree { id } }")
    assert guest["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_expand_selection_brings_subtrees_and_marks_ancestors_partial() -> None:
    from auth.acl import TREE

    held, partial = TREE.expand_selection(["Magento_Cms::page", "Magento_Sales::actions_view"])
    assert held == {
        "Magento_Cms::page",
        "Magento_Cms::save",
        "Magento_Cms::save_design",
        "Magento_Cms::page_delete",
        "Magento_Sales::actions_view",
    }
    assert partial == {
        "Magento_Backend::admin",
        "Magento_Backend::content",
        "Magento_Backend::content_elements",
        "Magento_Sales::sales",
        "Magento_Sales::sales_operation",
        "Magento_Sales::sales_order",
        "Magento_Sales::actions",
    }
    assert TREE.expand_selection(["Magento_Backend::all"]) == ({"Magento_Backend::all"}, frozenset())
    assert TREE.unknown(["Magento_Cms::page", "Nope::x"]) == ["Nope::x"]
