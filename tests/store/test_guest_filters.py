"""What guests see through filters: never the products of an inactive category."""

from __future__ import annotations

import httpx

from models import Category
from tests.conftest import gql
from tests.store.conftest import set_guest_access


async def test_guests_cannot_list_an_inactive_categorys_products(
    client: httpx.AsyncClient, demo: None, admin_token: str
) -> None:
    await set_guest_access(client, admin_token, True)
    category = await Category.filter(is_active=True, parent_id__not_isnull=True).first()
    assert category is not None
    query = "query($c: Int) { products(filter: {categoryId: $c}) { edges { node { sku } } } }"
    listed = await gql(client, query, {"c": category.id})
    assert listed["data"]["products"]["edges"], "the demo category has visible products"
    await Category.filter(id=category.id).update(is_active=False)
    hidden = await gql(client, query, {"c": category.id})
    assert hidden["data"]["products"]["edges"] == []
    assert (await gql(client, query, {"c": category.id}, token=admin_token))["data"]["products"]["edges"]
