"""CMS pages and blocks (Magento_Cms::page, Magento_Cms::block; writes Magento_Cms::save and ::page_delete).

Guests see active pages and blocks only: a data filter, the permission was decided before execution.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from auth.resources import Resource
from models import CmsPage
from models.data_version import data_changed
from models.sql import fetch_all, fetch_one
from resolvers.pagination import Ordering, Page, keyset_page
from resolvers.problems import Outcome, UserErrorCode
from resolvers.validation import InputChecker, given
from resolvers.webhooks import outbox
from resolvers.webhooks.events import WebhookEventType

if TYPE_CHECKING:
    from schema.context import Context

Row = dict[str, Any]

PAGE_COLUMNS = "id, identifier, title, content_heading, content, is_active, created_at, updated_at"
BLOCK_COLUMNS = "id, identifier, title, content, is_active, created_at, updated_at"

IDENTIFIER_LENGTH = 100
TITLE_LENGTH = 255
CONTENT_LENGTH = 1_000_000
#: Magento's URL key rule: lower-case letters, digits, "-", "_", "." and "/" (not only digits).
IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_./-]*")


async def _list(context: Context, resource: Resource, table: str, columns: str, first: int, after: str | None) -> Page:
    where, params = (["is_active = ?"], [True]) if context.principal.sees_as_guest(resource) else ([], [])
    return await keyset_page(
        Ordering(table),
        f"SELECT {columns} FROM {table}",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def _one(context: Context, resource: Resource, table: str, columns: str, identifier: str) -> Row | None:
    row = await fetch_one(f"SELECT {columns} FROM {table} WHERE identifier = ?", identifier)
    if row is not None and context.principal.sees_as_guest(resource) and not row["is_active"]:
        return None
    return row


async def pages_page(context: Context, first: int, after: str | None) -> Page:
    return await _list(context, Resource.CMS_PAGES, "cms_page", PAGE_COLUMNS, first, after)


async def page_by_identifier(context: Context, identifier: str) -> Row | None:
    return await _one(context, Resource.CMS_PAGES, "cms_page", PAGE_COLUMNS, identifier)


async def blocks_page(context: Context, first: int, after: str | None) -> Page:
    return await _list(context, Resource.CMS_BLOCKS, "cms_block", BLOCK_COLUMNS, first, after)


async def block_by_identifier(context: Context, identifier: str) -> Row | None:
    return await _one(context, Resource.CMS_BLOCKS, "cms_block", BLOCK_COLUMNS, identifier)


# ------------------------------------------------------------------------------------------ writes


@dataclasses.dataclass(slots=True)
class PageChanges:
    """Input of createCmsPage/updateCmsPage; None means "not given" (unchanged on update)."""

    identifier: str | None = None
    title: str | None = None
    content_heading: str | None = None
    content: str | None = None
    is_active: bool | None = None


def _page_row(page: CmsPage) -> Row:
    return {name: getattr(page, name) for name in PAGE_COLUMNS.split(", ")}


def _identifier_taken(identifier: str | None) -> str:
    return f'A page with the URL key "{identifier}" already exists.'


def _duplicate(identifier: str | None) -> Outcome[Row]:
    return Outcome.refused(("input", "identifier"), _identifier_taken(identifier), UserErrorCode.UNIQUE)


async def _check(check: InputChecker, changes: PageChanges, *, creating: bool, page_id: int | None = None) -> Row:
    """The columns to write."""
    identifier = check.text("identifier", changes.identifier, max_length=IDENTIFIER_LENGTH, required=creating)
    if identifier is not None and (not IDENTIFIER.fullmatch(identifier) or identifier.isdigit()):
        check.add(
            "identifier",
            "The URL key may contain lower-case letters, digits, '-', '_', '.' and '/', and not only digits.",
            UserErrorCode.INVALID,
        )
        identifier = None
    values = given(
        identifier=identifier,
        title=check.text("title", changes.title, max_length=TITLE_LENGTH, required=creating),
        content_heading=check.long_text("content_heading", changes.content_heading, max_length=TITLE_LENGTH),
        content=check.long_text("content", changes.content, max_length=CONTENT_LENGTH),
        is_active=changes.is_active,
    )
    if identifier is not None:
        same = CmsPage.filter(identifier=identifier)
        await check.unique("identifier", same, message=_identifier_taken(identifier), exclude_id=page_id)
    return values


async def create_page(changes: PageChanges) -> Outcome[Row]:
    check = InputChecker()
    values = await _check(check, changes, creating=True)
    if check.problems:
        return Outcome(problems=check.problems)
    try:
        async with outbox.transaction() as events:
            page = await CmsPage.create(using_db=events.conn, **values)
            await events.record(WebhookEventType.CMS_PAGE_CREATED, _page_row(page))
            await data_changed(events.conn, Resource.CMS_PAGES)
    except IntegrityError:
        return _duplicate(values.get("identifier"))
    return Outcome(_page_row(page))


async def update_page(page_id: int, changes: PageChanges) -> Outcome[Row]:
    page = await CmsPage.get_or_none(id=page_id)
    if page is None:
        return Outcome.refused(("input", "id"), f"No CMS page with id {page_id}.", UserErrorCode.NOT_FOUND)
    check = InputChecker()
    values = await _check(check, changes, creating=False, page_id=page_id)
    if check.problems:
        return Outcome(problems=check.problems)
    for key, value in values.items():
        setattr(page, key, value)
    try:
        async with outbox.transaction() as events:
            await page.save(using_db=events.conn)
            await events.record(WebhookEventType.CMS_PAGE_UPDATED, _page_row(page))
            await data_changed(events.conn, Resource.CMS_PAGES)
    except IntegrityError:
        return _duplicate(values.get("identifier"))
    return Outcome(_page_row(page))


#: The page as it was, read by the statement that deletes it.
_DELETE_PAGE = f"DELETE FROM cms_page WHERE id = ? RETURNING {PAGE_COLUMNS}"


async def delete_page(page_id: int) -> Outcome[int]:
    """The deleted page's id; its subscribers get the page as it was."""
    async with outbox.transaction() as events:
        deleted = await fetch_all(_DELETE_PAGE, page_id, conn=events.conn)
        if deleted:
            await events.record(WebhookEventType.CMS_PAGE_DELETED, deleted[0])
            await data_changed(events.conn, Resource.CMS_PAGES)
    if not deleted:
        return Outcome.refused(("id",), f"No CMS page with id {page_id}.", UserErrorCode.NOT_FOUND)
    return Outcome(page_id)
