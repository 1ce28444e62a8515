"""CMS pages and blocks through HTTP: guest visibility and page writes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import gql
from tests.store.conftest import set_guest_access

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
async def test_guests_do_not_see_inactive_pages_and_blocks(client: httpx.AsyncClient, admin_token: str) -> None:
    await set_guest_access(client, admin_token, True)
    assert "summer-sale-2024" not in identifiers(await gql(client, PAGES), "cmsPages")
    assert "home" in identifiers(await gql(client, PAGES), "cmsPages")
    assert (await gql(client, PAGE, {"id": "summer-sale-2024"}))["data"]["cmsPage"] is None
    assert (await gql(client, PAGE, {"id": "home"}))["data"]["cmsPage"]["title"] == "Home Page"
    assert "sale-banner" not in identifiers(await gql(client, BLOCKS), "cmsBlocks")
    assert (await gql(client, BLOCK, {"id": "sale-banner"}))["data"]["cmsBlock"] is None

    admin_pages = identifiers(await gql(client, PAGES, token=admin_token), "cmsPages")
    assert "summer-sale-2024" in admin_pages and len(admin_pages) == 7
    inactive = await gql(client, PAGE, {"id": "summer-sale-2024"}, token=admin_token)
    assert inactive["data"]["cmsPage"]["isActive"] is False
    assert (await gql(client, BLOCK, {"id": "sale-banner"}, token=admin_token))["data"]["cmsBlock"] is not None


async def test_create_update_delete_page(client: httpx.AsyncClient, admin_token: str) -> None:
    body = await gql(
        client,
        CREATE,
        {"input": {"identifier": "about/team", "title": " Our team ", "content": "<p>Hi</p>", "isActive": False}},
        token=admin_token,
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
    await set_guest_access(client, admin_token, True)
    assert (await gql(client, PAGE, {"id": "about/team"}))["data"]["cmsPage"] is None

    updated = await gql(client, UPDATE, {"input": {"id": page["id"], "isActive": True}}, token=admin_token)
    assert updated["data"]["updateCmsPage"] == {
        "cmsPage": {"id": page["id"], "identifier": "about/team", "title": "Our team", "isActive": True},
        "userErrors": [],
    }
    assert (await gql(client, PAGE, {"id": "about/team"}))["data"]["cmsPage"]["isActive"] is True

    deleted = await gql(client, DELETE, {"id": page["id"]}, token=admin_token)
    assert deleted["data"]["deleteCmsPage"] == {"deletedId": page["id"], "userErrors": []}
    assert (await gql(client, PAGE, {"id": "about/team"}, token=admin_token))["data"]["cmsPage"] is None
    again = await gql(client, DELETE, {"id": page["id"]}, token=admin_token)
    assert again["data"]["deleteCmsPage"]["userErrors"] == [{"field": ["id"], "code": "NOT_FOUND"}]


async def test_page_input_errors(client: httpx.AsyncClient, admin_token: str) -> None:
    async def errors(document: str, input_: dict[str, Any]) -> list[tuple[list[str], str]]:
        body = await gql(client, document, {"input": input_}, token=admin_token)
        assert body.get("errors") is None, body
        payload = next(iter(body["data"].values()))
        assert payload["cmsPage"] is None
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    ok = await gql(client, CREATE, {"input": {"identifier": "taken", "title": "Taken"}}, token=admin_token)
    taken_id = ok["data"]["createCmsPage"]["cmsPage"]["id"]
    await gql(client, CREATE, {"input": {"identifier": "other", "title": "Other"}}, token=admin_token)

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
    same = await gql(client, UPDATE, {"input": {"id": taken_id, "identifier": "taken"}}, token=admin_token)
    assert same["data"]["updateCmsPage"]["userErrors"] == []
