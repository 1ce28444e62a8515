"""Catalog: products and categories. Guests may read them while Allow Anonymous Guest Access is on."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, cast

import strawberry

from models.store import (
    PRODUCT_DISABLED,
    PRODUCT_ENABLED,
    VISIBILITY_BOTH,
    VISIBILITY_CATALOG,
    VISIBILITY_NOT_VISIBLE,
    VISIBILITY_SEARCH,
)
from models.values import as_datetime, as_float
from resolvers import catalog as resolve
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.problems import Outcome
from schema.core import UserError, user_errors
from schema.directives import Resource, requires
from schema.pagination import PAGE_DESCRIPTION, Connection, connection
from schema.selections import selects


@strawberry.enum(description="Enable Product.")
class ProductStatus(enum.Enum):
    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


@strawberry.enum(description="Where the storefront shows the product (Magento's Visibility attribute).")
class ProductVisibility(enum.Enum):
    NOT_VISIBLE_INDIVIDUALLY = "NOT_VISIBLE_INDIVIDUALLY"
    CATALOG = "CATALOG"
    SEARCH = "SEARCH"
    CATALOG_SEARCH = "CATALOG_SEARCH"


STATUS_FROM_DB = {PRODUCT_ENABLED: ProductStatus.ENABLED, PRODUCT_DISABLED: ProductStatus.DISABLED}
STATUS_TO_DB = {v: k for k, v in STATUS_FROM_DB.items()}
VISIBILITY_FROM_DB = {
    VISIBILITY_NOT_VISIBLE: ProductVisibility.NOT_VISIBLE_INDIVIDUALLY,
    VISIBILITY_CATALOG: ProductVisibility.CATALOG,
    VISIBILITY_SEARCH: ProductVisibility.SEARCH,
    VISIBILITY_BOTH: ProductVisibility.CATALOG_SEARCH,
}
VISIBILITY_TO_DB = {v: k for k, v in VISIBILITY_FROM_DB.items()}


@strawberry.type(description="A catalog category; `children` walks the tree.")
class Category:
    id: int
    parent_id: int | None
    name: str
    url_key: str
    path: str = strawberry.field(description='Ids from the root down to this category, e.g. "1/3/7".')
    level: int
    position: int
    is_active: bool

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Category:
        return cls(
            id=row["id"],
            parent_id=row["parent_id"],
            name=row["name"],
            url_key=row["url_key"],
            path=row["path"],
            level=row["level"],
            position=row["position"],
            is_active=bool(row["is_active"]),
        )

    @strawberry.field(description="Child categories by position (guests see active ones only).")
    async def children(self, info: strawberry.Info) -> list[Category]:
        rows = await resolve.category_children(info.context).load(self.id)
        return [Category.from_row(row) for row in rows]


@strawberry.type(description="A catalog product.")
class Product:
    id: int
    sku: str
    name: str
    price: float
    status: ProductStatus
    visibility: ProductVisibility
    description: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Product:
        return cls(
            id=row["id"],
            sku=row["sku"],
            name=row["name"],
            price=as_float(row["price"]),
            status=STATUS_FROM_DB[row["status"]],
            visibility=VISIBILITY_FROM_DB[row["visibility"]],
            description=row["description"],
            created_at=as_datetime(row["created_at"]),
            updated_at=as_datetime(row["updated_at"]),
        )

    #: The product's category rows when its page loaded them for every product at once (None: load on demand).
    category_rows: strawberry.Private[list[dict[str, Any]] | None] = None

    @strawberry.field(
        extensions=[requires(Resource.CATEGORIES, guest=True)],
        description="The categories the product is in (guests see active ones only).",
    )
    def categories(self, info: strawberry.Info) -> list[Category] | None:
        # Rows its page loaded are answered at once: no awaitable per product for graphql-core to complete. Else
        # the request's DataLoader batches the products' look-ups (an awaitable, which graphql-core awaits).
        if self.category_rows is not None:
            return [Category.from_row(row) for row in self.category_rows]
        return cast("list[Category]", self._load_categories(info))

    async def _load_categories(self, info: strawberry.Info) -> list[Category]:
        rows = await resolve.product_categories(info.context).load(self.id)
        return [Category.from_row(row) for row in rows]


@strawberry.input(description="All given conditions must hold.")
class ProductFilterInput:
    search: str | None = strawberry.field(default=None, description="Part of the name or SKU, any case.")
    category_id: int | None = None
    skus: list[str] | None = strawberry.field(default=None, description="Exact SKUs (at most 500).")


@strawberry.input
class CreateProductInput:
    sku: str | None = strawberry.field(default=None, description="Required, unique, at most 64 characters.")
    name: str | None = strawberry.field(default=None, description="Required, at most 255 characters.")
    price: float | None = strawberry.field(default=None, description="Required, zero or more (rounded to cents).")
    status: ProductStatus = ProductStatus.ENABLED
    visibility: ProductVisibility = ProductVisibility.CATALOG_SEARCH
    description: str = ""
    category_ids: list[int] = strawberry.field(default_factory=list)


@strawberry.input(description="Fields left out (or null) keep their values; `categoryIds` replaces the list.")
class UpdateProductInput:
    id: int
    sku: str | None = None
    name: str | None = None
    price: float | None = None
    status: ProductStatus | None = None
    visibility: ProductVisibility | None = None
    description: str | None = None
    category_ids: list[int] | None = None


@strawberry.type
class ProductPayload:
    product: Product | None
    user_errors: list[UserError]


@strawberry.type
class DeleteProductPayload:
    deleted_id: int | None
    user_errors: list[UserError]


def _denied(info: strawberry.Info, coordinate: str) -> bool:
    """Whether access control refused ``coordinate`` for this operation (its guard raises; nothing to load)."""
    denied = info.context.denied
    return denied is not None and coordinate in denied


def _changes(data: CreateProductInput | UpdateProductInput) -> resolve.ProductChanges:
    return resolve.ProductChanges(
        sku=data.sku,
        name=data.name,
        price=data.price,
        status=STATUS_TO_DB[data.status] if data.status is not None else None,
        visibility=VISIBILITY_TO_DB[data.visibility] if data.visibility is not None else None,
        description=data.description,
        category_ids=data.category_ids,
    )


def _payload(outcome: Outcome[dict[str, Any]]) -> ProductPayload:
    product = Product.from_row(outcome.value) if outcome.value is not None else None
    return ProductPayload(product=product, user_errors=user_errors(outcome.problems))


@strawberry.type
class CatalogQuery:
    @strawberry.field(
        extensions=[requires(Resource.PRODUCTS, guest=True)],
        description="Products in id order. " + PAGE_DESCRIPTION + " Guests see enabled products visible in "
        "the catalog (in search results: visible in search).",
    )
    async def products(
        self,
        info: strawberry.Info,
        filter: ProductFilterInput | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Product] | None:
        criteria = (
            resolve.ProductFilter(filter.search, filter.category_id, filter.skus) if filter else resolve.ProductFilter()
        )
        page = await resolve.products_page(info.context, criteria, first, after)
        products = connection(page, Product.from_row)
        if selects(info, "edges", "node", "categories") and not _denied(info, "Product.categories"):
            # The page's categories in the page's own batch (the DataLoader's, one query) rather than one awaitable
            # per product.
            loaded = await resolve.product_categories(info.context).load_many([e.node.id for e in products.edges])
            for edge, rows in zip(products.edges, loaded, strict=True):
                edge.node.category_rows = rows
        return products

    @strawberry.field(
        extensions=[requires(Resource.PRODUCTS, guest=True)],
        description="One product by SKU; null when there is none (or, for guests, when it is disabled or not "
        "visible individually).",
    )
    async def product(self, info: strawberry.Info, sku: str) -> Product | None:
        row = await resolve.product_by_sku(info.context, sku)
        return Product.from_row(row) if row is not None else None

    @strawberry.field(
        extensions=[requires(Resource.CATEGORIES, guest=True)],
        description="Categories under `parentId` (the root categories when omitted); walk deeper with "
        "`children`. " + PAGE_DESCRIPTION + " Guests see active categories only.",
    )
    async def categories(
        self,
        info: strawberry.Info,
        parent_id: int | None = None,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[Category] | None:
        page = await resolve.categories_page(info.context, parent_id, first, after)
        return connection(page, Category.from_row)

    @strawberry.field(extensions=[requires(Resource.CATEGORIES, guest=True)], description="One category by id.")
    async def category(self, info: strawberry.Info, id: int) -> Category | None:
        row = await resolve.category_by_id(info.context, id)
        return Category.from_row(row) if row is not None else None


@strawberry.type
class CatalogMutation:
    @strawberry.mutation(extensions=[requires(Resource.PRODUCTS)], description="Add a product to the catalog.")
    async def create_product(self, input: CreateProductInput) -> ProductPayload:
        return _payload(await resolve.create_product(_changes(input)))

    @strawberry.mutation(
        extensions=[requires(Resource.PRODUCTS)], description="Change a product; nothing is saved on errors."
    )
    async def update_product(self, input: UpdateProductInput) -> ProductPayload:
        return _payload(await resolve.update_product(input.id, _changes(input)))

    @strawberry.mutation(
        extensions=[requires(Resource.PRODUCTS)], description="Delete a product and its category links."
    )
    async def delete_product(self, id: int) -> DeleteProductPayload:
        outcome = await resolve.delete_product(id)
        return DeleteProductPayload(deleted_id=outcome.value, user_errors=user_errors(outcome.problems))
