"""A page of products loads its products' categories in the page's own batch, only when they are selected (through
fragments too) and allowed: one statement whatever the page size, none when nobody asked or access was refused."""

from __future__ import annotations

import pytest

from auth.resources import Resource
from tests.support.graphql import GraphQLClient
from tests.support.principals import IntegrationCaller
from tests.support.statements import sql_statements

pytestmark = pytest.mark.usefixtures("demo")

PLAIN = "{ products(first: 30) { edges { node { sku categories { name } } } } }"
SPREAD = (
    "query { products(first: 30) { edges { node { ...Listed } } } } "
    "fragment Listed on Product { sku ... on Product { categories { name } } }"
)
WITHOUT = "{ products(first: 30) { edges { node { sku } } } }"


def category_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if "catalog_category_product" in s]


async def test_categories_come_in_one_batch_with_or_without_fragments(admin: GraphQLClient) -> None:
    answers = []
    for document in (PLAIN, SPREAD):
        with sql_statements() as statements:
            answers.append(await admin.data(document))
        assert len(category_statements(statements)) == 1, statements
    assert answers[0] == answers[1]
    assert any(edge["node"]["categories"] for edge in answers[0]["products"]["edges"])


async def test_each_products_categories_are_its_own(admin: GraphQLClient) -> None:
    page = (await admin.data(PLAIN))["products"]["edges"]
    one_by_one = "query($s: String!) { product(sku: $s) { categories { name } } }"
    for edge in page[:10]:
        alone = await admin.data(one_by_one, {"s": edge["node"]["sku"]})
        assert alone["product"]["categories"] == edge["node"]["categories"], edge["node"]["sku"]


async def test_no_categories_are_read_when_none_are_selected(admin: GraphQLClient) -> None:
    with sql_statements() as statements:
        await admin.data(WITHOUT)
    assert category_statements(statements) == []


async def test_no_categories_are_read_when_they_are_refused(integration: IntegrationCaller) -> None:
    caller = integration(Resource.PRODUCTS)  # guest access is off: categories need their own resource
    with sql_statements() as statements:
        body = await caller.query(PLAIN)
    assert set(caller.error_codes_by_path(body).values()) == {"FORBIDDEN"}
    assert body["data"]["products"]["edges"][0]["node"]["categories"] is None
    assert category_statements(statements) == []
