"""Registering, reading, editing and deleting integrations, with their API grants, through HTTP."""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from typing import Any

import httpx
import pytest

from auth import acl
from auth.acl import AclResource
from resolvers.integrations.service import parse_global_id
from tests.conftest import gql
from tests.integration_helpers import (
    CREATE,
    DELETE,
    GET,
    UPDATE,
    as_integration,
    authorize,
    codes,
    create,
    enable_test_integration_scheme,
)

pytestmark = pytest.mark.anyio

TOKEN_FORMAT = re.compile(r"^[0-9a-z]{32}$")


def db_id(integration: dict[str, Any]) -> int:
    number = parse_global_id(integration["id"])
    assert number is not None
    return number


# ------------------------------------------------------------------------------------------ create


async def test_create_registers_an_inactive_manual_integration_with_a_consumer(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    from models import OAuthConsumer

    integration = await create(
        client,
        admin_token,
        name="  ERP connector ",
        email="ops@erp.example",
        callbackUrl="https://erp.example/callback",
        resourceAccess="CUSTOM",
        resources=["Magento_Sales::actions_view"],
    )
    assert integration["name"] == "ERP connector"
    assert integration["email"] == "ops@erp.example"
    assert integration["callbackUrl"] == "https://erp.example/callback"
    assert integration["identityLinkUrl"] is None
    assert integration["status"] == "INACTIVE"
    assert integration["setupType"] == "MANUAL"
    assert integration["isTokenExchange"] is False
    assert integration["isSecure"] is True
    credentials = integration["credentials"]
    assert TOKEN_FORMAT.match(credentials["consumerKey"])
    assert TOKEN_FORMAT.match(credentials["consumerSecret"])
    assert credentials["accessToken"] is None and credentials["accessTokenSecret"] is None
    consumer = await OAuthConsumer.get(integration_id=db_id(integration))
    assert consumer.name == f"Integration{db_id(integration)}"
    assert consumer.key == credentials["consumerKey"]
    assert consumer.secret != credentials["consumerSecret"]  # stored encrypted


async def test_global_id_round_trips(client: httpx.AsyncClient, admin_token: str) -> None:
    integration = await create(client, admin_token, name="A")
    assert base64.b64decode(integration["id"]).decode() == f"Integration:{db_id(integration)}"
    body = await gql(client, GET, {"id": integration["id"]}, token=admin_token)
    assert body["data"]["integration"]["name"] == "A"
    for unknown in ("nope", base64.b64encode(b"Product:1").decode(), base64.b64encode(b"Integration:999").decode()):
        body = await gql(client, GET, {"id": unknown}, token=admin_token)
        assert body["data"]["integration"] is None
        assert "errors" not in body


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": ""}, [(("input", "name"), "REQUIRED")]),
        ({"name": "   "}, [(("input", "name"), "REQUIRED")]),
        ({"name": "x" * 256}, [(("input", "name"), "INVALID")]),
        ({"name": "A", "email": "not-an-email"}, [(("input", "email"), "INVALID_EMAIL")]),
        ({"name": "A", "email": "a@b"}, [(("input", "email"), "INVALID_EMAIL")]),
        ({"name": "A", "callbackUrl": "/relative/path"}, [(("input", "callbackUrl"), "INVALID_URL")]),
        ({"name": "A", "callbackUrl": "ftp://files.example/x"}, [(("input", "callbackUrl"), "INVALID_URL")]),
        ({"name": "A", "identityLinkUrl": "https://"}, [(("input", "identityLinkUrl"), "INVALID_URL")]),
        ({"name": "A", "identityLinkUrl": "javascript:alert(1)"}, [(("input", "identityLinkUrl"), "INVALID_URL")]),
        ({"name": "A", "callbackUrl": "https://h.example:99999/"}, [(("input", "callbackUrl"), "INVALID_URL")]),
        (
            {"name": "", "email": "x", "callbackUrl": "nope", "resources": ["Nope::x"]},
            [
                (("input", "name"), "REQUIRED"),
                (("input", "email"), "INVALID_EMAIL"),
                (("input", "callbackUrl"), "INVALID_URL"),
                (("input", "resources"), "UNKNOWN_RESOURCE"),
            ],
        ),
    ],
)
async def test_create_validation_errors_are_user_errors(
    client: httpx.AsyncClient, admin_token: str, fields: dict[str, Any], expected: list[Any]
) -> None:
    from models import Integration

    body = await gql(client, CREATE, {"input": fields}, token=admin_token)
    payload = body["data"]["createIntegration"]
    assert payload["integration"] is None
    assert codes(payload) == expected
    assert await Integration.all().count() == 0


async def test_unknown_resources_are_named(client: httpx.AsyncClient, admin_token: str) -> None:
    body = await gql(
        client,
        CREATE,
        {"input": {"name": "A", "resources": ["Magento_Catalog::products", "Vendor_X::one", "Vendor_X::two"]}},
        token=admin_token,
    )
    error = body["data"]["createIntegration"]["userErrors"][0]
    assert error["code"] == "UNKNOWN_RESOURCE"
    assert "Vendor_X::one" in error["message"] and "Vendor_X::two" in error["message"]
    assert "Magento_Catalog::products" not in error["message"]


async def test_duplicate_name_gets_magentos_message(client: httpx.AsyncClient, admin_token: str) -> None:
    await create(client, admin_token, name="Shop Sync")
    for name in ("Shop Sync", "shop sync"):
        body = await gql(client, CREATE, {"input": {"name": name}}, token=admin_token)
        payload = body["data"]["createIntegration"]
        assert payload["userErrors"] == [
            {"field": ["input", "name"], "message": f'The integration with name "{name}" exists.', "code": "UNIQUE"}
        ]


async def test_concurrent_creates_with_one_name_have_exactly_one_winner(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    from models import Integration, OAuthConsumer

    bodies = await asyncio.gather(
        *(gql(client, CREATE, {"input": {"name": "Race"}}, token=admin_token) for _ in range(5))
    )
    payloads = [b["data"]["createIntegration"] for b in bodies]
    winners = [p for p in payloads if p["integration"] is not None]
    assert len(winners) == 1
    assert all(codes(p) == [(("input", "name"), "UNIQUE")] for p in payloads if p["integration"] is None)
    assert await Integration.filter(name="Race").count() == 1
    assert await OAuthConsumer.all().count() == 1


# ------------------------------------------------------------------------------------------ grants


async def test_all_grant_is_stored_as_backend_all(client: httpx.AsyncClient, admin_token: str) -> None:
    from models import IntegrationGrant

    integration = await create(client, admin_token, name="Everything", resourceAccess="ALL")
    assert integration["resourceAccess"] == "ALL"
    assert integration["resources"] == ["Magento_Backend::all"]
    assert integration["partialResources"] == []
    grant = await IntegrationGrant.get(integration_id=db_id(integration))
    assert grant.all_resources is True
    assert grant.resources == ["Magento_Backend::all"]


async def test_custom_grant_is_stored_expanded(client: httpx.AsyncClient, admin_token: str) -> None:
    from models import IntegrationGrant

    integration = await create(
        client,
        admin_token,
        name="Catalog",
        resources=["Magento_Catalog::catalog_inventory", "Magento_Cms::page_delete"],
    )
    assert integration["resourceAccess"] == "CUSTOM"
    assert integration["selectedResources"] == ["Magento_Catalog::catalog_inventory", "Magento_Cms::page_delete"]
    assert set(integration["resources"]) == {
        "Magento_Catalog::catalog_inventory",
        "Magento_Catalog::products",
        "Magento_Catalog::edit_product_design",
        "Magento_Catalog::categories",
        "Magento_Catalog::edit_category_design",
        "Magento_Cms::page_delete",
    }
    assert set(integration["partialResources"]) == {
        "Magento_Backend::admin",
        "Magento_Catalog::catalog",
        "Magento_Backend::content",
        "Magento_Backend::content_elements",
        "Magento_Cms::page",
    }
    grant = await IntegrationGrant.get(integration_id=db_id(integration))
    assert grant.all_resources is False
    assert set(grant.resources) == set(integration["resources"])
    assert set(grant.partial_resources) == set(integration["partialResources"])
    assert grant.selected == integration["selectedResources"]


async def test_custom_with_no_resources_grants_nothing(client: httpx.AsyncClient, admin_token: str) -> None:
    integration = await create(client, admin_token, name="Nothing")
    assert integration["resourceAccess"] == "CUSTOM"
    assert integration["resources"] == [] and integration["partialResources"] == []


async def test_resource_added_to_the_tree_later_is_not_granted_until_saved_again(
    client: httpx.AsyncClient, admin_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import IntegrationGrant

    integration = await create(client, admin_token, name="Catalog", resources=["Magento_Catalog::catalog"])
    new = AclResource("Vendor_Feed::export", "Product Feed Export", 99)
    monkeypatch.setattr(acl, "TREE", acl.TREE.with_resource("Magento_Catalog::products", new))

    body = await gql(client, GET, {"id": integration["id"]}, token=admin_token)
    assert "Vendor_Feed::export" not in body["data"]["integration"]["resources"]
    grant = await IntegrationGrant.get(integration_id=db_id(integration))
    assert "Vendor_Feed::export" not in grant.resources

    # Editing something else leaves the grant as stored.
    body = await gql(client, UPDATE, {"input": {"id": integration["id"], "email": "a@b.example"}}, token=admin_token)
    assert "Vendor_Feed::export" not in body["data"]["updateIntegration"]["integration"]["resources"]

    # Saving the grant again (as the admin form does) expands against the current tree.
    body = await gql(
        client,
        UPDATE,
        {"input": {"id": integration["id"], "resources": ["Magento_Catalog::catalog"]}},
        token=admin_token,
    )
    assert "Vendor_Feed::export" in body["data"]["updateIntegration"]["integration"]["resources"]


# ------------------------------------------------------------------------------------------ update


async def test_update_changes_fields_and_resaves_permissions(client: httpx.AsyncClient, admin_token: str) -> None:
    integration = await create(client, admin_token, name="Old", email="old@x.example", resources=["Magento_Cms::block"])
    body = await gql(
        client,
        UPDATE,
        {
            "input": {
                "id": integration["id"],
                "name": "New",
                "email": None,
                "callbackUrl": "http://cb.example/x",
                "identityLinkUrl": "https://id.example/login",
                "resourceAccess": "ALL",
            }
        },
        token=admin_token,
    )
    payload = body["data"]["updateIntegration"]
    assert payload["userErrors"] == []
    updated = payload["integration"]
    assert updated["id"] == integration["id"]
    assert updated["name"] == "New"
    assert updated["email"] is None
    assert updated["isTokenExchange"] is True
    assert updated["isSecure"] is False
    assert updated["resourceAccess"] == "ALL"
    assert updated["resources"] == ["Magento_Backend::all"]
    assert updated["credentials"]["consumerKey"] == integration["credentials"]["consumerKey"]

    body = await gql(
        client, UPDATE, {"input": {"id": integration["id"], "resourceAccess": "CUSTOM"}}, token=admin_token
    )
    assert body["data"]["updateIntegration"]["integration"]["resources"] == []


async def test_update_keeps_status_and_tokens(client: httpx.AsyncClient, admin_token: str) -> None:
    from models import OAuthToken

    integration = await create(client, admin_token, name="Live")
    activated = await authorize(client, admin_token, integration["id"])
    before = await OAuthToken.get(consumer__integration_id=db_id(integration))
    body = await gql(
        client,
        UPDATE,
        {"input": {"id": integration["id"], "name": "Live 2", "resources": ["Magento_Cms::page"]}},
        token=admin_token,
    )
    updated = body["data"]["updateIntegration"]["integration"]
    assert updated["status"] == "ACTIVE"
    assert updated["credentials"] == activated["credentials"]
    after = await OAuthToken.get(consumer__integration_id=db_id(integration))
    assert (after.id, after.token_hash, after.secret) == (before.id, before.token_hash, before.secret)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"name": None}, [(("input", "name"), "REQUIRED")]),
        ({"name": ""}, [(("input", "name"), "REQUIRED")]),
        ({"email": "bad"}, [(("input", "email"), "INVALID_EMAIL")]),
        ({"callbackUrl": "example.com/cb"}, [(("input", "callbackUrl"), "INVALID_URL")]),
        ({"identityLinkUrl": "mailto:a@b.example"}, [(("input", "identityLinkUrl"), "INVALID_URL")]),
        ({"resources": ["Magento_Catalog::nope"]}, [(("input", "resources"), "UNKNOWN_RESOURCE")]),
        ({"name": "Other"}, [(("input", "name"), "UNIQUE")]),
        ({"name": "OTHER"}, [(("input", "name"), "UNIQUE")]),
    ],
)
async def test_update_validation_errors_are_user_errors(
    client: httpx.AsyncClient, admin_token: str, fields: dict[str, Any], expected: list[Any]
) -> None:
    integration = await create(client, admin_token, name="Mine", email="me@x.example")
    await create(client, admin_token, name="Other")
    body = await gql(client, UPDATE, {"input": {"id": integration["id"], **fields}}, token=admin_token)
    payload = body["data"]["updateIntegration"]
    assert payload["integration"] is None
    assert codes(payload) == expected
    unchanged = (await gql(client, GET, {"id": integration["id"]}, token=admin_token))["data"]["integration"]
    assert (unchanged["name"], unchanged["email"]) == ("Mine", "me@x.example")


async def test_update_keeping_its_own_name_is_fine(client: httpx.AsyncClient, admin_token: str) -> None:
    integration = await create(client, admin_token, name="Mine")
    body = await gql(client, UPDATE, {"input": {"id": integration["id"], "name": "Mine"}}, token=admin_token)
    assert body["data"]["updateIntegration"]["userErrors"] == []


async def test_update_and_delete_of_unknown_ids_are_not_found(client: httpx.AsyncClient, admin_token: str) -> None:
    missing = base64.b64encode(b"Integration:4242").decode()
    body = await gql(client, UPDATE, {"input": {"id": missing, "name": "X"}}, token=admin_token)
    assert body["data"]["updateIntegration"]["userErrors"] == [
        {
            "field": ["input", "id"],
            "message": f'The integration with ID "{missing}" doesn\'t exist.',
            "code": "NOT_FOUND",
        }
    ]
    body = await gql(client, DELETE, {"id": "garbage"}, token=admin_token)
    assert codes(body["data"]["deleteIntegration"]) == [(("id",), "NOT_FOUND")]


# ------------------------------------------------------------------------------------------ delete


async def test_delete_removes_integration_consumer_tokens_nonces_and_grant(
    client: httpx.AsyncClient, admin_token: str
) -> None:
    from models import Integration, IntegrationGrant, OAuthConsumer, OAuthNonce, OAuthToken

    keep = await create(client, admin_token, name="Keep")
    await authorize(client, admin_token, keep["id"])
    gone = await create(client, admin_token, name="Gone", resources=["Magento_Cms::page"])
    await authorize(client, admin_token, gone["id"])
    consumer = await OAuthConsumer.get(integration_id=db_id(gone))
    await OAuthNonce.create(consumer_id=consumer.id, nonce="n1", timestamp=1)

    body = await gql(client, DELETE, {"id": gone["id"]}, token=admin_token)
    assert body["data"]["deleteIntegration"] == {"deletedId": gone["id"], "userErrors": []}
    assert not await Integration.exists(id=db_id(gone))
    assert not await OAuthConsumer.exists(id=consumer.id)
    assert not await OAuthToken.exists(consumer_id=consumer.id)
    assert not await OAuthNonce.exists(consumer_id=consumer.id)
    assert not await IntegrationGrant.exists(integration_id=db_id(gone))
    # The other integration is untouched.
    assert await OAuthToken.exists(consumer__integration_id=db_id(keep))
    assert (await gql(client, GET, {"id": gone["id"]}, token=admin_token))["data"]["integration"] is None
    again = await gql(client, DELETE, {"id": gone["id"]}, token=admin_token)
    assert codes(again["data"]["deleteIntegration"]) == [(("id",), "NOT_FOUND")]


# ------------------------------------------------------------------------------------------ list

LIST = """
query($first: Int, $after: String, $status: IntegrationStatus, $search: String) {
  integrations(first: $first, after: $after, status: $status, search: $search) {
    edges { cursor node { name status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_list_is_ordered_by_name_and_paginates(client: httpx.AsyncClient, admin_token: str) -> None:
    for name in ("Delta", "Alpha", "Echo", "Charlie", "Bravo"):
        await create(client, admin_token, name=name)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await gql(client, LIST, {"first": 2, "after": after}, token=admin_token)
        connection = body["data"]["integrations"]
        seen += [e["node"]["name"] for e in connection["edges"]]
        pages += 1
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]
    assert seen == ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert pages == 3


async def test_list_filters_by_status_and_search(client: httpx.AsyncClient, admin_token: str) -> None:
    erp = await create(client, admin_token, name="ERP connector", email="ops@erp.example")
    await create(client, admin_token, name="Feed", email="feeds@shop.example")
    await create(client, admin_token, name="100%_match")
    await authorize(client, admin_token, erp["id"])

    async def names(**variables: Any) -> list[str]:
        body = await gql(client, LIST, variables, token=admin_token)
        return [e["node"]["name"] for e in body["data"]["integrations"]["edges"]]

    assert await names(status="ACTIVE") == ["ERP connector"]
    assert await names(status="INACTIVE") == ["100%_match", "Feed"]
    assert await names(status="RESET") == []
    assert await names(search="erp") == ["ERP connector"]
    assert await names(search="SHOP.example") == ["Feed"]
    assert await names(search="%") == ["100%_match"]
    assert await names(search="_") == ["100%_match"]
    assert await names(search="feed", status="ACTIVE") == []


async def test_list_rejects_bad_cursors_and_negative_first(client: httpx.AsyncClient, admin_token: str) -> None:
    body = await gql(client, LIST, {"after": "not-a-cursor"}, token=admin_token)
    assert body["data"]["integrations"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await gql(client, LIST, {"first": -1}, token=admin_token)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_list_refuses_forged_cursors(client: httpx.AsyncClient, admin_token: str) -> None:
    """A cursor naming an id no id column can hold, or a name no name column can, is bad input, not a crash."""
    for name in ("Alpha", "Bravo"):
        await create(client, admin_token, name=name)
    forged = [f"integration:{n}:Alpha" for n in (2**31, 2**63, 10**30, -1, "1" * 5000)]
    forged += ["integration:1:Al\x00pha", "integration:1:", "integration:1", "product:1", "order:1"]
    for payload in forged:
        cursor = base64.urlsafe_b64encode(payload.encode()).decode()
        body = await gql(client, LIST, {"first": 1, "after": cursor}, token=admin_token)
        assert body["data"]["integrations"] is None, payload
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], payload
    largest = base64.urlsafe_b64encode(f"integration:{2**31 - 1}:Alpha".encode()).decode()
    body = await gql(client, LIST, {"after": largest}, token=admin_token)
    assert [e["node"]["name"] for e in body["data"]["integrations"]["edges"]] == ["Bravo"]


class TestPageCap:
    @pytest.fixture
    def settings(self, settings: Any) -> Any:
        """A small maximum page size, so that the default and the refusal are visible."""
        import dataclasses

        return dataclasses.replace(settings, max_page_size=3)

    async def test_page_size_above_the_maximum_is_refused(self, client: httpx.AsyncClient, admin_token: str) -> None:
        for i in range(5):
            await create(client, admin_token, name=f"I{i}")
        body = await gql(client, LIST, {"first": 1000}, token=admin_token)
        assert body["data"]["integrations"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "3" in body["errors"][0]["message"]
        body = await gql(client, LIST, {"first": 3}, token=admin_token)
        connection = body["data"]["integrations"]
        assert len(connection["edges"]) == 3
        assert connection["pageInfo"]["hasNextPage"] is True
        body = await gql(client, LIST, {}, token=admin_token)
        assert len(body["data"]["integrations"]["edges"]) == 3


async def test_list_does_not_query_per_integration(
    client: httpx.AsyncClient, admin_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Consumers, grants and tokens are loaded in one batch each, however many integrations there are."""
    for name in ("A", "B", "C"):
        integration = await create(client, admin_token, name=name, resources=["Magento_Cms::page"])
        await authorize(client, admin_token, integration["id"])
    query = """{ integrations(first: 3) { edges { node {
        name resources resourceAccess partialResources
        credentials { consumerKey accessToken }
    } } } }"""
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    caplog.clear()
    body = await gql(client, query, token=admin_token)
    assert len(body["data"]["integrations"]["edges"]) == 3
    statements = [r.getMessage() for r in caplog.records if r.name == "tortoise.db_client"]
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    for table in ("oauth_consumer", "oauth_token", "integration_grant"):
        assert sum(f'FROM "{table}"' in s for s in selects) == 1, (table, selects)
    # The list is raw SQL (unquoted table name), like every other list.
    assert sum(re.search(r'\bFROM "?integration\b', s) is not None for s in selects) == 1, selects


# ------------------------------------------------------------------------------------------ access


async def test_guests_and_integrations_without_the_resource_are_refused(
    app: Any, client: httpx.AsyncClient, admin_token: str
) -> None:
    enable_test_integration_scheme(app)
    body = await gql(client, "{ integrations { edges { node { name } } } }")
    assert body["data"]["integrations"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql(client, CREATE, {"input": {"name": "X"}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    catalog = await create(client, admin_token, name="Catalog", resources=["Magento_Catalog::catalog"])
    body = await gql(client, CREATE, {"input": {"name": "X"}}, headers=as_integration(db_id(catalog)))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["requiredResources"] == ["Magento_Integration::integrations"]


async def test_credentials_are_visible_to_admins_only(app: Any, client: httpx.AsyncClient, admin_token: str) -> None:
    enable_test_integration_scheme(app)
    manager = await create(client, admin_token, name="Manager", resources=["Magento_Integration::integrations"])
    body = await gql(
        client,
        "query($id: ID!) { integration(id: $id) { name credentials { consumerKey } } }",
        {"id": manager["id"]},
        headers=as_integration(db_id(manager)),
    )
    assert body["data"]["integration"] == {"name": "Manager", "credentials": None}
    assert body["errors"][0]["path"] == ["integration", "credentials"]
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


CREATE_NO_CREDENTIALS = """
mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id resources } userErrors { field message code } }
}"""
UPDATE_NO_CREDENTIALS = """
mutation($input: UpdateIntegrationInput!) {
  updateIntegration(input: $input) { integration { id resources } userErrors { field message code } }
}"""


async def test_selecting_credentials_in_a_mutation_as_an_integration_fails_the_whole_operation(
    app: Any, client: httpx.AsyncClient, admin_token: str
) -> None:
    from models import Integration

    enable_test_integration_scheme(app)
    manager = await create(client, admin_token, name="Manager", resources=["Magento_Integration::integrations"])
    body = await gql(client, CREATE, {"input": {"name": "Sub"}}, headers=as_integration(db_id(manager)))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not await Integration.exists(name="Sub")


async def test_escalation_guard_limits_what_an_integration_may_grant(
    app: Any, client: httpx.AsyncClient, admin_token: str
) -> None:
    enable_test_integration_scheme(app)
    manager = await create(
        client,
        admin_token,
        name="Manager",
        resources=["Magento_Integration::integrations", "Magento_Catalog::catalog_inventory"],
    )
    headers = as_integration(db_id(manager))

    sub_input = {"name": "Sub", "resources": ["Magento_Catalog::products"]}
    body = await gql(client, CREATE_NO_CREDENTIALS, {"input": sub_input}, headers=headers)
    sub = body["data"]["createIntegration"]
    assert sub["userErrors"] == []
    assert "Magento_Catalog::edit_product_design" in sub["integration"]["resources"]

    body = await gql(
        client,
        CREATE_NO_CREDENTIALS,
        {"input": {"name": "Wider", "resources": ["Magento_Catalog::catalog", "Magento_Sales::sales_invoice"]}},
        headers=headers,
    )
    payload = body["data"]["createIntegration"]
    assert codes(payload) == [(("input", "resources"), "OUT_OF_SCOPE_PERMISSION")]
    assert "Magento_Catalog::catalog" in payload["userErrors"][0]["message"]
    assert "Magento_Sales::sales_invoice" in payload["userErrors"][0]["message"]

    everything = {"name": "Everything", "resourceAccess": "ALL"}
    body = await gql(client, CREATE_NO_CREDENTIALS, {"input": everything}, headers=headers)
    assert codes(body["data"]["createIntegration"]) == [(("input", "resourceAccess"), "OUT_OF_SCOPE_PERMISSION")]

    body = await gql(
        client,
        UPDATE_NO_CREDENTIALS,
        {"input": {"id": sub["integration"]["id"], "resourceAccess": "ALL"}},
        headers=headers,
    )
    assert codes(body["data"]["updateIntegration"]) == [(("input", "resourceAccess"), "OUT_OF_SCOPE_PERMISSION")]

    # Nor may it take over an integration that holds more than it does.
    admin_made = await create(client, admin_token, name="Wide", resourceAccess="ALL")
    takeover = {"id": admin_made["id"], "callbackUrl": "https://evil.example/"}
    body = await gql(client, UPDATE_NO_CREDENTIALS, {"input": takeover}, headers=headers)
    assert codes(body["data"]["updateIntegration"]) == [(("input", "id"), "OUT_OF_SCOPE_PERMISSION")]
    body = await gql(client, DELETE, {"id": admin_made["id"]}, headers=headers)
    assert codes(body["data"]["deleteIntegration"]) == [(("id",), "OUT_OF_SCOPE_PERMISSION")]
    body = await gql(
        client,
        "mutation($id: ID!) { authorizeIntegration(id: $id) { credentials { accessToken } userErrors { code } } }",
        {"id": admin_made["id"]},
        headers=headers,
    )
    payload = body["data"]["authorizeIntegration"]
    assert payload == {"credentials": None, "userErrors": [{"code": "OUT_OF_SCOPE_PERMISSION"}]}
