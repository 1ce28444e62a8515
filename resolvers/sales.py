"""Sales orders and their items (Magento_Sales::actions_view; never guests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from strawberry.dataloader import DataLoader

from models.sql import fetch_all, fetch_one, placeholders
from resolvers.loaders import get_loader
from resolvers.pagination import Ordering, Page, keyset_page

if TYPE_CHECKING:
    from schema.context import Context

Row = dict[str, Any]

ORDERS = Ordering("order")

ORDER_COLUMNS = (
    "id, increment_id, status, customer_id, customer_email, currency_code, subtotal, shipping_amount, "
    "grand_total, created_at"
)
ITEM_COLUMNS = "id, order_id, sku, name, qty_ordered, price, row_total"


async def orders_page(context: Context, status: str | None, first: int, after: str | None) -> Page:
    where, params = (["status = ?"], [status]) if status is not None else ([], [])
    return await keyset_page(
        ORDERS,
        f"SELECT {ORDER_COLUMNS} FROM sales_order",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def order_by_increment_id(increment_id: str) -> Row | None:
    return await fetch_one(f"SELECT {ORDER_COLUMNS} FROM sales_order WHERE increment_id = ?", increment_id)


async def _items(order_ids: list[int]) -> list[list[Row]]:
    rows = await fetch_all(
        f"SELECT {ITEM_COLUMNS} FROM sales_order_item WHERE order_id IN ({placeholders(len(order_ids))}) "
        "ORDER BY order_id, id",
        *order_ids,
    )
    by_order: dict[int, list[Row]] = {oid: [] for oid in order_ids}
    for row in rows:
        by_order[row["order_id"]].append(row)
    return [by_order[oid] for oid in order_ids]


def order_items(context: Context) -> DataLoader[int, list[Row]]:
    """Order id -> its items, one indexed query per batch."""
    return get_loader(context, "order_items", lambda _context: _items)
