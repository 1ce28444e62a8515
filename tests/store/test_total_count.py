"""``totalCount`` on the store's lists: every connection counts its items over all pages."""

from __future__ import annotations

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.principals import set_guest_access


@pytest.mark.usefixtures("demo")
async def test_other_lists_count_what_their_caller_may_see(admin: GraphQLClient, guest: GraphQLClient) -> None:
    """``totalCount`` is part of every connection, counted with the list's own filters (a guest's too)."""
    await set_guest_access(admin, True)
    query = "{ cmsPages(first: 1) { edges { node { isActive } } totalCount } }"
    everything = await admin.query("{ cmsPages(first: 100) { edges { node { isActive } } } }")
    pages = [e["node"]["isActive"] for e in everything["data"]["cmsPages"]["edges"]]
    assert False in pages and True in pages  # the demo has inactive pages, which guests do not see
    assert (await admin.query(query))["data"]["cmsPages"]["totalCount"] == len(pages)
    assert (await guest.query(query))["data"]["cmsPages"]["totalCount"] == pages.count(True)
