"""Store fixtures: a small seeded demo store."""

from __future__ import annotations

from typing import Any

import pytest

from settings import Settings


@pytest.fixture
async def demo(app: Any, settings: Settings) -> None:
    """A small demo store (deterministic), seeded directly into the test database."""
    from demo import seed_demo_store

    report = await seed_demo_store(settings, products=60)
    assert report.seeded
