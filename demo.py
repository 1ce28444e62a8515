"""A small, realistic demo store (``python main.py seed-demo``), deterministic for a given size.

One website with one store and two store views (English, French), a Luma-like category tree, products
(a few disabled or not visible, to show what guests do not see), Magento's default CMS pages and some
blocks (one of each inactive), customers and orders. Everything is written in one transaction with
``bulk_create``, so 100,000 products take seconds on SQLite. A store that already has data is left
alone unless ``reset`` is asked for, which deletes the store data first (never admins, integrations
or configuration).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from models import (
    Category,
    CmsBlock,
    CmsPage,
    Customer,
    Product,
    ProductCategory,
    SalesOrder,
    SalesOrderItem,
    StoreConfig,
    StoreGroup,
    StoreView,
    Website,
)
from models.data_version import data_changed
from models.sql import fetch_all, fetch_one
from models.store import (
    PRODUCT_DISABLED,
    PRODUCT_ENABLED,
    VISIBILITY_BOTH,
    VISIBILITY_CATALOG,
    VISIBILITY_NOT_VISIBLE,
    VISIBILITY_SEARCH,
)
from settings import Settings

SEED = 20_240_611
DEFAULT_PRODUCTS = 400
CUSTOMERS = 40
ORDERS = 60
BATCH = 2_000

#: Store tables, children first: the order to empty them in.
STORE_TABLES = (
    "sales_order_item",
    "sales_order",
    "customer_entity",
    "catalog_category_product",
    "catalog_product",
    "catalog_category",
    "cms_block",
    "cms_page",
    "store_config",
    "store_view",
    "store_group",
    "store_website",
)


@dataclasses.dataclass(frozen=True)
class CategorySpec:
    name: str
    children: tuple[CategorySpec, ...] = ()
    #: SKU prefix and product nouns, for leaf categories that hold products.
    sku_prefix: str = ""
    nouns: tuple[str, ...] = ()
    prices: tuple[int, int] = (10, 100)
    is_active: bool = True


def _c(name: str, *children: CategorySpec, **kwargs: Any) -> CategorySpec:
    return CategorySpec(name, children, **kwargs)


def _apparel(prefix: str) -> tuple[CategorySpec, CategorySpec]:
    tops = _c(
        "Tops",
        _c("Jackets", sku_prefix=f"{prefix}J", nouns=("Jacket", "Shell", "Windbreaker"), prices=(45, 99)),
        _c("Hoodies & Sweatshirts", sku_prefix=f"{prefix}H", nouns=("Hoodie", "Sweatshirt"), prices=(39, 79)),
        _c("Tees", sku_prefix=f"{prefix}S", nouns=("Tee", "Shirt"), prices=(18, 39)),
        _c("Tanks", sku_prefix=f"{prefix}T", nouns=("Tank", "Bra Top"), prices=(18, 35)),
    )
    bottoms = _c(
        "Bottoms",
        _c("Pants", sku_prefix=f"{prefix}P", nouns=("Pant", "Legging", "Jogger"), prices=(35, 79)),
        _c("Shorts", sku_prefix=f"{prefix}SH", nouns=("Short",), prices=(22, 45)),
    )
    return tops, bottoms


TREE = _c(
    "Default Category",
    _c("What's New"),
    _c("Women", *_apparel("W")),
    _c("Men", *_apparel("M")),
    _c(
        "Gear",
        _c("Bags", sku_prefix="MB", nouns=("Backpack", "Duffle", "Messenger Bag", "Tote"), prices=(25, 99)),
        _c(
            "Fitness Equipment",
            sku_prefix="UG",
            nouns=("Yoga Mat", "Foam Roller", "Kettlebell", "Water Bottle", "Sprite Ball"),
            prices=(7, 69),
        ),
        _c("Watches", sku_prefix="MG", nouns=("Watch", "Fitness Tracker"), prices=(45, 99)),
    ),
    _c("Training", _c("Video Download", sku_prefix="WG", nouns=("Yoga Video", "Workout Video"), prices=(6, 18))),
    _c("Sale"),
    _c("Collections", _c("Eco Friendly"), _c("Performance Fabrics"), is_active=False),
)

NAMES = (
    "Juno", "Proteus", "Beaumont", "Hyperion", "Orion", "Aether", "Ajax", "Argus", "Atlas", "Cassius",
    "Hero", "Mars", "Meteor", "Oslo", "Zeppelin", "Nora", "Ariel", "Selene", "Echo", "Helena", "Ida",
    "Josie", "Mona", "Phoebe", "Riona", "Stellar", "Sybil", "Circe", "Daphne", "Electra", "Fiona", "Neve",
)  # fmt: skip
STYLES = ("Running", "Yoga", "Training", "Compete", "Everyday", "Ultra", "Trail", "Cardio", "Studio", "Endurance")
PHRASES = (
    "made for long days on the trail",
    "light, breathable and quick to dry",
    "built to last season after season",
    "a studio favourite with a relaxed fit",
    "cut for freedom of movement",
    "finished with recycled fabrics",
)
FIRST_NAMES = (
    "Veronica", "John", "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Ethan", "Sofia", "Mason",
    "Chloe", "Leo", "Zoe", "Hugo", "Alice", "Louis", "Jade", "Arthur",
)  # fmt: skip
LAST_NAMES = (
    "Costello", "Smith", "Martin", "Bernard", "Dubois", "Garcia", "Nguyen", "Brown", "Taylor", "Moreau",
    "Laurent", "Miller", "Wilson", "Lefebvre", "Roux", "Clark",
)  # fmt: skip
ORDER_STATUSES = (
    ("complete",) * 9 + ("processing",) * 4 + ("pending",) * 3 + ("canceled", "canceled", "closed", "holded")
)

CMS_PAGES = (
    ("no-route", "404 Not Found", "Whoops, our bad...", "<p>The page you requested was not found.</p>", True),
    ("home", "Home Page", "", "<p>CMS homepage content goes here.</p>", True),
    ("enable-cookies", "Enable Cookies", "What are Cookies?", "<p>Cookies are short pieces of data...</p>", True),
    (
        "privacy-policy-cookie-restriction-mode",
        "Privacy Policy",
        "Privacy Policy",
        "<p>This privacy policy sets out how this website uses and protects information.</p>",
        True,
    ),
    ("about-us", "About Us", "About Us", "<p>We make gear for people who move.</p>", True),
    ("customer-service", "Customer Service", "Customer Service", "<p>Shipping, returns and contact.</p>", True),
    ("summer-sale-2024", "Summer Sale 2024", "Summer Sale", "<p>The summer sale is over.</p>", False),
)
CMS_BLOCKS = (
    ("footer-links", "Footer Links", '<ul><li><a href="/about-us">About us</a></li></ul>', True),
    ("contact-us-info", "Contact us info", "<p>Call us on 0-800-000-000, 9am to 5pm.</p>", True),
    ("home-page-block", "Home Page Block", "<p>New arrivals for the season.</p>", True),
    ("sale-banner", "Sale Banner", "<p>Up to 50% off.</p>", False),
)


@dataclasses.dataclass(frozen=True)
class SeedReport:
    seeded: bool
    counts: dict[str, int]

    def summary(self) -> str:
        listed = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        if self.seeded:
            return f"Seeded the demo store: {listed}."
        return (
            f"The store already has data ({listed}); nothing was seeded. "
            "Use --reset to replace the store data with the demo store."
        )


async def store_counts() -> dict[str, int]:
    row = await fetch_one(
        "SELECT "
        "(SELECT COUNT(*) FROM catalog_product) AS products, "
        "(SELECT COUNT(*) FROM catalog_category) AS categories, "
        "(SELECT COUNT(*) FROM cms_page) AS cms_pages, "
        "(SELECT COUNT(*) FROM cms_block) AS cms_blocks, "
        "(SELECT COUNT(*) FROM store_website) AS websites, "
        "(SELECT COUNT(*) FROM store_view) AS store_views, "
        "(SELECT COUNT(*) FROM customer_entity) AS customers, "
        "(SELECT COUNT(*) FROM sales_order) AS orders"
    )
    assert row is not None
    return {name: int(value) for name, value in row.items()}


async def seed_demo_store(
    settings: Settings,
    products: int = DEFAULT_PRODUCTS,
    *,
    customers: int = CUSTOMERS,
    orders: int = ORDERS,
    reset: bool = False,
) -> SeedReport:
    """Fill the store with demo data, unless it already has some (and ``reset`` is not asked for)."""
    counts = await store_counts()
    if any(counts.values()) and not reset:
        return SeedReport(False, counts)
    async with in_transaction() as conn:
        if reset:
            for table in STORE_TABLES:
                await conn.execute_query(f"DELETE FROM {table}")
        await _seed(conn, settings, random.Random(SEED), max(products, 0), max(customers, 1), max(orders, 0))
        await data_changed(conn)
    return SeedReport(True, await store_counts())


@dataclasses.dataclass
class _ProductSpec:
    sku: str
    name: str
    price: Decimal
    enabled: bool
    category_ids: list[int]


async def _seed(
    conn: BaseDBAsyncClient, settings: Settings, rng: random.Random, products: int, customers: int, orders: int
) -> None:
    categories = await _seed_categories(conn)
    await _seed_stores(conn, settings, root_id=categories["Default Category"][0].id)
    specs = await _seed_products(conn, categories, products, rng)
    await _seed_cms(conn)
    buyers = await _seed_customers(conn, rng, customers)
    await _seed_orders(conn, rng, buyers, [s for s in specs if s.enabled][:500], orders)


async def _seed_categories(conn: BaseDBAsyncClient) -> dict[str, tuple[Category, CategorySpec]]:
    """Created one by one (about thirty), since each path needs its parent's id. Keyed by name path."""
    by_path: dict[str, tuple[Category, CategorySpec]] = {}

    async def create(spec: CategorySpec, parent: Category | None, trail: str, position: int, active: bool) -> None:
        active = active and spec.is_active
        category = await Category.create(
            using_db=conn,
            parent=parent,
            name=spec.name,
            url_key=re.sub(r"[^a-z0-9]+", "-", spec.name.lower().replace("'", "")).strip("-"),
            path="",
            level=(parent.level + 1) if parent else 1,
            position=position,
            is_active=active,
        )
        category.path = f"{parent.path}/{category.id}" if parent else str(category.id)
        await category.save(using_db=conn, update_fields=["path"])
        name = f"{trail}/{spec.name}" if trail else spec.name
        by_path[name] = (category, spec)
        for index, child in enumerate(spec.children, start=1):
            await create(child, category, name, index, active)

    await create(TREE, None, "", 1, True)
    return by_path


async def _seed_stores(conn: BaseDBAsyncClient, settings: Settings, root_id: int) -> None:
    website = await Website.create(using_db=conn, code="base", name="Main Website", sort_order=0, is_default=True)
    group = await StoreGroup.create(
        using_db=conn, website=website, code="main_website_store", name="Main Website Store", root_category_id=root_id
    )
    base_url = settings.store_base_url
    views = (
        ("default", "Default Store View", 0, (base_url, "en_US", "USD", "USD", "America/Chicago", "lbs")),
        ("fr", "French Store View", 1, (f"{base_url}fr/", "fr_FR", "USD", "EUR", "Europe/Paris", "kgs")),
    )
    for code, name, sort_order, (url, locale, base, display, timezone, weight) in views:
        view = await StoreView.create(
            using_db=conn, code=code, name=name, website=website, group=group, sort_order=sort_order, is_active=True
        )
        await StoreConfig.create(
            using_db=conn,
            store_view=view,
            base_url=url,
            locale=locale,
            base_currency_code=base,
            default_display_currency_code=display,
            timezone=timezone,
            weight_unit=weight,
        )


def _leaves(categories: dict[str, tuple[Category, CategorySpec]]) -> list[tuple[Category, CategorySpec, Category]]:
    """(leaf category that holds products, its spec, its top-level category)."""
    return [
        (category, spec, categories["/".join(path.split("/")[:2])][0])
        for path, (category, spec) in categories.items()
        if spec.sku_prefix
    ]


async def _seed_products(
    conn: BaseDBAsyncClient, categories: dict[str, tuple[Category, CategorySpec]], count: int, rng: random.Random
) -> list[_ProductSpec]:
    leaves = _leaves(categories)
    new, sale = categories["Default Category/What's New"][0].id, categories["Default Category/Sale"][0].id
    eco = categories["Default Category/Collections/Eco Friendly"][0].id
    specs: list[_ProductSpec] = []
    for number in range(1, count + 1):
        leaf, spec, top = leaves[rng.randrange(len(leaves))]
        name = f"{rng.choice(NAMES)} {rng.choice(STYLES)} {rng.choice(spec.nouns)}"
        price = Decimal(f"{rng.randint(*spec.prices)}.{rng.choice(('00', '50', '99'))}")
        category_ids = [leaf.id, top.id]
        roll = rng.random()
        if roll < 0.15:
            category_ids.append(new)
        elif roll < 0.25:
            category_ids.append(sale)
        elif roll < 0.30:
            category_ids.append(eco)
        specs.append(_ProductSpec(f"{spec.sku_prefix}-{number:06d}", name, price, rng.random() >= 0.05, category_ids))

    def visibility(roll: float) -> int:
        if roll < 0.85:
            return VISIBILITY_BOTH
        if roll < 0.90:
            return VISIBILITY_CATALOG
        return VISIBILITY_SEARCH if roll < 0.95 else VISIBILITY_NOT_VISIBLE

    for batch in _batches(specs):
        await Product.bulk_create(
            [
                Product(
                    sku=s.sku,
                    name=s.name,
                    price=s.price,
                    status=PRODUCT_ENABLED if s.enabled else PRODUCT_DISABLED,
                    visibility=visibility(rng.random()),
                    description=f"<p>The {s.name} is {rng.choice(PHRASES)}.</p>",
                )
                for s in batch
            ],
            using_db=conn,
        )
    ids = {row["sku"]: row["id"] for row in await fetch_all("SELECT id, sku FROM catalog_product", conn=conn)}
    links = (
        ProductCategory(product_id=ids[s.sku], category_id=category_id, position=position)
        for s in specs
        for position, category_id in enumerate(s.category_ids)
    )
    for batch in _batches(links):
        await ProductCategory.bulk_create(batch, using_db=conn)
    return specs


def _batches(items: Any) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def _seed_cms(conn: BaseDBAsyncClient) -> None:
    await CmsPage.bulk_create(
        [CmsPage(identifier=i, title=t, content_heading=h, content=c, is_active=a) for i, t, h, c, a in CMS_PAGES],
        using_db=conn,
    )
    await CmsBlock.bulk_create(
        [CmsBlock(identifier=i, title=t, content=c, is_active=a) for i, t, c, a in CMS_BLOCKS], using_db=conn
    )


def _moment(rng: random.Random) -> dt.datetime:
    start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    return start + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))


async def _seed_customers(conn: BaseDBAsyncClient, rng: random.Random, count: int) -> list[Customer]:
    customers = []
    for number in range(1, count + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        customers.append(
            Customer(
                email=f"{first}.{last}.{number}@example.com".lower(),
                firstname=first,
                lastname=last,
                group_id=rng.choice((1, 1, 1, 2, 3)),
                created_at=_moment(rng),
            )
        )
    await Customer.bulk_create(customers, using_db=conn)
    return await Customer.all().using_db(conn).order_by("id")


async def _seed_orders(
    conn: BaseDBAsyncClient, rng: random.Random, customers: list[Customer], products: list[_ProductSpec], count: int
) -> None:
    if not products or not count:
        return
    moments = sorted(_moment(rng) for _ in range(count))
    orders: list[SalesOrder] = []
    lines: list[list[tuple[_ProductSpec, int]]] = []
    for number, moment in enumerate(moments, start=1):
        chosen = rng.sample(products, k=min(len(products), rng.randint(1, 4)))
        items = [(product, rng.randint(1, 3)) for product in chosen]
        subtotal = sum((p.price * qty for p, qty in items), Decimal(0))
        shipping = Decimal(5 * sum(qty for _, qty in items))
        customer = rng.choice(customers) if rng.random() < 0.85 else None
        orders.append(
            SalesOrder(
                increment_id=f"{number:09d}",
                status=rng.choice(ORDER_STATUSES),
                customer=customer,
                customer_email=customer.email if customer else f"guest.{number}@example.net",
                currency_code="USD",
                subtotal=subtotal,
                shipping_amount=shipping,
                grand_total=subtotal + shipping,
                created_at=moment,
            )
        )
        lines.append(items)
    await SalesOrder.bulk_create(orders, using_db=conn)
    ids = {
        row["increment_id"]: row["id"] for row in await fetch_all("SELECT id, increment_id FROM sales_order", conn=conn)
    }
    await SalesOrderItem.bulk_create(
        [
            SalesOrderItem(
                order_id=ids[order.increment_id],
                sku=product.sku,
                name=product.name,
                qty_ordered=qty,
                price=product.price,
                row_total=product.price * qty,
            )
            for order, items in zip(orders, lines, strict=True)
            for product, qty in items
        ],
        using_db=conn,
    )
