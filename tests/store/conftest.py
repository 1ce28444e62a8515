"""Store fixtures: the app with test-only integration bearer tokens, and a small seeded demo store.

Integration principals come from a bearer lookup installed through ``create_app(bearer_lookups=...)``,
so these tests depend only on the access decision, not on how integration tokens are stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from auth.acl import ALL, TREE
from auth.principal import Principal, integration_principal
from settings import Settings
from tests.conftest import gql


def _granted(*selected: str) -> frozenset[str]:
    held, _partial = TREE.expand_selection(selected)
    return held


#: Bearer token -> integration principal, as an integration's grant would give it.
INTEGRATIONS: dict[str, Principal] = {
    "catalog-products-token": integration_principal(101, "Catalog feed", _granted("Magento_Catalog::products")),
    "sales-token": integration_principal(102, "Order export", _granted("Magento_Sales::actions_view")),
    "all-token": integration_principal(103, "Everything", frozenset({ALL})),
}


async def integration_lookup(token: str) -> Principal | None:
    return INTEGRATIONS.get(token)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    """Overrides the root ``app``: the same app, plus the test integration tokens."""
    from main import create_app

    application = create_app(settings, bearer_lookups=(integration_lookup,))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def demo(app: Any, settings: Settings) -> None:
    """A small demo store (deterministic), seeded directly into the test database."""
    from demo import seed_demo_store

    report = await seed_demo_store(settings, products=60)
    assert report.seeded


async def set_guest_access(client: httpx.AsyncClient, admin_token: str, allow: bool) -> None:
    body = await gql(
        client,
        "mutation($a: Boolean!) { setGuestAccess(allow: $a) { webApiSecurity { allowAnonymousGuestAccess } } }",
        {"a": allow},
        token=admin_token,
    )
    assert body["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is allow, body
