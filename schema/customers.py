"""Customers (Magento_Customer::manage). Never open to guests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from models.values import as_datetime
from resolvers import customers as resolve
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.directives import Resource, requires
from schema.pagination import PAGE_DESCRIPTION, Connection, connection


@strawberry.type(description="A customer account.")
class Customer:
    id: int
    email: str
    firstname: str
    lastname: str
    group_id: int = strawberry.field(description="Customer group: 1 General, 2 Wholesale, 3 Retailer.")
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Customer:
        return cls(
            id=row["id"],
            email=row["email"],
            firstname=row["firstname"],
            lastname=row["lastname"],
            group_id=row["group_id"],
            created_at=as_datetime(row["created_at"]),
        )


@strawberry.type
class CustomerQuery:
    @strawberry.field(
        extensions=[requires(Resource.CUSTOMERS)],
        description="Customers in id order, optionally those whose email or name contains `search`. "
        + PAGE_DESCRIPTION,
    )
    async def customers(
        self,
        info: strawberry.Info,
        first: int = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Customer] | None:
        return connection(await resolve.customers_page(info.context, search, first, after), Customer.from_row)

    @strawberry.field(extensions=[requires(Resource.CUSTOMERS)], description="One customer by id.")
    async def customer(self, id: int) -> Customer | None:
        row = await resolve.customer_by_id(id)
        return Customer.from_row(row) if row is not None else None
