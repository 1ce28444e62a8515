"""Registering, reading, editing and deleting integrations, with their API grants, through HTTP."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import Any

import pytest

from auth import acl
from auth.acl import AclResource
from tests.support.acl import with_resource
from tests.support.graphql import GraphQLClient
from tests.support.integrations import CREATE, DELETE, GET, UPDATE, YOUR_PASSWORD, authorize, create, db_id
from tests.support.principals import IntegrationCaller
from tests.support.statements import sql_statements

TOKEN_FORMAT = re.compile(r"^[0-9a-z]{32}$")


# ------------------------------------------------------------------------------------------ create


async def test_create_registers_an_inactive_manual_integration_with_a_consumer(admin: GraphQLClient) -> None:
    from models import OAuthConsumer

    integration = await create(
        admin,
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


async def test_global_id_round_trips(admin: GraphQLClient) -> None:
    integration = await create(admin, name="A")
    assert base64.b64decode(integration["id"]).decode() == f"Integration:{db_id(integration)}"
    body = await admin.query(GET, {"id": integration["id"]})
    assert body["data"]["integration"]["name"] == "A"
    for unknown in ("nope", base64.b64encode(b"Product:1").decode(), base64.b64encode(b"Integration:999").decode()):
        body = await admin.query(GET, {"id": unknown})
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
    admin: GraphQLClient, fields: dict[str, Any], expected: list[Any]
) -> None:
    from models import Integration

    body = await admin.query(CREATE, {"input": {**fields, **YOUR_PASSWORD}})
    payload = body["data"]["createIntegration"]
    assert payload["integration"] is None
    assert admin.user_errors(payload) == expected
    assert await Integration.all().count() == 0


async def test_unknown_resources_are_named(admin: GraphQLClient) -> None:
    body = await admin.query(
        CREATE,
        {
            "input": {
                **YOUR_PASSWORD,
                "name": "A",
                "resources": ["Magento_Catalog::products", "Vendor_X::one", "Vendor_X::two"],
            }
        },
    )
    error = body["data"]["createIntegration"]["userErrors"][0]
    assert error["code"] == "UNKNOWN_RESOURCE"
    assert "Vendor_X::one" in error["message"] and "Vendor_X::two" in error["message"]
    assert "Magento_Catalog::products" not in error["message"]


async def test_duplicate_name_gets_magentos_message(admin: GraphQLClient) -> None:
    await create(admin, name="Shop Sync")
    for name in ("Shop Sync", "shop sync"):
        body = await admin.query(CREATE, {"input": {**YOUR_PASSWORD, "name": name}})
        payload = body["data"]["createIntegration"]
        assert payload["userErrors"] == [
            {"field": ["input", "name"], "message": f'The integration with name "{name}" exists.', "code": "UNIQUE"}
        ]


async def test_concurrent_creates_with_one_name_have_exactly_one_winner(admin: GraphQLClient) -> None:
    from models import Integration, OAuthConsumer

    bodies = await asyncio.gather(
        *(admin.query(CREATE, {"input": {**YOUR_PASSWORD, "name": "Race"}}) for _ in range(5))
    )
    payloads = [b["data"]["createIntegration"] for b in bodies]
    winners = [p for p in payloads if p["integration"] is not None]
    assert len(winners) == 1
    assert all(admin.user_errors(p) == [(("input", "name"), "UNIQUE")] for p in payloads if p["integration"] is None)
    assert await Integration.filter(name="Race").count() == 1
    assert await OAuthConsumer.all().count() == 1


# ------------------------------------------------------------------------------------------ grants


async def test_all_grant_is_stored_as_backend_all(admin: GraphQLClient) -> None:
    from models import IntegrationGrant

    integration = await create(admin, name="Everything", resourceAccess="ALL")
    assert integration["resourceAccess"] == "ALL"
    assert integration["resources"] == ["Magento_Backend::all"]
    assert integration["partialResources"] == []
    grant = await IntegrationGrant.get(integration_id=db_id(integration))
    assert grant.all_resources is True
    assert grant.resources == ["Magento_Backend::all"]


async def test_custom_grant_is_stored_expanded(admin: GraphQLClient) -> None:
    from models import IntegrationGrant

    integration = await create(
        admin,
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


async def test_custom_with_no_resources_grants_nothing(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Nothing")
    assert integration["resourceAccess"] == "CUSTOM"
    assert integration["resources"] == [] and integration["partialResources"] == []


async def test_resource_added_to_the_tree_later_is_not_granted_until_saved_again(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import IntegrationGrant

    integration = await create(admin, name="Catalog", resources=["Magento_Catalog::catalog"])
    new = AclResource("Vendor_Feed::export", "Product Feed Export", 99)
    monkeypatch.setattr(acl, "TREE", with_resource(acl.TREE, "Magento_Catalog::products", new))

    body = await admin.query(GET, {"id": integration["id"]})
    assert "Vendor_Feed::export" not in body["data"]["integration"]["resources"]
    grant = await IntegrationGrant.get(integration_id=db_id(integration))
    assert "Vendor_Feed::export" not in grant.resources

    # Editing something else leaves the grant as stored.
    body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": integration["id"], "email": "a@b.example"}})
    assert "Vendor_Feed::export" not in body["data"]["updateIntegration"]["integration"]["resources"]

    # Saving the grant again (as the admin form does) expands against the current tree.
    body = await admin.query(
        UPDATE, {"input": {**YOUR_PASSWORD, "id": integration["id"], "resources": ["Magento_Catalog::catalog"]}}
    )
    assert "Vendor_Feed::export" in body["data"]["updateIntegration"]["integration"]["resources"]


# ------------------------------------------------------------------------------------------ update


async def test_update_changes_fields_and_resaves_permissions(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Old", email="old@x.example", resources=["Magento_Cms::block"])
    body = await admin.query(
        UPDATE,
        {
            "input": {
                "id": integration["id"],
                "name": "New",
                "email": None,
                "callbackUrl": "http://cb.example/x",
                "identityLinkUrl": "https://id.example/login",
                "resourceAccess": "ALL",
                **YOUR_PASSWORD,
            }
        },
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

    body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": integration["id"], "resourceAccess": "CUSTOM"}})
    assert body["data"]["updateIntegration"]["integration"]["resources"] == []


async def test_update_keeps_status_and_tokens(admin: GraphQLClient) -> None:
    from models import OAuthToken

    integration = await create(admin, name="Live")
    activated = await authorize(admin, integration["id"])
    before = await OAuthToken.get(consumer__integration_id=db_id(integration))
    body = await admin.query(
        UPDATE,
        {"input": {**YOUR_PASSWORD, "id": integration["id"], "name": "Live 2", "resources": ["Magento_Cms::page"]}},
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
    admin: GraphQLClient, fields: dict[str, Any], expected: list[Any]
) -> None:
    integration = await create(admin, name="Mine", email="me@x.example")
    await create(admin, name="Other")
    body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": integration["id"], **fields}})
    payload = body["data"]["updateIntegration"]
    assert payload["integration"] is None
    assert admin.user_errors(payload) == expected
    unchanged = (await admin.query(GET, {"id": integration["id"]}))["data"]["integration"]
    assert (unchanged["name"], unchanged["email"]) == ("Mine", "me@x.example")


async def test_update_keeping_its_own_name_is_fine(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Mine")
    body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": integration["id"], "name": "Mine"}})
    assert body["data"]["updateIntegration"]["userErrors"] == []


async def test_update_and_delete_of_unknown_ids_are_not_found(admin: GraphQLClient) -> None:
    missing = base64.b64encode(b"Integration:4242").decode()
    body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": missing, "name": "X"}})
    assert body["data"]["updateIntegration"]["userErrors"] == [
        {
            "field": ["input", "id"],
            "message": f'The integration with ID "{missing}" doesn\'t exist.',
            "code": "NOT_FOUND",
        }
    ]
    body = await admin.query(DELETE, {"id": "garbage", **YOUR_PASSWORD})
    assert admin.user_errors(body["data"]["deleteIntegration"]) == [(("id",), "NOT_FOUND")]


# ------------------------------------------------------------------------------------------ delete


async def test_delete_removes_integration_consumer_tokens_nonces_and_grant(admin: GraphQLClient) -> None:
    from models import Integration, IntegrationGrant, OAuthConsumer, OAuthNonce, OAuthToken

    keep = await create(admin, name="Keep")
    await authorize(admin, keep["id"])
    gone = await create(admin, name="Gone", resources=["Magento_Cms::page"])
    await authorize(admin, gone["id"])
    consumer = await OAuthConsumer.get(integration_id=db_id(gone))
    await OAuthNonce.create(consumer_id=consumer.id, nonce="n1", timestamp=1)

    body = await admin.query(DELETE, {"id": gone["id"], **YOUR_PASSWORD})
    assert body["data"]["deleteIntegration"] == {"deletedId": gone["id"], "userErrors": []}
    assert not await Integration.exists(id=db_id(gone))
    assert not await OAuthConsumer.exists(id=consumer.id)
    assert not await OAuthToken.exists(consumer_id=consumer.id)
    assert not await OAuthNonce.exists(consumer_id=consumer.id)
    assert not await IntegrationGrant.exists(integration_id=db_id(gone))
    # The other integration is untouched.
    assert await OAuthToken.exists(consumer__integration_id=db_id(keep))
    assert (await admin.query(GET, {"id": gone["id"]}))["data"]["integration"] is None
    again = await admin.query(DELETE, {"id": gone["id"], **YOUR_PASSWORD})
    assert admin.user_errors(again["data"]["deleteIntegration"]) == [(("id",), "NOT_FOUND")]


# ------------------------------------------------------------------------------------------ list

LIST = """
query($first: Int, $after: String, $status: IntegrationStatus, $search: String) {
  integrations(first: $first, after: $after, status: $status, search: $search) {
    edges { cursor node { name status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_list_is_ordered_by_name_and_paginates(admin: GraphQLClient) -> None:
    for name in ("Delta", "Alpha", "Echo", "Charlie", "Bravo"):
        await create(admin, name=name)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        body = await admin.query(LIST, {"first": 2, "after": after})
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


async def test_list_filters_by_status_and_search(admin: GraphQLClient) -> None:
    erp = await create(admin, name="ERP connector", email="ops@erp.example")
    await create(admin, name="Feed", email="feeds@shop.example")
    await create(admin, name="100%_match")
    await authorize(admin, erp["id"])

    async def names(**variables: Any) -> list[str]:
        body = await admin.query(LIST, variables)
        return [e["node"]["name"] for e in body["data"]["integrations"]["edges"]]

    assert await names(status="ACTIVE") == ["ERP connector"]
    assert await names(status="INACTIVE") == ["100%_match", "Feed"]
    assert await names(status="RESET") == []
    assert await names(search="erp") == ["ERP connector"]
    assert await names(search="SHOP.example") == ["Feed"]
    assert await names(search="%") == ["100%_match"]
    assert await names(search="_") == ["100%_match"]
    assert await names(search="feed", status="ACTIVE") == []


async def test_list_rejects_bad_cursors_and_negative_first(admin: GraphQLClient) -> None:
    body = await admin.query(LIST, {"after": "not-a-cursor"})
    assert body["data"]["integrations"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    body = await admin.query(LIST, {"first": -1})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_list_refuses_forged_cursors(admin: GraphQLClient) -> None:
    """A cursor naming an id no id column can hold, or a name no name column can, is bad input, not a crash."""
    for name in ("Alpha", "Bravo"):
        await create(admin, name=name)
    forged = [f"integration:{n}:Alpha" for n in (2**31, 2**63, 10**30, -1, "1" * 5000)]
    forged += ["integration:1:Al\x00pha", "integration:1:", "integration:1", "product:1", "order:1"]
    for payload in forged:
        cursor = base64.urlsafe_b64encode(payload.encode()).decode()
        body = await admin.query(LIST, {"first": 1, "after": cursor})
        assert body["data"]["integrations"] is None, payload
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], payload
    largest = base64.urlsafe_b64encode(f"integration:{2**31 - 1}:Alpha".encode()).decode()
    body = await admin.query(LIST, {"after": largest})
    assert [e["node"]["name"] for e in body["data"]["integrations"]["edges"]] == ["Bravo"]


class TestPageCap:
    @pytest.fixture
    def settings(self, settings: Any) -> Any:
        """A small maximum page size, so that the default and the refusal are visible."""
        import dataclasses

        return dataclasses.replace(settings, max_page_size=3)

    async def test_page_size_above_the_maximum_is_refused(self, admin: GraphQLClient) -> None:
        for i in range(5):
            await create(admin, name=f"I{i}")
        body = await admin.query(LIST, {"first": 1000})
        assert body["data"]["integrations"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "3" in body["errors"][0]["message"]
        body = await admin.query(LIST, {"first": 3})
        connection = body["data"]["integrations"]
        assert len(connection["edges"]) == 3
        assert connection["pageInfo"]["hasNextPage"] is True
        body = await admin.query(LIST, {})
        assert len(body["data"]["integrations"]["edges"]) == 3


async def test_list_does_not_query_per_integration(admin: GraphQLClient) -> None:
    """Consumers, grants and tokens are loaded in one batch each, however many integrations there are."""
    for name in ("A", "B", "C"):
        integration = await create(admin, name=name, resources=["Magento_Cms::page"])
        await authorize(admin, integration["id"])
    query = """{ integrations(first: 3) { edges { node {
        name resources resourceAccess partialResources
        credentials { consumerKey accessToken }
    } } } }"""
    with sql_statements() as statements:
        body = await admin.query(query)
    assert len(body["data"]["integrations"]["edges"]) == 3
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    for table in ("oauth_consumer", "oauth_token", "integration_grant"):
        assert sum(f'FROM "{table}"' in s for s in selects) == 1, (table, selects)
    # The list is raw SQL (unquoted table name), like every other list.
    assert sum(re.search(r'\bFROM "?integration\b', s) is not None for s in selects) == 1, selects


# ------------------------------------------------------------------------------------------ access


async def test_guests_and_integrations_without_the_resource_are_refused(
    guest: GraphQLClient, integration: IntegrationCaller
) -> None:
    body = await guest.query("{ integrations { edges { node { name } } } }")
    assert body["data"]["integrations"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await guest.query(CREATE, {"input": {"name": "X"}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    body = await integration("Magento_Catalog::catalog").query(CREATE, {"input": {"name": "X"}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["extensions"]["requiredResources"] == ["Magento_Integration::integrations"]


def _no_values(data: object) -> bool:
    """Nothing in a response's data but nulls (objects whose every field was refused)."""
    if isinstance(data, dict):
        return all(_no_values(v) for v in data.values())
    return data is None


async def test_integrations_never_manage_integrations(admin: GraphQLClient, integration: IntegrationCaller) -> None:
    """Whatever it holds, an integration cannot read, create, change or activate an integration, nor touch the
    store-wide settings: it could otherwise mint a "shadow" integration and take its credentials."""
    target = await create(admin, name="Target", resourceAccess="ALL")
    documents = {
        "integrations": ("{ integrations { edges { node { name } } } }", {}),
        "integration": ("query($id: ID!) { integration(id: $id) { name } }", {"id": target["id"]}),
        "integrationsFileProblems": ("{ integrationsFileProblems }", {}),
        "resourceTree": ("{ resourceTree { id } }", {}),
        "config": ("{ config { webApiSecurity { allowAnonymousGuestAccess } oauth { __typename } } }", {}),
        "createIntegration": ('mutation { createIntegration(input: {name: "Shadow"}) { userErrors { code } } }', {}),
        "updateIntegration": (
            'mutation($id: ID!) { updateIntegration(input: {id: $id, name: "Mine"}) { userErrors { code } } }',
            {"id": target["id"]},
        ),
        "deleteIntegration": ("mutation($id: ID!) { deleteIntegration(id: $id) { deletedId } }", {"id": target["id"]}),
        "authorizeIntegration": (
            "mutation($id: ID!) { authorizeIntegration(id: $id) { credentials { accessToken } } }",
            {"id": target["id"]},
        ),
        "reauthorizeIntegration": (
            "mutation($id: ID!) { reauthorizeIntegration(id: $id) { credentials { accessToken } } }",
            {"id": target["id"]},
        ),
        "setGuestAccess": ("mutation { setGuestAccess(allow: true) { userErrors { code } } }", {}),
        "updateOAuthConfig": ("mutation { updateOAuthConfig(input: {}) { userErrors { code } } }", {}),
    }
    everything = integration("Magento_Backend::all")
    for name, (document, variables) in documents.items():
        body = await everything.query(document, variables)
        assert _no_values(body.get("data")), (name, body)
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert codes == {"FORBIDDEN"}, (name, body)
    from models import ConfigValue, Integration

    assert [i.name for i in await Integration.all()] == ["Target"]
    assert not await ConfigValue.exists()
    status = await admin.query("query($id: ID!) { integration(id: $id) { status } }", {"id": target["id"]})
    assert status["data"]["integration"]["status"] == "INACTIVE"


CREATE_NO_CREDENTIALS = """
mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id resources } userErrors { field message code } }
}"""
UPDATE_NO_CREDENTIALS = """
mutation($input: UpdateIntegrationInput!) {
  updateIntegration(input: $input) { integration { id resources } userErrors { field message code } }
}"""


async def test_selecting_credentials_in_a_mutation_as_an_integration_fails_the_whole_operation(
    integration: IntegrationCaller,
) -> None:
    from models import Integration

    manager = integration("Magento_Integration::integrations")
    body = await manager.query(CREATE, {"input": {"name": "Sub"}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert not await Integration.exists(name="Sub")
