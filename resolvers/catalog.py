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

from auth.resources import Resource
from errors import bad_user_input
from models import Category, Product, ProductCategory
from models.data_version import data_changed
from models.sql import fetch_all, fetch_one, like_pattern, placeholders
from models.store import (
    PRODUCT_ENABLED,
    VISIBILITY_BOTH,
    VISIBILITY_CATALOG,
    VISIBILITY_NOT_VISIBLE,
    VISIBILITY_SEARCH,
)
from resolvers.loaders import LoadFn, get_loader
from resolvers.pagination import Ordering, Page, keyset_page
from resolvers.problems import Outcome, UserErrorCode
from resolvers.validation import InputChecker, given
from resolvers.webhooks import outbox
from resolvers.webhooks.events import WebhookEventType

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

PRODUCTS = Ordering("product", id="p.id")
#: Products of one category: the (category_id, product_id) index gives both the filter and the order.
CATEGORY_PRODUCTS = Ordering("product", id="pc.product_id")
CATEGORIES = Ordering("category", id="c.id")


@dataclasses.dataclass(frozen=True, slots=True)
class ProductFilter:
    search: str | None = None
    category_id: int | None = None
    skus: list[str] | None = None


async def products_page(context: Context, filter: ProductFilter, first: int, after: str | None) -> Page:
    where: list[str] = []
    params: list[Any] = []
    if filter.category_id is not None:
        source = "catalog_category_product pc JOIN catalog_product p ON p.id = pc.product_id"
        ordering = CATEGORY_PRODUCTS
        where.append("pc.category_id = ?")
        params.append(filter.category_id)
    else:
        source, ordering = "catalog_product p", PRODUCTS
    search = (filter.search or "").strip()
    if context.principal.sees_as_guest(Resource.PRODUCTS):
        if filter.category_id is not None:
            # A guest never sees an inactive category, nor lists its products through the filter.
            where.append("EXISTS (SELECT 1 FROM catalog_category c WHERE c.id = pc.category_id AND c.is_active = ?)")
            params.append(True)
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
            raise bad_user_input(f"At most {MAX_SKUS} skus can be looked up at once.")
        where.append(f"p.sku IN ({placeholders(len(skus))})" if skus else "1 = 0")
        params += skus
    return await keyset_page(
        ordering,
        f"SELECT {PRODUCT_COLUMNS} FROM {source}",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


def guest_may_see_product(row: Row) -> bool:
    return row["status"] == PRODUCT_ENABLED and row["visibility"] != VISIBILITY_NOT_VISIBLE


async def product_by_sku(context: Context, sku: str) -> Row | None:
    row = await fetch_one(f"SELECT {PRODUCT_COLUMNS} FROM catalog_product p WHERE p.sku = ?", sku)
    if row is not None and context.principal.sees_as_guest(Resource.PRODUCTS) and not guest_may_see_product(row):
        return None
    return row


def _product_categories_batch(context: Context) -> LoadFn:
    active_only = context.principal.sees_as_guest(Resource.CATEGORIES)

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
    active_only = context.principal.sees_as_guest(Resource.CATEGORIES)

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


async def categories_page(context: Context, parent_id: int | None, first: int, after: str | None) -> Page:
    """The children of ``parent_id``, or the root categories when it is None."""
    where = ["c.parent_id IS NULL" if parent_id is None else "c.parent_id = ?"]
    params: list[Any] = [] if parent_id is None else [parent_id]
    if context.principal.sees_as_guest(Resource.CATEGORIES):
        where.append("c.is_active = ?")
        params.append(True)
    return await keyset_page(
        CATEGORIES,
        f"SELECT {CATEGORY_COLUMNS} FROM catalog_category c",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def category_by_id(context: Context, category_id: int) -> Row | None:
    row = await fetch_one(f"SELECT {CATEGORY_COLUMNS} FROM catalog_category c WHERE c.id = ?", category_id)
    if row is not None and context.principal.sees_as_guest(Resource.CATEGORIES) and not row["is_active"]:
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
class _Checked:
    values: dict[str, Any]
    category_ids: list[int] | None


def _product_row(product: Product) -> Row:
    return {name: getattr(product, name) for name in PRODUCT_COLUMNS.replace("p.", "").split(", ")}


def _sku_taken(sku: str | None) -> str:
    return f'A product with the SKU "{sku}" already exists.'


async def _check(
    check: InputChecker, changes: ProductChanges, *, creating: bool, product_id: int | None = None
) -> _Checked:
    sku = check.text("sku", changes.sku, max_length=SKU_LENGTH, required=creating)
    values = given(
        sku=sku,
        name=check.text("name", changes.name, max_length=NAME_LENGTH, required=creating),
        price=check.money("price", changes.price, required=creating, maximum=MAX_PRICE),
        description=check.long_text("description", changes.description, max_length=DESCRIPTION_LENGTH),
        status=changes.status,
        visibility=changes.visibility,
    )
    if sku is not None:
        await check.unique("sku", Product.filter(sku=sku), message=_sku_taken(sku), exclude_id=product_id)
    return _Checked(values, await _category_ids(check, changes.category_ids))


async def _category_ids(check: InputChecker, given_ids: list[int] | None) -> list[int] | None:
    """The product's categories, once each; all of them must exist."""
    if given_ids is None:
        return None
    category_ids = list(dict.fromkeys(given_ids))
    if len(category_ids) > MAX_CATEGORIES:
        message = f"A product can be in at most {MAX_CATEGORIES} categories."
        check.add("category_ids", message, UserErrorCode.OUT_OF_RANGE)
    elif category_ids:
        known = set(await Category.filter(id__in=category_ids).values_list("id", flat=True))
        unknown = [c for c in category_ids if c not in known]
        if unknown:
            message = f"No category with id {', '.join(map(str, unknown))}."
            check.add("category_ids", message, UserErrorCode.NOT_FOUND)
    return category_ids


async def create_product(changes: ProductChanges) -> Outcome[Row]:
    check = InputChecker()
    checked = await _check(check, changes, creating=True)
    if check.problems:
        return Outcome(problems=check.problems)
    try:
        async with outbox.transaction() as events:
            product = await Product.create(using_db=events.conn, **checked.values)
            await _link_categories(product.id, checked.category_ids or [], events.conn)
            await events.record(WebhookEventType.PRODUCT_CREATED, _product_row(product))
            await data_changed(events.conn, Resource.PRODUCTS)
    except IntegrityError:
        return Outcome.refused(("input", "sku"), _sku_taken(checked.values.get("sku")), UserErrorCode.UNIQUE)
    return Outcome(_product_row(product))


async def update_product(product_id: int, changes: ProductChanges) -> Outcome[Row]:
    product = await Product.get_or_none(id=product_id)
    if product is None:
        return Outcome.refused(("input", "id"), f"No product with id {product_id}.", UserErrorCode.NOT_FOUND)
    check = InputChecker()
    checked = await _check(check, changes, creating=False, product_id=product_id)
    if check.problems:
        return Outcome(problems=check.problems)
    try:
        async with outbox.transaction() as events:
            for key, value in checked.values.items():
                setattr(product, key, value)
            await product.save(using_db=events.conn)
            if checked.category_ids is not None:
                await ProductCategory.filter(product_id=product_id).using_db(events.conn).delete()
                await _link_categories(product_id, checked.category_ids, events.conn)
            await events.record(WebhookEventType.PRODUCT_UPDATED, _product_row(product))
            await data_changed(events.conn, Resource.PRODUCTS)
    except IntegrityError:
        return Outcome.refused(("input", "sku"), _sku_taken(checked.values.get("sku")), UserErrorCode.UNIQUE)
    return Outcome(_product_row(product))


async def _link_categories(product_id: int, category_ids: list[int], conn: Any) -> None:
    if category_ids:
        await ProductCategory.bulk_create(
            [ProductCategory(product_id=product_id, category_id=c, position=i) for i, c in enumerate(category_ids)],
            using_db=conn,
        )


#: The product as it was, read by the statement that deletes it (its category links go by cascade).
_DELETE_PRODUCT = f"DELETE FROM catalog_product WHERE id = ? RETURNING {PRODUCT_COLUMNS.replace('p.', '')}"


async def delete_product(product_id: int) -> Outcome[int]:
    """The deleted product's id; its subscribers get the product as it was."""
    async with outbox.transaction() as events:
        deleted = await fetch_all(_DELETE_PRODUCT, product_id, conn=events.conn)
        if deleted:
            await events.record(WebhookEventType.PRODUCT_DELETED, deleted[0])
            await data_changed(events.conn, Resource.PRODUCTS)
    if not deleted:
        return Outcome.refused(("id",), f"No product with id {product_id}.", UserErrorCode.NOT_FOUND)
    return Outcome(product_id)
