"""CMS pages and blocks through HTTP: guest visibility and page writes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.principals import IntegrationCaller, set_guest_access

PAGES = "{ cmsPages(first: 100) { edges { node { identifier isActive } } } }"
PAGE = "query($id: String!) { cmsPage(identifier: $id) { identifier title contentHeading content isActive } }"
BLOCKS = "{ cmsBlocks(first: 100) { edges { node { identifier } } } }"
BLOCK = "query($id: String!) { cmsBlock(identifier: $id) { identifier content } }"
CREATE = """
mutation($input: CreateCmsPageInput!) {
  createCmsPage(input: $input) {
    cmsPage { id identifier title contentHeading content isActive }
    userErrors { field code }
  }
}"""
UPDATE = """
mutation($input: UpdateCmsPageInput!) {
  updateCmsPage(input: $input) { cmsPage { id identifier title isActive } userErrors { field code } }
}"""
DELETE = "mutation($id: Int!) { deleteCmsPage(id: $id) { deletedId userErrors { field code } } }"


def identifiers(body: dict[str, Any], key: str) -> list[str]:
    return [edge["node"]["identifier"] for edge in body["data"][key]["edges"]]


@pytest.mark.usefixtures("demo")
async def test_guests_do_not_see_inactive_pages_and_blocks(
    guest: GraphQLClient, admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    through_guest = integration("Magento_Catalog::products")  # no CMS resource
    assert (await through_guest.query(PAGES))["data"]["cmsPages"] is None
    await set_guest_access(admin, True)
    # While guest access is on, a caller without the CMS resources reads pages and blocks as a guest does.
    assert "summer-sale-2024" not in identifiers(await through_guest.query(PAGES), "cmsPages")
    assert "home" in identifiers(await through_guest.query(PAGES), "cmsPages")
    assert (await through_guest.query(BLOCK, {"id": "sale-banner"}))["data"]["cmsBlock"] is None
    with_pages = integration("Magento_Cms::page")
    assert "summer-sale-2024" in identifiers(await with_pages.query(PAGES), "cmsPages")
    assert "summer-sale-2024" not in identifiers(await guest.query(PAGES), "cmsPages")
    assert "home" in identifiers(await guest.query(PAGES), "cmsPages")
    assert (await guest.query(PAGE, {"id": "summer-sale-2024"}))["data"]["cmsPage"] is None
    assert (await guest.query(PAGE, {"id": "home"}))["data"]["cmsPage"]["title"] == "Home Page"
    assert "sale-banner" not in identifiers(await guest.query(BLOCKS), "cmsBlocks")
    assert (await guest.query(BLOCK, {"id": "sale-banner"}))["data"]["cmsBlock"] is None

    admin_pages = identifiers(await admin.query(PAGES), "cmsPages")
    assert "summer-sale-2024" in admin_pages and len(admin_pages) == 7
    inactive = await admin.query(PAGE, {"id": "summer-sale-2024"})
    assert inactive["data"]["cmsPage"]["isActive"] is False
    assert (await admin.query(BLOCK, {"id": "sale-banner"}))["data"]["cmsBlock"] is not None


async def test_create_update_delete_page(guest: GraphQLClient, admin: GraphQLClient) -> None:
    body = await admin.query(
        CREATE,
        {"input": {"identifier": "about/team", "title": " Our team ", "content": "<p>Hi</p>", "isActive": False}},
    )
    created = body["data"]["createCmsPage"]
    assert created["userErrors"] == []
    page = created["cmsPage"]
    assert page | {"id": 0} == {
        "id": 0,
        "identifier": "about/team",
        "title": "Our team",
        "contentHeading": "",
        "content": "<p>Hi</p>",
        "isActive": False,
    }
    await set_guest_access(admin, True)
    assert (await guest.query(PAGE, {"id": "about/team"}))["data"]["cmsPage"] is None

    updated = await admin.query(UPDATE, {"input": {"id": page["id"], "isActive": True}})
    assert updated["data"]["updateCmsPage"] == {
        "cmsPage": {"id": page["id"], "identifier": "about/team", "title": "Our team", "isActive": True},
        "userErrors": [],
    }
    assert (await guest.query(PAGE, {"id": "about/team"}))["data"]["cmsPage"]["isActive"] is True

    deleted = await admin.query(DELETE, {"id": page["id"]})
    assert deleted["data"]["deleteCmsPage"] == {"deletedId": page["id"], "userErrors": []}
    assert (await admin.query(PAGE, {"id": "about/team"}))["data"]["cmsPage"] is None
    again = await admin.query(DELETE, {"id": page["id"]})
    assert again["data"]["deleteCmsPage"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]


async def test_page_input_errors(admin: GraphQLClient) -> None:
    async def errors(document: str, input_: dict[str, Any]) -> list[tuple[list[str], str]]:
        body = await admin.query(document, {"input": input_})
        assert body.get("errors") is None, body
        payload = next(iter(body["data"].values()))
        assert payload["cmsPage"] is None
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    ok = await admin.query(CREATE, {"input": {"identifier": "taken", "title": "Taken"}})
    taken_id = ok["data"]["createCmsPage"]["cmsPage"]["id"]
    await admin.query(CREATE, {"input": {"identifier": "other", "title": "Other"}})

    assert await errors(CREATE, {}) == [(["input", "identifier"], "REQUIRED"), (["input", "title"], "REQUIRED")]
    assert await errors(CREATE, {"identifier": "taken", "title": "Again"}) == [(["input", "identifier"], "UNIQUE")]
    for bad in ("Has Spaces", "UPPER", "12345", "-leading", "a?b"):
        assert await errors(CREATE, {"identifier": bad, "title": "T"}) == [(["input", "identifier"], "INVALID")], bad
    assert await errors(CREATE, {"identifier": "x" * 101, "title": "t" * 256, "contentHeading": "h" * 256}) == [
        (["input", "identifier"], "TOO_LONG"),
        (["input", "title"], "TOO_LONG"),
        (["input", "contentHeading"], "TOO_LONG"),
    ]
    assert await errors(UPDATE, {"id": taken_id, "identifier": "other"}) == [(["input", "identifier"], "UNIQUE")]
    assert await errors(UPDATE, {"id": taken_id, "title": "  "}) == [(["input", "title"], "REQUIRED")]
    assert await errors(UPDATE, {"id": 987_654, "title": "x"}) == [(["input", "id"], "NOT_FOUND")]
    same = await admin.query(UPDATE, {"input": {"id": taken_id, "identifier": "taken"}})
    assert same["data"]["updateCmsPage"]["userErrors"] == []
