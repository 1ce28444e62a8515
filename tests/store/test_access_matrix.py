"""Who may read and write store data: every store root field against guests, integrations and admins."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.principals import IntegrationCaller, set_guest_access

PRODUCTS = "Magento_Catalog::products"
CATEGORIES = "Magento_Catalog::categories"
PAGES = "Magento_Cms::page"
BLOCKS = "Magento_Cms::block"
STORES = "Magento_Backend::store"
ORDERS = "Magento_Sales::actions_view"
CUSTOMERS = "Magento_Customer::manage"


@dataclasses.dataclass(frozen=True)
class RootField:
    name: str
    query: str
    resource: str
    guest: bool


#: Every store root query field, with a selection that finds seeded data when allowed.
FIELDS = (
    RootField("products", "{ products(first: 3) { edges { node { sku } } } }", PRODUCTS, True),
    RootField("product", "query($sku: String!) { product(sku: $sku) { sku } }", PRODUCTS, True),
    RootField("categories", "{ categories { edges { node { name } } } }", CATEGORIES, True),
    RootField("category", "{ category(id: 1) { name } }", CATEGORIES, True),
    RootField("cmsPages", "{ cmsPages { edges { node { identifier } } } }", PAGES, True),
    RootField("cmsPage", '{ cmsPage(identifier: "home") { title } }', PAGES, True),
    RootField("cmsBlocks", "{ cmsBlocks { edges { node { identifier } } } }", BLOCKS, True),
    RootField("cmsBlock", '{ cmsBlock(identifier: "footer-links") { title } }', BLOCKS, True),
    RootField("storeViews", "{ storeViews { edges { node { code } } } }", STORES, True),
    RootField("storeConfig", '{ storeConfig(storeCode: "fr") { locale } }', STORES, True),
    RootField("orders", "{ orders(first: 3) { edges { node { incrementId } } } }", ORDERS, False),
    RootField("order", '{ order(incrementId: "000000001") { grandTotal } }', ORDERS, False),
    RootField("customers", "{ customers(first: 3) { edges { node { email } } } }", CUSTOMERS, False),
    RootField("customer", "query($id: Int!) { customer(id: $id) { email } }", CUSTOMERS, False),
)


async def _variables() -> dict[str, object]:
    from models import Customer, Product
    from models.store import PRODUCT_ENABLED, VISIBILITY_BOTH

    product = await Product.filter(status=PRODUCT_ENABLED, visibility=VISIBILITY_BOTH).order_by("id").first()
    customer = await Customer.all().order_by("id").first()
    assert product is not None and customer is not None
    return {"sku": product.sku, "id": customer.id}


async def _call(caller: GraphQLClient, field: RootField, variables: dict[str, object]) -> dict:
    used = {k: v for k, v in variables.items() if f"${k}" in field.query}
    return await caller.query(field.query, used)


def _assert_allowed(body: dict, field: RootField) -> None:
    assert body.get("errors") is None, (field.name, body)
    assert body["data"][field.name] is not None, field.name


def _assert_denied(body: dict, field: RootField, code: str) -> None:
    assert body["data"] == {field.name: None}, (field.name, body)
    (error,) = body["errors"]
    assert error["path"] == [field.name]
    assert error["extensions"]["code"] == code, (field.name, error)
    assert error["extensions"]["requiredResources"] == [field.resource]


@pytest.mark.usefixtures("demo")
async def test_every_store_root_field_for_every_kind_of_caller(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    variables = await _variables()

    # Guest, Allow Anonymous Guest Access off (Magento's default): nothing.
    for field in FIELDS:
        _assert_denied(await _call(guest, field, variables), field, "UNAUTHENTICATED")

    # Integration granted only Magento_Catalog::products, switch off: products, nothing else.
    for field in FIELDS:
        body = await _call(integration(PRODUCTS), field, variables)
        if field.resource == PRODUCTS:
            _assert_allowed(body, field)
        else:
            _assert_denied(body, field, "FORBIDDEN")

    # Switch on: catalog, CMS and stores for every caller (as in Magento), never sales or customers.
    await set_guest_access(admin, True)
    for field in FIELDS:
        body = await _call(guest, field, variables)
        if field.guest:
            _assert_allowed(body, field)
        else:
            _assert_denied(body, field, "UNAUTHENTICATED")
    for field in FIELDS:
        body = await _call(integration(ORDERS), field, variables)
        if field.guest or field.resource == ORDERS:
            _assert_allowed(body, field)
        else:
            _assert_denied(body, field, "FORBIDDEN")

    # Integration with All, and the admin: everything.
    for caller in (integration("Magento_Backend::all"), admin):
        for field in FIELDS:
            _assert_allowed(await _call(caller, field, variables), field)


@pytest.mark.usefixtures("demo")
async def test_denied_fields_are_null_while_allowed_siblings_resolve(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    body = await integration(PRODUCTS).query(
        "{ products(first: 1) { edges { node { sku } } } categories { edges { node { id } } } }"
    )
    assert len(body["data"]["products"]["edges"]) == 1
    assert body["data"]["categories"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["requiredResources"] == [CATEGORIES]

    await set_guest_access(admin, True)
    body = await guest.query("{ products(first: 1) { edges { node { sku } } } orders { edges { node { id } } } }")
    assert len(body["data"]["products"]["edges"]) == 1
    assert body["data"]["orders"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["orders"], "UNAUTHENTICATED")]


@pytest.mark.usefixtures("demo")
async def test_order_customer_needs_the_customer_resource_too(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    query = "{ orders(first: 100) { edges { node { incrementId items { sku } customer { email } } } } }"
    body = await integration(ORDERS).query(query)
    orders = body["data"]["orders"]["edges"]
    assert orders and all(edge["node"]["customer"] is None for edge in orders)
    assert all(edge["node"]["items"] for edge in orders)
    denied = {tuple(e["path"]) for e in body["errors"]}
    assert denied == {("orders", "edges", i, "node", "customer") for i in range(len(orders))}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
    assert {tuple(e["extensions"]["requiredResources"]) for e in body["errors"]} == {(CUSTOMERS,)}

    allowed = await admin.query(query)
    assert allowed.get("errors") is None
    emails = [edge["node"]["customer"] for edge in allowed["data"]["orders"]["edges"]]
    assert any(c is not None and c["email"].endswith("@example.com") for c in emails)
    assert any(c is None for c in emails), "the demo store has guest checkouts too"

    required = await guest.query("query($q: String!) { requiredResources(query: $q) }", {"q": query})
    assert sorted(required["data"]["requiredResources"]) == sorted([ORDERS, CUSTOMERS])


@pytest.mark.usefixtures("demo")
async def test_denied_mutations_fail_whole_with_no_side_effect(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    await set_guest_access(admin, True)  # guest access never opens writes
    documents = {
        "createProduct": 'createProduct(input: {sku: "NEW-1", name: "New", price: 1}) { product { sku } }',
        "createCmsPage": 'createCmsPage(input: {identifier: "new-page", title: "New"}) { cmsPage { id } }',
        "deleteCmsPage": "deleteCmsPage(id: 1) { deletedId }",
    }
    # A write the caller may do, first in the same document, must not run either.
    allowed_first = 'first: createProduct(input: {sku: "NEW-0", name: "New", price: 1}) { product { sku } }'
    for caller, mutation, code in (
        (guest, "createProduct", "UNAUTHENTICATED"),
        (integration(ORDERS), "createProduct", "FORBIDDEN"),
        (integration(PRODUCTS), "createCmsPage", "FORBIDDEN"),
        (integration(PRODUCTS), "deleteCmsPage", "FORBIDDEN"),
    ):
        body = await caller.query(f"mutation {{ {allowed_first} second: {documents[mutation]} }}")
        assert body["data"] is None, (caller.token, mutation)
        assert body["errors"][-1]["path"] == ["second"]
        assert body["errors"][-1]["extensions"]["code"] == code
    check = await admin.query(
        '{ products(filter: {skus: ["NEW-0", "NEW-1"]}) { edges { node { sku } } } cmsPage(identifier: "new-page") '
        "{ id } }"
    )
    assert check["data"] == {"products": {"edges": []}, "cmsPage": None}
    assert await admin.data("{ cmsPages(first: 100) { edges { node { id } } } }") == {
        "cmsPages": {"edges": [{"node": {"id": i}} for i in range(1, 8)]}
    }


async def test_integration_with_the_resource_may_write(integration: IntegrationCaller) -> None:
    body = await integration(PRODUCTS).query(
        'mutation { createProduct(input: {sku: "FEED-1", name: "From the feed", price: 9.5}) '
        "{ product { sku price status visibility } userErrors { code } } }"
    )
    assert body["data"]["createProduct"] == {
        "product": {"sku": "FEED-1", "price": 9.5, "status": "ENABLED", "visibility": "CATALOG_SEARCH"},
        "userErrors": [],
    }
