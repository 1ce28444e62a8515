"""Content: CMS pages and blocks. Guests may read active ones while Allow Anonymous Guest Access is on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from models.values import as_datetime
from resolvers import cms as resolve
from resolvers.pagination import DEFAULT_PAGE_SIZE
from resolvers.problems import Outcome
from schema.core import UserError, user_errors
from schema.directives import Resource, requires
from schema.pagination import PAGE_DESCRIPTION, Connection, connection


@strawberry.type(description="A CMS page.")
class CmsPage:
    id: int
    identifier: str = strawberry.field(description="The page's URL key.")
    title: str
    content_heading: str
    content: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CmsPage:
        return cls(
            id=row["id"],
            identifier=row["identifier"],
            title=row["title"],
            content_heading=row["content_heading"],
            content=row["content"],
            is_active=bool(row["is_active"]),
            created_at=as_datetime(row["created_at"]),
            updated_at=as_datetime(row["updated_at"]),
        )


@strawberry.type(description="A CMS block (a piece of content placed on pages).")
class CmsBlock:
    id: int
    identifier: str
    title: str
    content: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> CmsBlock:
        return cls(
            id=row["id"],
            identifier=row["identifier"],
            title=row["title"],
            content=row["content"],
            is_active=bool(row["is_active"]),
            created_at=as_datetime(row["created_at"]),
            updated_at=as_datetime(row["updated_at"]),
        )


@strawberry.input
class CreateCmsPageInput:
    identifier: str | None = strawberry.field(
        default=None,
        description="Required URL key, unique, at most 100 characters: lower-case letters, digits, '-', '_', "
        "'.' and '/'.",
    )
    title: str | None = strawberry.field(default=None, description="Required, at most 255 characters.")
    content_heading: str = ""
    content: str = ""
    is_active: bool = True


@strawberry.input(description="Fields left out (or null) keep their values.")
class UpdateCmsPageInput:
    id: int
    identifier: str | None = None
    title: str | None = None
    content_heading: str | None = None
    content: str | None = None
    is_active: bool | None = None


@strawberry.type
class CmsPagePayload:
    cms_page: CmsPage | None = strawberry.field(
        extensions=[requires(Resource.CMS_PAGES)],
        description="The page as saved (reading it back needs the pages resource, as `cmsPages` does).",
    )
    user_errors: list[UserError]


@strawberry.type
class DeleteCmsPagePayload:
    deleted_id: int | None
    user_errors: list[UserError]


def _changes(data: CreateCmsPageInput | UpdateCmsPageInput) -> resolve.PageChanges:
    return resolve.PageChanges(
        identifier=data.identifier,
        title=data.title,
        content_heading=data.content_heading,
        content=data.content,
        is_active=data.is_active,
    )


def _payload(outcome: Outcome[dict[str, Any]]) -> CmsPagePayload:
    page = CmsPage.from_row(outcome.value) if outcome.value is not None else None
    return CmsPagePayload(cms_page=page, user_errors=user_errors(outcome.problems))


@strawberry.type
class CmsQuery:
    @strawberry.field(
        extensions=[requires(Resource.CMS_PAGES, guest=True)],
        description="CMS pages in id order. " + PAGE_DESCRIPTION + " Guests see active pages only.",
    )
    async def cms_pages(
        self, info: strawberry.Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[CmsPage] | None:
        return connection(await resolve.pages_page(info.context, first, after), CmsPage.from_row)

    @strawberry.field(
        extensions=[requires(Resource.CMS_PAGES, guest=True)],
        description="One CMS page by URL key; null when there is none (or, for guests, when it is inactive).",
    )
    async def cms_page(self, info: strawberry.Info, identifier: str) -> CmsPage | None:
        row = await resolve.page_by_identifier(info.context, identifier)
        return CmsPage.from_row(row) if row is not None else None

    @strawberry.field(
        extensions=[requires(Resource.CMS_BLOCKS, guest=True)],
        description="CMS blocks in id order. " + PAGE_DESCRIPTION + " Guests see active blocks only.",
    )
    async def cms_blocks(
        self, info: strawberry.Info, first: int = DEFAULT_PAGE_SIZE, after: str | None = None
    ) -> Connection[CmsBlock] | None:
        return connection(await resolve.blocks_page(info.context, first, after), CmsBlock.from_row)

    @strawberry.field(
        extensions=[requires(Resource.CMS_BLOCKS, guest=True)],
        description="One CMS block by identifier; null when there is none (or, for guests, when it is inactive).",
    )
    async def cms_block(self, info: strawberry.Info, identifier: str) -> CmsBlock | None:
        row = await resolve.block_by_identifier(info.context, identifier)
        return CmsBlock.from_row(row) if row is not None else None


@strawberry.type
class CmsMutation:
    @strawberry.mutation(extensions=[requires(Resource.CMS_PAGE_SAVE)], description="Add a CMS page.")
    async def create_cms_page(self, input: CreateCmsPageInput) -> CmsPagePayload:
        return _payload(await resolve.create_page(_changes(input)))

    @strawberry.mutation(
        extensions=[requires(Resource.CMS_PAGE_SAVE)], description="Change a CMS page; nothing is saved on errors."
    )
    async def update_cms_page(self, input: UpdateCmsPageInput) -> CmsPagePayload:
        return _payload(await resolve.update_page(input.id, _changes(input)))

    @strawberry.mutation(extensions=[requires(Resource.CMS_PAGE_DELETE)], description="Delete a CMS page.")
    async def delete_cms_page(self, id: int) -> DeleteCmsPagePayload:
        outcome = await resolve.delete_page(id)
        return DeleteCmsPagePayload(deleted_id=outcome.value, user_errors=user_errors(outcome.problems))
