"""``python main.py seed-demo`` and the demo store of the embedded default's first start."""

from __future__ import annotations

from typing import Any

from settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.servers import run_cli


def seed_demo(database_url: str, *args: str) -> str:
    done = run_cli("seed-demo", *args, env={"DATABASE_URL": database_url, "LOG_LEVEL": "warning"})
    assert done.returncode == 0, done.stderr
    return done.stdout


async def catalog_snapshot() -> list[tuple[Any, ...]]:
    from models import Product

    return await Product.all().order_by("id").values_list("sku", "name", "price", "status", "visibility")


async def test_seed_demo_fills_an_empty_store_once(admin: GraphQLClient, database_url: str) -> None:
    from demo import store_counts

    first = seed_demo(database_url, "--products", "50")
    assert first.startswith("Seeded the demo store")
    counts = await store_counts()
    assert counts == {
        "products": 50,
        "categories": 30,
        "cms_pages": 7,
        "cms_blocks": 4,
        "websites": 1,
        "store_views": 2,
        "customers": 40,
        "orders": 60,
    }
    snapshot = await catalog_snapshot()

    second = seed_demo(database_url, "--products", "80")
    assert "already has data" in second and "nothing was seeded" in second
    assert await store_counts() == counts

    # --reset replaces the store data with the same demo store (a fixed random seed).
    third = seed_demo(database_url, "--products", "50", "--reset")
    assert third.startswith("Seeded the demo store")
    assert await store_counts() == counts
    assert await catalog_snapshot() == snapshot

    body = await admin.query("{ products(first: 3) { edges { node { sku categories { name } } } } }")
    assert all(edge["node"]["categories"] for edge in body["data"]["products"]["edges"])
    assert (await admin.query("{ viewer { kind } }"))["data"]["viewer"]["kind"] == "ADMIN", "admins are not store data"


async def test_first_start_of_the_embedded_default_seeds_the_demo_store(settings: Settings) -> None:
    import dataclasses

    from demo import store_counts
    from main import _bootstrap
    from models.database import open_database

    explicit = dataclasses.replace(settings, embedded_default=False)
    await _bootstrap(explicit)
    async with open_database(explicit):
        assert not any((await store_counts()).values()), "an explicit DATABASE_URL is never seeded implicitly"

    embedded = dataclasses.replace(settings, embedded_default=True)
    await _bootstrap(embedded)
    async with open_database(embedded):
        counts = await store_counts()
        assert counts["products"] == 400 and counts["orders"] == 60
        from models import Product

        await Product.filter(id__lte=10).delete()

    await _bootstrap(embedded)  # a later start leaves the store as it is
    async with open_database(embedded):
        assert (await store_counts())["products"] == 390
