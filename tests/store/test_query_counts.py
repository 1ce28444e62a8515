"""No N+1: a page of 5 and a page of 100 cost the same number of SQL statements."""

from __future__ import annotations

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.statements import sql_statements

PRODUCTS = "query($n: Int!) { products(first: $n) { edges { node { sku price categories { id name } } } } }"
ORDERS = (
    "query($n: Int!) { orders(first: $n) { edges { node { incrementId grandTotal items { sku qtyOrdered } "
    "customer { email } } } } }"
)
CATEGORIES = (
    "query($n: Int!, $p: Int!) { categories(parentId: $p, first: $n) { edges { node { name "
    "children { name children { name } } } } } }"
)


async def _count(admin: GraphQLClient, query: str, variables: dict, key: str, size: int) -> int:
    with sql_statements() as statements:
        body = await admin.query(query, variables)
    assert body.get("errors") is None, body
    assert len(body["data"][key]["edges"]) == size
    return len(statements)


async def _add_category_tree(width: int) -> int:
    """A parent with ``width`` children, each with two children of its own; returns the parent id."""
    from models import Category

    parent = await Category.create(name="Wide", url_key="wide", path="", level=1)
    await Category.bulk_create(
        [Category(parent_id=parent.id, name=f"Child {i}", url_key=f"child-{i}", path="", level=2) for i in range(width)]
    )
    children = await Category.filter(parent_id=parent.id).values_list("id", flat=True)
    await Category.bulk_create(
        [
            Category(parent_id=child, name=f"Leaf {child}-{j}", url_key=f"leaf-{child}-{j}", path="", level=3)
            for child in children
            for j in range(2)
        ]
    )
    return parent.id


async def test_statement_count_does_not_grow_with_the_page(
    admin: GraphQLClient, settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    from demo import seed_demo_store

    await seed_demo_store(settings, products=120, orders=110)  # type: ignore[arg-type]
    parent = await _add_category_tree(110)

    measured = {}
    for name, query, extra in (
        ("products", PRODUCTS, {}),
        ("orders", ORDERS, {}),
        ("categories", CATEGORIES, {"p": parent}),
    ):
        small = await _count(admin, query, {"n": 5, **extra}, name, 5)
        large = await _count(admin, query, {"n": 100, **extra}, name, 100)
        assert small == large, (name, small, large)
        measured[name] = large
    # One admin-token lookup (which reads the store's settings too: the query-cost limit and bucket), then:
    # products = page + categories, orders = page + items + customers, categories = page + one query per
    # level of children.
    assert measured == {"products": 3, "orders": 4, "categories": 4}
    with capsys.disabled():
        print(f"\nSQL statements per request (admin, 5 or 100 items): {measured}")


async def test_guest_request_adds_only_the_config_read(
    guest: GraphQLClient, admin: GraphQLClient, settings: object
) -> None:
    from demo import seed_demo_store

    await seed_demo_store(settings, products=200)  # type: ignore[arg-type]
    await admin.query("mutation { setGuestAccess(allow: true) { userErrors { code } } }")
    for size in (5, 100):
        with sql_statements() as statements:
            body = await guest.query(PRODUCTS, {"n": size})
        assert len(body["data"]["products"]["edges"]) == size
        # The guest-access switch (read per request), the page, the categories.
        assert len(statements) == 3, statements
        # An admin pays the same: its token and the store's settings are one statement.
        with sql_statements() as statements:
            await admin.query(PRODUCTS, {"n": size})
        assert len(statements) == 3, statements
