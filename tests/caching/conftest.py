"""Caching fixtures: a small demo store open to guests."""

from __future__ import annotations

from typing import Any

import pytest

from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.principals import set_guest_access


@pytest.fixture
async def store(app: Any, settings: Settings, admin: GraphQLClient) -> None:
    """The demo store (60 products, some disabled; some categories and CMS pages inactive), guest access on, and
    throttling off (these tests send many requests; the test integrations share one bucket)."""
    from demo import seed_demo_store

    report = await seed_demo_store(settings, products=60)
    assert report.seeded
    await set_guest_access(admin, True)
    off = await admin.data(
        "mutation { updateRateLimitConfig(input: {throttlingEnabled: false}) { userErrors { code } } }"
    )
    assert off["updateRateLimitConfig"]["userErrors"] == []


@pytest.fixture
def caching(app: Any) -> Any:
    """The app's caches (``schema.caching.Caching``)."""
    return app.state.caching
