"""Customers (Magento_Customer::manage; never guests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from models.sql import fetch_all, fetch_one, like_pattern, placeholders
from resolvers.loaders import get_loader
from resolvers.pagination import Ordering, Page, keyset_page

if TYPE_CHECKING:
    from schema.context import Context

Row = dict[str, Any]

CUSTOMERS = Ordering("customer")

CUSTOMER_COLUMNS = "id, email, firstname, lastname, group_id, created_at"


async def customers_page(context: Context, search: str | None, first: int, after: str | None) -> Page:
    where: list[str] = []
    params: list[Any] = []
    search = (search or "").strip()
    if search:
        where.append(
            "(LOWER(email) LIKE ? ESCAPE '\\' OR LOWER(firstname) LIKE ? ESCAPE '\\' "
            "OR LOWER(lastname) LIKE ? ESCAPE '\\')"
        )
        params += [like_pattern(search)] * 3
    return await keyset_page(
        CUSTOMERS,
        f"SELECT {CUSTOMER_COLUMNS} FROM customer_entity",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def customer_by_id(customer_id: int) -> Row | None:
    return await fetch_one(f"SELECT {CUSTOMER_COLUMNS} FROM customer_entity WHERE id = ?", customer_id)


async def _customers(ids: list[int]) -> list[Row | None]:
    rows = await fetch_all(
        f"SELECT {CUSTOMER_COLUMNS} FROM customer_entity WHERE id IN ({placeholders(len(ids))})", *ids
    )
    by_id = {row["id"]: row for row in rows}
    return [by_id.get(i) for i in ids]


def customers_by_id(context: Context) -> DataLoader[int, Row | None]:
    """Customer id -> customer, one query per batch (the customers of a page of orders)."""
    return get_loader(context, "customers_by_id", lambda _context: _customers)
