"""A real Varnish in front of a real server, configured as ``docs/caching.md`` shows (``docs/varnish.vcl``):
repeated guest reads are served by Varnish; a write purges the answers tagged with what it changed, and only
those, so the next read through Varnish is fresh; answers to callers with credentials always reach the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.servers import free_port, running
from tests.support.varnish import VarnishProcess, varnishd

pytestmark = [
    pytest.mark.once,
    pytest.mark.skipif(varnishd() is None, reason="Varnish is not installed (apt-get install varnish varnish-modules)"),
    pytest.mark.usefixtures("store"),
]

PRODUCTS = "{ products(first: 3) { edges { node { id sku name } } } }"
PAGES = "{ cmsPages(first: 3) { edges { node { identifier title } } } }"
RENAME = "mutation($id: Int!, $n: String!) { updateProduct(input: {id: $id, name: $n}) { userErrors { code } } }"


@pytest.fixture
def through_varnish(database_url: str, server_factory: Any, tmp_path: Path) -> Iterator[SyncGraphQLClient]:
    """A guest reaching the server through Varnish; the server purges Varnish after each write."""
    varnish_port = free_port()
    server = server_factory({"DATABASE_URL": database_url, "CACHE_PURGE_URLS": f"http://127.0.0.1:{varnish_port}/"})
    varnish = VarnishProcess(server.port, tmp_path, port=varnish_port)
    with running(varnish):
        yield SyncGraphQLClient(varnish.base_url)


def served_by_varnish(guest: SyncGraphQLClient, document: str) -> tuple[bool, dict[str, Any]]:
    response = guest.get(document)
    assert response.status_code == 200, response.text
    assert "xkey" not in response.headers  # the tags stay in Varnish
    return response.headers["x-cache"] == "HIT", response.json()


async def test_repeated_guest_reads_are_served_by_varnish_and_a_write_purges_them(
    through_varnish: SyncGraphQLClient, admin: GraphQLClient
) -> None:
    guest = through_varnish
    hit, first = served_by_varnish(guest, PRODUCTS)
    assert not hit
    for _ in range(3):
        assert served_by_varnish(guest, PRODUCTS) == (True, first)
    product = first["data"]["products"]["edges"][0]["node"]

    writer = guest.with_token(admin.token)  # a POST with credentials passes through Varnish
    assert writer.data(RENAME, {"id": product["id"], "n": "Purged name"})["updateProduct"]["userErrors"] == []
    hit, fresh = served_by_varnish(guest, PRODUCTS)
    assert not hit and fresh["data"]["products"]["edges"][0]["node"]["name"] == "Purged name"
    assert served_by_varnish(guest, PRODUCTS) == (True, fresh)


async def test_a_purge_drops_only_the_answers_tagged_with_what_changed(
    through_varnish: SyncGraphQLClient, admin: GraphQLClient
) -> None:
    guest = through_varnish
    served_by_varnish(guest, PRODUCTS)
    _, pages = served_by_varnish(guest, PAGES)
    identifier = pages["data"]["cmsPages"]["edges"][0]["node"]["identifier"]
    page = await admin.data("query($i: String!) { cmsPage(identifier: $i) { id } }", {"i": identifier})
    writer = guest.with_token(admin.token)
    changed = writer.data(
        'mutation($id: Int!) { updateCmsPage(input: {id: $id, title: "New title"}) { userErrors { code } } }',
        {"id": page["cmsPage"]["id"]},
    )
    assert changed["updateCmsPage"]["userErrors"] == []
    assert served_by_varnish(guest, PRODUCTS)[0], "products are not CMS data: still served by Varnish"
    hit, fresh = served_by_varnish(guest, PAGES)
    assert not hit and fresh["data"]["cmsPages"]["edges"][0]["node"]["title"] == "New title"


async def test_callers_with_credentials_always_reach_the_server(
    through_varnish: SyncGraphQLClient, admin: GraphQLClient
) -> None:
    caller = through_varnish.with_token(admin.token)
    for _ in range(2):
        response = caller.get(PRODUCTS)
        assert response.status_code == 200 and response.headers["x-cache"] == "MISS"
        assert response.headers["cache-control"] == "private, no-store"
    assert through_varnish.post(PRODUCTS).headers["x-cache"] == "MISS"
