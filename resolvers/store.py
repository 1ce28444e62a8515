"""Websites, store groups, store views and their configuration (Magento_Backend::store).

A store view comes with its website, group and config in one join: the lists are short, and one query
per page is cheaper than three loaders. Guests see active store views only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auth.resources import Resource
from models.sql import fetch_one
from resolvers.pagination import Ordering, Page, keyset_page

if TYPE_CHECKING:
    from schema.context import Context

Row = dict[str, Any]

STORE_VIEWS = Ordering("store_view", id="v.id")

VIEW_SELECT = (
    "SELECT v.id, v.code, v.name, v.sort_order, v.is_active, "
    "w.id AS website_id, w.code AS website_code, w.name AS website_name, w.sort_order AS website_sort_order, "
    "w.is_default AS website_is_default, "
    "g.id AS group_id, g.code AS group_code, g.name AS group_name, g.root_category_id AS group_root_category_id, "
    "c.id AS config_id, c.base_url, c.locale, c.base_currency_code, c.default_display_currency_code, c.timezone, "
    "c.weight_unit "
    "FROM store_view v JOIN store_website w ON w.id = v.website_id JOIN store_group g ON g.id = v.group_id "
    "LEFT JOIN store_config c ON c.store_view_id = v.id"
)


def _visibility(context: Context) -> tuple[list[str], list[Any]]:
    return (["v.is_active = ?"], [True]) if context.principal.sees_as_guest(Resource.STORES) else ([], [])


async def store_views_page(context: Context, first: int, after: str | None) -> Page:
    where, params = _visibility(context)
    return await keyset_page(
        STORE_VIEWS,
        VIEW_SELECT,
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def store_view(context: Context, code: str | None) -> Row | None:
    """The store view with this code, or the default one (default website, lowest sort order)."""
    where, params = _visibility(context)
    if code is not None:
        where.append("v.code = ?")
        params.append(code)
    sql = VIEW_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    return await fetch_one(sql + " ORDER BY w.is_default DESC, v.sort_order, v.id LIMIT 1", *params)
