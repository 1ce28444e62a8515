"""The in-process response cache: an answer is reused only by callers that would get exactly the same answer
(guests and guest-alike callers, or callers holding the same resources), never across a write, never with errors,
and the cache stays within its bounds."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from auth.resources import Resource
from schema.caching.policy import GUEST
from settings import Settings
from tests.support.admin_users import restricted_admin
from tests.support.graphql import GraphQLClient
from tests.support.principals import IntegrationCaller, set_guest_access
from tests.support.statements import sql_statements

pytestmark = pytest.mark.usefixtures("store")

#: Documents whose answers differ between callers (disabled products, inactive categories, pages and blocks).
DOCUMENTS: dict[str, tuple[str, dict[str, Any] | None]] = {
    "products": ("{ products(first: 100) { edges { node { sku status } } } }", None),
    "categories of products": (
        "query($n: Int!) { products(first: $n) { edges { node { sku categories { name isActive } } } } }",
        {"n": 40},
    ),
    "category tree": (
        "{ categories(first: 50) { edges { node { name isActive children { name isActive } } } } }",
        None,
    ),
    "cms": (
        "{ cmsPages(first: 50) { edges { node { identifier isActive } } } "
        "cmsBlocks(first: 50) { edges { node { identifier isActive } } } }",
        None,
    ),
}
PRODUCT = "query($s: String!) { product(sku: $s) { sku status } }"
VIEWER = "{ viewer { resources } }"


@pytest.fixture
async def callers(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller
) -> dict[str, GraphQLClient]:
    """Every kind of caller: guests, admins and integrations with wider, narrower, equal and unrelated grants."""
    return {
        "guest": guest,
        "admin (All)": admin,
        "admin (Products)": await restricted_admin(admin, Resource.PRODUCTS, username="products"),
        "admin (Customers)": await restricted_admin(admin, Resource.CUSTOMERS, username="customers"),
        "integration (Products)": integration(Resource.PRODUCTS),
        "integration (Categories)": integration(Resource.CATEGORIES),
        "integration (Products, Categories)": integration(Resource.PRODUCTS, Resource.CATEGORIES),
        "integration (CMS pages)": integration(Resource.CMS_PAGES),
        "integration (Customers)": integration(Resource.CUSTOMERS),
    }


def answer_of(body: dict[str, Any]) -> dict[str, Any]:
    """What a caller gets, without the cost report (which only uncached POST answers carry)."""
    return {key: value for key, value in body.items() if key != "extensions"}


async def expected_answers(
    callers: dict[str, GraphQLClient], document: str, variables: dict[str, Any] | None
) -> dict[str, dict[str, Any]]:
    """Each caller's answer as POST computes it (never cached)."""
    return {name: answer_of(await caller.query(document, variables)) for name, caller in callers.items()}


async def caller_classes(callers: dict[str, GraphQLClient], caching: Any) -> dict[str, object]:
    """Each caller's class as the cache policy defines it, from the resources the caller says it holds."""
    guest_resources = caching.responses.policy.guest_resources
    classes: dict[str, object] = {}
    for name, caller in callers.items():
        held = frozenset((await caller.data(VIEWER))["viewer"]["resources"])
        sees_all_as_guest = Resource.ALL not in held and not held & guest_resources
        classes[name] = GUEST if sees_all_as_guest else held
    return classes


def orders(names: list[str]) -> list[list[str]]:
    """Every caller first once (each rotation), and the reverse order: whoever fills the cache, each gets its own."""
    rotations = [names[i:] + names[:i] for i in range(len(names))]
    return [*rotations, list(reversed(names))]


async def test_no_caller_ever_receives_an_answer_computed_for_another_class(
    callers: dict[str, GraphQLClient], admin: GraphQLClient, caching: Any
) -> None:
    classes = await caller_classes(callers, caching)
    assert len(set(classes.values())) >= 5, classes
    answers = caching.responses.answers
    disabled = await admin.data("{ products(first: 100) { edges { node { sku status } } } }")
    hidden_sku = next(e["node"]["sku"] for e in disabled["products"]["edges"] if e["node"]["status"] == "DISABLED")
    documents = {**DOCUMENTS, "disabled product": (PRODUCT, {"s": hidden_sku})}

    for guest_access in (True, False):
        await set_guest_access(admin, guest_access)
        for label, (document, variables) in documents.items():
            expected = await expected_answers(callers, document, variables)
            # The test can fail: callers of different classes do get different answers here.
            assert len({repr(answer) for answer in expected.values()}) > 1, label
            for order in orders(list(callers)):
                answers.clear()
                for name in order:
                    response = await callers[name].get(document, variables)
                    assert answer_of(response.json()) == expected[name], (guest_access, label, order, name)
                    public = response.headers["cache-control"].startswith("public")
                    assert public == (classes[name] == GUEST and not response.json().get("errors")), (label, name)
                succeeded = {classes[n] for n in callers if not expected[n].get("errors")}
                assert len(answers) == len(succeeded), (label, order)


async def test_callers_with_the_same_grant_share_one_answer(callers: dict[str, GraphQLClient], caching: Any) -> None:
    document, variables = DOCUMENTS["products"]
    await callers["admin (Products)"].get(document, variables)
    with sql_statements() as statements:
        shared = await callers["integration (Products)"].get(document, variables)
    assert shared.status_code == 200 and len(caching.responses.answers) == 1
    assert not [s for s in statements if "catalog_" in s], "answered from the cache"


async def test_a_hit_costs_the_one_statement_that_reads_the_settings(guest: GraphQLClient) -> None:
    document, variables = DOCUMENTS["categories of products"]
    with sql_statements() as first:
        miss = await guest.get(document, variables)
    with sql_statements() as second:
        hit = await guest.get(document, variables)
    assert hit.content == miss.content
    # settings (with the data version), the page, the categories of the page; then the settings alone.
    assert (len(first), len(second)) == (3, 1), (first, second)


async def test_an_admin_hit_costs_only_the_token_statement(admin: GraphQLClient) -> None:
    document, variables = DOCUMENTS["products"]
    await admin.get(document, variables)
    with sql_statements() as statements:
        await admin.get(document, variables)
    assert len(statements) == 1, statements  # the token, its admin and role, and the store's settings


WRITES = {
    "updateProduct": (
        'mutation($id: Int!) { updateProduct(input: {id: $id, name: "Renamed"}) { userErrors { code } } }'
    ),
    "deleteProduct": "mutation($id: Int!) { deleteProduct(id: $id) { userErrors { code } } }",
}


@pytest.mark.parametrize("write", list(WRITES))
async def test_a_catalog_write_is_seen_by_the_next_read(guest: GraphQLClient, admin: GraphQLClient, write: str) -> None:
    document = "{ products(first: 3) { edges { node { id sku name } } } }"
    before = (await guest.get(document)).json()["data"]["products"]["edges"]
    assert (await guest.get(document)).json()["data"]["products"]["edges"] == before  # now from the cache
    await admin.data(WRITES[write], {"id": before[0]["node"]["id"]})
    after = (await guest.get(document)).json()["data"]["products"]["edges"]
    assert after == (await guest.query(document))["data"]["products"]["edges"]
    assert after != before


async def test_a_created_product_and_a_cms_change_are_seen_by_the_next_read(
    guest: GraphQLClient, admin: GraphQLClient
) -> None:
    count = "query($s: [String!]) { products(filter: {skus: $s}) { edges { node { sku } } } }"
    assert (await guest.get(count, {"s": ["NEW-1"]})).json()["data"]["products"]["edges"] == []
    created = await admin.data(
        'mutation { createProduct(input: {sku: "NEW-1", name: "New", price: 1}) { userErrors { code } } }'
    )
    assert created["createProduct"]["userErrors"] == []
    listed = (await guest.get(count, {"s": ["NEW-1"]})).json()["data"]["products"]["edges"]
    assert listed == [{"node": {"sku": "NEW-1"}}]

    pages = "{ cmsPages(first: 50) { edges { node { identifier title } } } }"
    page = (await guest.get(pages)).json()["data"]["cmsPages"]["edges"][0]["node"]
    page_id = await admin.data("query($i: String!) { cmsPage(identifier: $i) { id } }", {"i": page["identifier"]})
    await admin.data(
        'mutation($id: Int!) { updateCmsPage(input: {id: $id, title: "Changed"}) { userErrors { code } } }',
        {"id": page_id["cmsPage"]["id"]},
    )
    first = (await guest.get(pages)).json()["data"]["cmsPages"]["edges"][0]["node"]
    assert first == {"identifier": page["identifier"], "title": "Changed"}


async def test_turning_guest_access_off_is_seen_by_the_next_read(guest: GraphQLClient, admin: GraphQLClient) -> None:
    document, variables = DOCUMENTS["products"]
    assert (await guest.get(document, variables)).json()["data"]["products"]["edges"]
    await set_guest_access(admin, False)
    refused = (await guest.get(document, variables)).json()
    assert refused["data"] == {"products": None} and guest.error_codes(refused) == ["UNAUTHENTICATED"]


async def test_an_answer_with_errors_is_never_kept(guest: GraphQLClient, caching: Any) -> None:
    partly_refused = (
        "{ products(first: 1) { edges { node { sku } } } customers(first: 1) { edges { node { email } } } }"
    )
    for _ in range(2):
        with sql_statements() as statements:
            body = (await guest.get(partly_refused)).json()
        assert body["data"]["products"]["edges"] and guest.error_codes(body) == ["UNAUTHENTICATED"]
        assert len(statements) > 1, "run again each time"
    assert len(caching.responses.answers) == 0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small cache, to see it full."""
    return dataclasses.replace(settings, response_cache_entries=40, response_cache_bytes=48 * 1024)


async def test_the_cache_stays_within_its_entries_and_bytes(guest: GraphQLClient, caching: Any) -> None:
    answers = caching.responses.answers
    for n in itertools.count():
        if n >= 150:
            break
        # Distinct documents (an alias each) with answers of different sizes.
        document = f"{{ p{n}: products(first: {1 + n % 20}) {{ edges {{ node {{ sku name description }} }} }} }}"
        response = await guest.get(document)
        assert response.status_code == 200 and response.headers["cache-control"].startswith("public")
        assert len(answers) <= answers.max_entries and answers.bytes <= answers.max_bytes
    assert answers.bytes > answers.max_bytes // 2, "the stream filled the cache"
    latest = "{ p149: products(first: 10) { edges { node { sku name description } } } }"
    with sql_statements() as statements:
        await guest.get(latest)
    assert len(statements) == 1, "the latest answer is still there"
