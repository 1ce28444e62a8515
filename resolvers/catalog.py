"""Catalog: products and the category tree (Magento_Catalog::products, Magento_Catalog::categories).

Reads are raw SQL on indexed paths: one keyset query per page, and one query per DataLoader batch
(product categories through the link table, category children by parent). What a guest may see is a
data filter here (enabled, visible products, active categories), not a permission check: the
permission was decided before execution from the field directives.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Category, Product, ProductCategory
from models.sql import fetch_all, fetch_one
from models.store import (
    PRODUCT_ENABLED,
    VISIBILITY_BOTH,
    VISIBILITY_CATALOG,
    VISIBILITY_NOT_VISIBLE,
    VISIBILITY_SEARCH,
)
from resolvers.loaders import LoadFn, get_loader
from resolvers.pagination import Page, bad_input, keyset_page
from resolvers.rows import like_pattern, placeholders
from resolvers.validation import NOT_FOUND, OUT_OF_RANGE, UNIQUE, InputChecker, Problem

if TYPE_CHECKING:
    from schema.context import Context

Row = dict[str, Any]

PRODUCT_COLUMNS = "p.id, p.sku, p.name, p.price, p.status, p.visibility, p.description, p.created_at, p.updated_at"
CATEGORY_COLUMNS = "c.id, c.parent_id, c.name, c.url_key, c.path, c.level, c.position, c.is_active"

#: What guests see: a listing shows products visible in the catalog, a search those visible in search.
GUEST_BROWSE_VISIBILITY = (VISIBILITY_CATALOG, VISIBILITY_BOTH)
GUEST_SEARCH_VISIBILITY = (VISIBILITY_SEARCH, VISIBILITY_BOTH)
MAX_SKUS = 500

SKU_LENGTH = 64
NAME_LENGTH = 255
DESCRIPTION_LENGTH = 65_535
MAX_PRICE = Decimal("9999999999.99")
MAX_CATEGORIES = 200


@dataclasses.dataclass(frozen=True, slots=True)
class ProductFilter:
    search: str | None = None
    category_id: int | None = None
    skus: list[str] | None = None


async def products_page(context: Context, filter: ProductFilter, first: int, after: str | None) -> Page[Row]:
    where: list[str] = []
    params: list[Any] = []
    if filter.category_id is not None:
        # The (category_id, product_id) index gives both the filter and the order.
        source, key = "catalog_category_product pc JOIN catalog_product p ON p.id = pc.product_id", "pc.product_id"
        where.append("pc.category_id = ?")
        params.append(filter.category_id)
    else:
        source, key = "catalog_product p", "p.id"
    search = (filter.search or "").strip()
    if context.principal.is_guest:
        visibility = GUEST_SEARCH_VISIBILITY if search else GUEST_BROWSE_VISIBILITY
        # "+p.status" keeps SQLite off the (status, visibility, id) index: with two visibility values it
        # would read every visible product and sort them, where the primary key in order stops after n.
        where.append("+p.status = ? AND p.visibility IN (?, ?)")
        params += [PRODUCT_ENABLED, *visibility]
    if search:
        where.append("(LOWER(p.name) LIKE ? ESCAPE '\\' OR LOWER(p.sku) LIKE ? ESCAPE '\\')")
        pattern = like_pattern(search)
        params += [pattern, pattern]
    if filter.skus is not None:
        skus = list(dict.fromkeys(filter.skus))
        if len(skus) > MAX_SKUS:
            raise bad_input(f"At most {MAX_SKUS} skus can be looked up at once.")
        where.append(f"p.sku IN ({placeholders(len(skus))})" if skus else "1 = 0")
        params += skus
    return await keyset_page(
        "product",
        f"SELECT {PRODUCT_COLUMNS} FROM {source}",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
        key=key,
    )


def guest_may_see_product(row: Row) -> bool:
    return row["status"] == PRODUCT_ENABLED and row["visibility"] != VISIBILITY_NOT_VISIBLE


async def product_by_sku(context: Context, sku: str) -> Row | None:
    row = await fetch_one(f"SELECT {PRODUCT_COLUMNS} FROM catalog_product p WHERE p.sku = ?", sku)
    if row is not None and context.principal.is_guest and not guest_may_see_product(row):
        return None
    return row


def _product_categories_batch(context: Context) -> LoadFn:
    active_only = context.principal.is_guest

    async def load(product_ids: list[int]) -> list[list[Row]]:
        sql = (
            f"SELECT pc.product_id, {CATEGORY_COLUMNS} FROM catalog_category_product pc "
            "JOIN catalog_category c ON c.id = pc.category_id "
            f"WHERE pc.product_id IN ({placeholders(len(product_ids))})"
        )
        params: list[Any] = list(product_ids)
        if active_only:
            sql += " AND c.is_active = ?"
            params.append(True)
        by_product: dict[int, list[Row]] = {pid: [] for pid in product_ids}
        for row in await fetch_all(sql + " ORDER BY pc.product_id, pc.position, c.id", *params):
            by_product[row["product_id"]].append(row)
        return [by_product[pid] for pid in product_ids]

    return load


def product_categories(context: Context) -> DataLoader[int, list[Row]]:
    """Product id -> its categories, in one join on the link table per batch."""
    return get_loader(context, "product_categories", _product_categories_batch)


def _category_children_batch(context: Context) -> LoadFn:
    active_only = context.principal.is_guest

    async def load(parent_ids: list[int]) -> list[list[Row]]:
        sql = (
            f"SELECT {CATEGORY_COLUMNS} FROM catalog_category c WHERE c.parent_id IN ({placeholders(len(parent_ids))})"
        )
        params: list[Any] = list(parent_ids)
        if active_only:
            sql += " AND c.is_active = ?"
            params.append(True)
        by_parent: dict[int, list[Row]] = {pid: [] for pid in parent_ids}
        for row in await fetch_all(sql + " ORDER BY c.parent_id, c.position, c.id", *params):
            by_parent[row["parent_id"]].append(row)
        return [by_parent[pid] for pid in parent_ids]

    return load


def category_children(context: Context) -> DataLoader[int, list[Row]]:
    """Category id -> its child categories, one query per tree level whatever the page size."""
    return get_loader(context, "category_children", _category_children_batch)


async def categories_page(context: Context, parent_id: int | None, first: int, after: str | None) -> Page[Row]:
    """The children of ``parent_id``, or the root categories when it is None."""
    where = ["c.parent_id IS NULL" if parent_id is None else "c.parent_id = ?"]
    params: list[Any] = [] if parent_id is None else [parent_id]
    if context.principal.is_guest:
        where.append("c.is_active = ?")
        params.append(True)
    return await keyset_page(
        "category",
        f"SELECT {CATEGORY_COLUMNS} FROM catalog_category c",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
        key="c.id",
    )


async def category_by_id(context: Context, category_id: int) -> Row | None:
    row = await fetch_one(f"SELECT {CATEGORY_COLUMNS} FROM catalog_category c WHERE c.id = ?", category_id)
    if row is not None and context.principal.is_guest and not row["is_active"]:
        return None
    return row


# ------------------------------------------------------------------------------------------ writes


@dataclasses.dataclass(slots=True)
class ProductChanges:
    """Input of createProduct/updateProduct; None means "not given" (unchanged on update)."""

    sku: str | None = None
    name: str | None = None
    price: float | None = None
    status: int | None = None
    visibility: int | None = None
    description: str | None = None
    category_ids: list[int] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ProductResult:
    product: Row | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True, slots=True)
class _Checked:
    values: dict[str, Any]
    category_ids: list[int] | None


def _product_row(product: Product) -> Row:
    return {
        "id": product.id,
        "sku": product.sku,
        "name": product.name,
        "price": product.price,
        "status": product.status,
        "visibility": product.visibility,
        "description": product.description,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


async def _check(
    changes: ProductChanges, *, creating: bool, product_id: int | None = None
) -> tuple[_Checked, list[Problem]]:
    check = InputChecker()
    values: dict[str, Any] = {}
    sku = check.text("sku", changes.sku, max_length=SKU_LENGTH, required=creating)
    name = check.text("name", changes.name, max_length=NAME_LENGTH, required=creating)
    price = check.money("price", changes.price, required=creating, maximum=MAX_PRICE)
    description = check.long_text("description", changes.description, max_length=DESCRIPTION_LENGTH)
    for key, value in (("sku", sku), ("name", name), ("price", price), ("description", description)):
        if value is not None:
            values[key] = value
    if changes.status is not None:
        values["status"] = changes.status
    if changes.visibility is not None:
        values["visibility"] = changes.visibility
    if sku is not None:
        clash = Product.filter(sku=sku)
        if product_id is not None:
            clash = clash.exclude(id=product_id)
        if await clash.exists():
            check.add("sku", f'A product with the SKU "{sku}" already exists.', UNIQUE)
    category_ids = None
    if changes.category_ids is not None:
        category_ids = list(dict.fromkeys(changes.category_ids))
        if len(category_ids) > MAX_CATEGORIES:
            check.add("categoryIds", f"A product can be in at most {MAX_CATEGORIES} categories.", OUT_OF_RANGE)
        elif category_ids:
            known = set(await Category.filter(id__in=category_ids).values_list("id", flat=True))
            unknown = [c for c in category_ids if c not in known]
            if unknown:
                check.add("categoryIds", f"No category with id {', '.join(map(str, unknown))}.", NOT_FOUND)
    return _Checked(values, category_ids), check.problems


def _duplicate_sku(sku: str | None) -> ProductResult:
    return ProductResult(
        problems=[Problem(("input", "sku"), f'A product with the SKU "{sku}" already exists.', UNIQUE)]
    )


async def create_product(changes: ProductChanges) -> ProductResult:
    checked, problems = await _check(changes, creating=True)
    if problems:
        return ProductResult(problems=problems)
    try:
        async with in_transaction() as conn:
            product = await Product.create(using_db=conn, **checked.values)
            await _link_categories(product.id, checked.category_ids or [], conn)
    except IntegrityError:
        return _duplicate_sku(checked.values.get("sku"))
    return ProductResult(product=_product_row(product))


async def update_product(product_id: int, changes: ProductChanges) -> ProductResult:
    product = await Product.get_or_none(id=product_id)
    if product is None:
        return ProductResult(problems=[Problem(("input", "id"), f"No product with id {product_id}.", NOT_FOUND)])
    checked, problems = await _check(changes, creating=False, product_id=product_id)
    if problems:
        return ProductResult(problems=problems)
    try:
        async with in_transaction() as conn:
            for key, value in checked.values.items():
                setattr(product, key, value)
            await product.save(using_db=conn)
            if checked.category_ids is not None:
                await ProductCategory.filter(product_id=product_id).using_db(conn).delete()
                await _link_categories(product_id, checked.category_ids, conn)
    except IntegrityError:
        return _duplicate_sku(checked.values.get("sku"))
    return ProductResult(product=_product_row(product))


async def _link_categories(product_id: int, category_ids: list[int], conn: Any) -> None:
    if category_ids:
        await ProductCategory.bulk_create(
            [ProductCategory(product_id=product_id, category_id=c, position=i) for i, c in enumerate(category_ids)],
            using_db=conn,
        )


async def delete_product(product_id: int) -> list[Problem]:
    if not await Product.filter(id=product_id).delete():
        return [Problem(("id",), f"No product with id {product_id}.", NOT_FOUND)]
    return []
