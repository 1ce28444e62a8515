"""CMS pages and blocks (Magento_Cms::page, Magento_Cms::block; writes Magento_Cms::save and ::page_delete).

Guests see active pages and blocks only: a data filter, the permission was decided before execution.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError

from models import CmsPage
from models.sql import fetch_one
from resolvers.pagination import Page, keyset_page
from resolvers.validation import INVALID, NOT_FOUND, UNIQUE, InputChecker, Problem

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


async def _list(context: Context, kind: str, table: str, columns: str, first: int, after: str | None) -> Page[Row]:
    where, params = (["is_active = ?"], [True]) if context.principal.is_guest else ([], [])
    return await keyset_page(
        kind,
        f"SELECT {columns} FROM {table}",
        where,
        params,
        first=first,
        after=after,
        max_page_size=context.settings.max_page_size,
    )


async def _one(context: Context, table: str, columns: str, identifier: str) -> Row | None:
    row = await fetch_one(f"SELECT {columns} FROM {table} WHERE identifier = ?", identifier)
    if row is not None and context.principal.is_guest and not row["is_active"]:
        return None
    return row


async def pages_page(context: Context, first: int, after: str | None) -> Page[Row]:
    return await _list(context, "cms_page", "cms_page", PAGE_COLUMNS, first, after)


async def page_by_identifier(context: Context, identifier: str) -> Row | None:
    return await _one(context, "cms_page", PAGE_COLUMNS, identifier)


async def blocks_page(context: Context, first: int, after: str | None) -> Page[Row]:
    return await _list(context, "cms_block", "cms_block", BLOCK_COLUMNS, first, after)


async def block_by_identifier(context: Context, identifier: str) -> Row | None:
    return await _one(context, "cms_block", BLOCK_COLUMNS, identifier)


# ------------------------------------------------------------------------------------------ writes


@dataclasses.dataclass(slots=True)
class PageChanges:
    """Input of createCmsPage/updateCmsPage; None means "not given" (unchanged on update)."""

    identifier: str | None = None
    title: str | None = None
    content_heading: str | None = None
    content: str | None = None
    is_active: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class PageResult:
    page: Row | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)


def _page_row(page: CmsPage) -> Row:
    return {name: getattr(page, name) for name in PAGE_COLUMNS.split(", ")}


def _duplicate(identifier: str | None) -> Problem:
    return Problem(("input", "identifier"), f'A page with the URL key "{identifier}" already exists.', UNIQUE)


async def _check(
    changes: PageChanges, *, creating: bool, page_id: int | None = None
) -> tuple[dict[str, Any], list[Problem]]:
    check = InputChecker()
    identifier = check.text("identifier", changes.identifier, max_length=IDENTIFIER_LENGTH, required=creating)
    if identifier is not None and (not IDENTIFIER.fullmatch(identifier) or identifier.isdigit()):
        check.add(
            "identifier",
            "The URL key may contain lower-case letters, digits, '-', '_', '.' and '/', and not only digits.",
            INVALID,
        )
        identifier = None
    title = check.text("title", changes.title, max_length=TITLE_LENGTH, required=creating)
    heading = check.long_text("contentHeading", changes.content_heading, max_length=TITLE_LENGTH)
    content = check.long_text("content", changes.content, max_length=CONTENT_LENGTH)
    if identifier is not None:
        clash = CmsPage.filter(identifier=identifier)
        if page_id is not None:
            clash = clash.exclude(id=page_id)
        if await clash.exists():
            check.problems.append(_duplicate(identifier))
    values = {
        key: value
        for key, value in (
            ("identifier", identifier),
            ("title", title),
            ("content_heading", heading),
            ("content", content),
            ("is_active", changes.is_active),
        )
        if value is not None
    }
    return values, check.problems


async def create_page(changes: PageChanges) -> PageResult:
    values, problems = await _check(changes, creating=True)
    if problems:
        return PageResult(problems=problems)
    try:
        page = await CmsPage.create(**values)
    except IntegrityError:
        return PageResult(problems=[_duplicate(values.get("identifier"))])
    return PageResult(page=_page_row(page))


async def update_page(page_id: int, changes: PageChanges) -> PageResult:
    page = await CmsPage.get_or_none(id=page_id)
    if page is None:
        return PageResult(problems=[Problem(("input", "id"), f"No CMS page with id {page_id}.", NOT_FOUND)])
    values, problems = await _check(changes, creating=False, page_id=page_id)
    if problems:
        return PageResult(problems=problems)
    for key, value in values.items():
        setattr(page, key, value)
    try:
        await page.save()
    except IntegrityError:
        return PageResult(problems=[_duplicate(values.get("identifier"))])
    return PageResult(page=_page_row(page))


async def delete_page(page_id: int) -> list[Problem]:
    if not await CmsPage.filter(id=page_id).delete():
        return [Problem(("id",), f"No CMS page with id {page_id}.", NOT_FOUND)]
    return []
