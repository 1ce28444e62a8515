"""What guests see through filters: never the products of an inactive category."""

from __future__ import annotations

from models import Category
from tests.support.graphql import GraphQLClient
from tests.support.principals import set_guest_access


async def test_guests_cannot_list_an_inactive_categorys_products(
    guest: GraphQLClient, admin: GraphQLClient, demo: None
) -> None:
    await set_guest_access(admin, True)
    category = await Category.filter(is_active=True, parent_id__not_isnull=True).first()
    assert category is not None
    query = "query($c: Int) { products(filter: {categoryId: $c}) { edges { node { sku } } } }"
    listed = await guest.query(query, {"c": category.id})
    assert listed["data"]["products"]["edges"], "the demo category has visible products"
    await Category.filter(id=category.id).update(is_active=False)
    hidden = await guest.query(query, {"c": category.id})
    assert hidden["data"]["products"]["edges"] == []
    assert (await admin.query(query, {"c": category.id}))["data"]["products"]["edges"]
