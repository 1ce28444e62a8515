"""Stores: websites, store groups, store views and store configuration (Magento_Backend::store, guest)."""

from __future__ import annotations

from typing import Any

import strawberry

from resolvers import store as resolve
from resolvers.pagination import DEFAULT_PAGE_SIZE
from schema.directives import Resource, requires
from schema.pagination import PAGE_DESCRIPTION, Connection, connection


@strawberry.type(description="A website: the top of the store hierarchy.")
class Website:
    id: int
    code: str
    name: str
    sort_order: int
    is_default: bool


@strawberry.type(description="A store (group) of a website, with its root category.")
class StoreGroup:
    id: int
    code: str
    name: str
    root_category_id: int


@strawberry.type(description="Configuration of a store view (base URL, locale, currencies, timezone).")
class StoreConfig:
    id: int = strawberry.field(description="The store view id.")
    code: str = strawberry.field(description="The store view code.")
    store_name: str
    website_id: int
    website_code: str
    base_url: str | None
    locale: str | None
    base_currency_code: str | None
    default_display_currency_code: str | None
    timezone: str | None
    weight_unit: str | None


@strawberry.type(description="A store view (a language or presentation of a store).")
class StoreView:
    id: int
    code: str
    name: str
    sort_order: int
    is_active: bool
    website: Website
    group: StoreGroup
    config: StoreConfig


def _config(row: dict[str, Any]) -> StoreConfig:
    return StoreConfig(
        id=row["id"],
        code=row["code"],
        store_name=row["name"],
        website_id=row["website_id"],
        website_code=row["website_code"],
        base_url=row["base_url"],
        locale=row["locale"],
        base_currency_code=row["base_currency_code"],
        default_display_currency_code=row["default_display_currency_code"],
        timezone=row["timezone"],
        weight_unit=row["weight_unit"],
    )


def _view(row: dict[str, Any]) -> StoreView:
    return StoreView(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        sort_order=row["sort_order"],
        is_active=bool(row["is_active"]),
        website=Website(
            id=row["website_id"],
            code=row["website_code"],
            name=row["website_name"],
            sort_order=row["website_sort_order"],
            is_default=bool(row["website_is_default"]),
        ),
        group=StoreGroup(
            id=row["group_id"],
            code=row["group_code"],
            name=row["group_name"],
            root_category_id=row["group_root_category_id"],
        ),
        config=_config(row),
    )


@strawberry.type
class StoreQuery:
    @strawberry.field(
        extensions=[requires(Resource.STORES, guest=True)],
        description="Store views with their website and group. " + PAGE_DESCRIPTION + " Guests see active ones.",
    )
    async def store_views(
        self, info: strawberry.Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[StoreView] | None:
        return connection(await resolve.store_views_page(info.context, first, after), _view)

    @strawberry.field(
        extensions=[requires(Resource.STORES, guest=True)],
        description="Configuration of the store view `storeCode`, or of the default store view when omitted.",
    )
    async def store_config(self, info: strawberry.Info, store_code: str | None = None) -> StoreConfig | None:
        row = await resolve.store_view(info.context, store_code)
        return _config(row) if row is not None else None
