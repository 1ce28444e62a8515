"""The integrations grid's list: column sorting either way, column filters and "N records found"."""

from __future__ import annotations

from typing import Any

from tests.support.graphql import GraphQLClient
from tests.support.integrations import authorize, create

LIST = """
query($first: Int, $after: String, $sort: IntegrationSort, $name: String, $email: String, $status: IntegrationStatus,
      $isSecure: Boolean, $search: String) {
  integrations(first: $first, after: $after, sort: $sort, name: $name, email: $email, status: $status,
               isSecure: $isSecure, search: $search) {
    edges { cursor node { name email status } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""


async def walk(admin: GraphQLClient, page_size: int = 2, **variables: Any) -> list[str]:
    """Every name of the list, page after page, following the cursors."""
    names: list[str] = []
    after = None
    while True:
        body = await admin.query(LIST, {**variables, "first": page_size, "after": after})
        assert "errors" not in body, body
        connection = body["data"]["integrations"]
        names += [e["node"]["name"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return names
        after = connection["pageInfo"]["endCursor"]


async def seeded(admin: GraphQLClient) -> dict[str, dict[str, Any]]:
    """Five integrations: emails out of name order, one without email, two active."""
    made = {}
    for name, email in (
        ("Delta", "a@delta.example"),
        ("Alpha", "d@alpha.example"),
        ("Echo", None),
        ("Charlie", "b@charlie.example"),
        ("Bravo", "b@bravo.example"),
    ):
        made[name] = await create(admin, name=name, **({"email": email} if email else {}))
    for name in ("Charlie", "Echo"):
        await authorize(admin, made[name]["id"])
    return made


async def test_each_column_sorts_both_ways_across_pages(admin: GraphQLClient) -> None:
    await seeded(admin)
    created_order = ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]
    expected = {
        "NAME": ["Alpha", "Bravo", "Charlie", "Delta", "Echo"],
        "ID": created_order,
        # No email sorts first.
        "EMAIL": ["Echo", "Delta", "Bravo", "Charlie", "Alpha"],
        # Inactive (0) before Active (1), the id breaking ties.
        "STATUS": ["Delta", "Alpha", "Bravo", "Echo", "Charlie"],
    }
    for field, ascending in expected.items():
        assert await walk(admin, sort={"field": field, "direction": "ASC"}) == ascending, field
        assert await walk(admin, sort={"field": field}) == ascending, field
        assert await walk(admin, sort={"field": field, "direction": "DESC"}) == ascending[::-1], field
    # Without a sort the grid keeps Magento's order, by name.
    assert await walk(admin) == expected["NAME"]


async def test_a_cursor_only_continues_the_order_it_was_made_in(admin: GraphQLClient) -> None:
    await seeded(admin)
    by_email = await admin.query(LIST, {"first": 1, "sort": {"field": "EMAIL"}})
    cursor = by_email["data"]["integrations"]["pageInfo"]["endCursor"]
    # The first row by email has no email: its cursor still continues that order.
    following = await admin.query(LIST, {"first": 1, "after": cursor, "sort": {"field": "EMAIL"}})
    assert [e["node"]["name"] for e in following["data"]["integrations"]["edges"]] == ["Delta"]
    for other in ({"field": "EMAIL", "direction": "DESC"}, {"field": "NAME"}, None):
        body = await admin.query(LIST, {"first": 1, "after": cursor, "sort": other})
        assert body["data"]["integrations"] is None, other
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], other


async def test_column_filters_and_the_number_of_records_found(admin: GraphQLClient) -> None:
    await seeded(admin)
    await create(admin, name="Plain Feed", callbackUrl="http://feed.example/cb")
    await create(admin, name="Safe Feed", callbackUrl="https://feed.example/cb", identityLinkUrl="http://x.example/")

    async def found(**variables: Any) -> tuple[list[str], int]:
        body = await admin.query(LIST, {"first": 2, **variables})
        connection = body["data"]["integrations"]
        return [e["node"]["name"] for e in connection["edges"]], connection["totalCount"]

    # The count is of every matching row, not of the page.
    assert await found() == (["Alpha", "Bravo"], 7)
    assert await found(name="FEED") == (["Plain Feed", "Safe Feed"], 2)
    assert await found(email="b@") == (["Bravo", "Charlie"], 2)
    assert await found(email="b@", name="char") == (["Charlie"], 1)
    assert await found(email="b@", status="ACTIVE") == (["Charlie"], 1)
    assert await found(name="%") == ([], 0)  # a wildcard is text here
    assert await found(name="   ") == (["Alpha", "Bravo"], 7)  # blank is no filter
    assert await found(status="ACTIVE", sort={"field": "NAME", "direction": "DESC"}) == (["Echo", "Charlie"], 2)
    # Either URL on plain http: makes an integration insecure (Magento's grid notice counts these).
    assert await found(isSecure=False) == (["Plain Feed", "Safe Feed"], 2)
    assert (await found(isSecure=True))[1] == 5
    assert await found(isSecure=False, search="plain") == (["Plain Feed"], 1)
