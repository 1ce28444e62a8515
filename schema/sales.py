"""Sales orders (Magento_Sales::actions_view). Never open to guests; the buyer needs Magento_Customer::manage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from models.values import as_datetime, as_float
from resolvers import customers as customer_resolvers
from resolvers import sales as resolve
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.customers import Customer
from schema.directives import Resource, requires
from schema.pagination import PAGE_DESCRIPTION, Connection, connection


@strawberry.type(description="A line of an order.")
class OrderItem:
    id: int
    sku: str
    name: str
    qty_ordered: int
    price: float
    row_total: float

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OrderItem:
        return cls(
            id=row["id"],
            sku=row["sku"],
            name=row["name"],
            qty_ordered=row["qty_ordered"],
            price=as_float(row["price"]),
            row_total=as_float(row["row_total"]),
        )


@strawberry.type(description="A sales order.")
class Order:
    id: int
    increment_id: str = strawberry.field(description="The order number shown to customers.")
    status: str = strawberry.field(description="pending, processing, complete, canceled, closed or holded.")
    customer_email: str
    currency_code: str
    subtotal: float
    shipping_amount: float
    grand_total: float
    created_at: dt.datetime
    customer_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Order:
        return cls(
            id=row["id"],
            increment_id=row["increment_id"],
            status=row["status"],
            customer_email=row["customer_email"],
            currency_code=row["currency_code"],
            subtotal=as_float(row["subtotal"]),
            shipping_amount=as_float(row["shipping_amount"]),
            grand_total=as_float(row["grand_total"]),
            created_at=as_datetime(row["created_at"]),
            customer_id=row["customer_id"],
        )

    @strawberry.field(description="The order lines.")
    async def items(self, info: strawberry.Info) -> list[OrderItem]:
        rows = await resolve.order_items(info.context).load(self.id)
        return [OrderItem.from_row(row) for row in rows]

    @strawberry.field(
        extensions=[requires(Resource.CUSTOMERS)],
        description="The customer account that placed the order; null for guest checkouts.",
    )
    async def customer(self, info: strawberry.Info) -> Customer | None:
        if self.customer_id is None:
            return None
        row = await customer_resolvers.customers_by_id(info.context).load(self.customer_id)
        return Customer.from_row(row) if row is not None else None


@strawberry.type
class SalesQuery:
    @strawberry.field(
        extensions=[requires(Resource.ORDERS_VIEW)],
        description="Orders in id order, optionally only those with `status`. " + PAGE_DESCRIPTION,
    )
    async def orders(
        self,
        info: strawberry.Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        status: str | None = None,
    ) -> Connection[Order] | None:
        return connection(await resolve.orders_page(info.context, status, first, after), Order.from_row)

    @strawberry.field(extensions=[requires(Resource.ORDERS_VIEW)], description="One order by its number.")
    async def order(self, increment_id: str) -> Order | None:
        row = await resolve.order_by_increment_id(increment_id)
        return Order.from_row(row) if row is not None else None
