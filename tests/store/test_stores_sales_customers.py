"""Store views and config, orders and customers through HTTP."""

from __future__ import annotations

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.principals import set_guest_access


@pytest.mark.usefixtures("demo")
async def test_store_views_and_config(guest: GraphQLClient, admin: GraphQLClient) -> None:
    await set_guest_access(admin, True)
    views = await guest.query(
        "{ storeViews { edges { node { code name isActive website { code isDefault } group { code rootCategoryId } "
        "config { locale baseUrl defaultDisplayCurrencyCode } } } } }"
    )
    nodes = [edge["node"] for edge in views["data"]["storeViews"]["edges"]]
    assert [n["code"] for n in nodes] == ["default", "fr"]
    assert nodes[0]["website"] == {"code": "base", "isDefault": True}
    assert nodes[0]["group"] == {"code": "main_website_store", "rootCategoryId": 1}
    assert nodes[1]["config"] == {
        "locale": "fr_FR",
        "baseUrl": "http://store.test/fr/",
        "defaultDisplayCurrencyCode": "EUR",
    }

    config = (
        "query($code: String) { storeConfig(storeCode: $code) "
        "{ code storeName locale baseCurrencyCode timezone baseUrl } }"
    )
    default = await guest.query(config)
    assert default["data"]["storeConfig"] == {
        "code": "default",
        "storeName": "Default Store View",
        "locale": "en_US",
        "baseCurrencyCode": "USD",
        "timezone": "America/Chicago",
        "baseUrl": "http://store.test/",
    }
    assert (await guest.query(config, {"code": "fr"}))["data"]["storeConfig"]["locale"] == "fr_FR"
    assert (await guest.query(config, {"code": "nope"}))["data"]["storeConfig"] is None

    from models import StoreView

    await StoreView.filter(code="fr").update(is_active=False)
    guest_codes = await guest.query("{ storeViews { edges { node { code } } } }")
    assert [e["node"]["code"] for e in guest_codes["data"]["storeViews"]["edges"]] == ["default"]
    assert (await guest.query(config, {"code": "fr"}))["data"]["storeConfig"] is None
    assert (await admin.query(config, {"code": "fr"}))["data"]["storeConfig"]["code"] == "fr"


@pytest.mark.usefixtures("demo")
async def test_orders_with_items_and_status_filter(admin: GraphQLClient) -> None:
    query = """query($status: String, $after: String) { orders(first: 100, status: $status, after: $after) {
      edges { node {
        incrementId status customerEmail subtotal shippingAmount grandTotal createdAt
        items { sku qtyOrdered price rowTotal }
      } }
      pageInfo { hasNextPage } } }"""
    body = await admin.query(query)
    orders = [edge["node"] for edge in body["data"]["orders"]["edges"]]
    assert len(orders) == 60 and body["data"]["orders"]["pageInfo"]["hasNextPage"] is False
    for order in orders:
        assert order["items"]
        total = sum(item["rowTotal"] for item in order["items"])
        assert abs(order["subtotal"] - total) < 0.005
        assert abs(order["grandTotal"] - order["subtotal"] - order["shippingAmount"]) < 0.005
        assert all(abs(i["rowTotal"] - i["price"] * i["qtyOrdered"]) < 0.005 for i in order["items"])
    complete = await admin.query(query, {"status": "complete"})
    statuses = {edge["node"]["status"] for edge in complete["data"]["orders"]["edges"]}
    assert statuses == {"complete"}
    assert 0 < len(complete["data"]["orders"]["edges"]) < 60

    one = await admin.query('{ order(incrementId: "000000002") { incrementId items { sku } } }')
    assert one["data"]["order"]["incrementId"] == "000000002"
    assert (await admin.query('{ order(incrementId: "nope") { id } }'))["data"]["order"] is None


@pytest.mark.usefixtures("demo")
async def test_customers_search_and_lookup(admin: GraphQLClient) -> None:
    from models import Customer

    customer = await Customer.all().order_by("id").first()
    assert customer is not None
    query = "query($s: String) { customers(first: 100, search: $s) { edges { node { id email firstname lastname } } } }"
    everyone = await admin.query(query)
    assert len(everyone["data"]["customers"]["edges"]) == 40
    found = await admin.query(query, {"s": customer.lastname.upper()})
    nodes = [edge["node"] for edge in found["data"]["customers"]["edges"]]
    assert customer.id in [n["id"] for n in nodes]
    assert all(customer.lastname.lower() in (n["email"] + n["firstname"] + n["lastname"]).lower() for n in nodes)
    one = await admin.query("query($id: Int!) { customer(id: $id) { email } }", {"id": customer.id})
    assert one["data"]["customer"] == {"email": customer.email}
