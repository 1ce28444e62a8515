"""Relay connections for every list (``edges { node cursor }``, ``pageInfo``)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry
from strawberry.relay import PageInfo

from resolvers.pagination import Page, Row

T = TypeVar("T")

PAGE_DESCRIPTION = (
    "Relay pagination: `first` (default 20) items after the cursor `after`. A `first` above "
    "the server's maximum page size (MAX_PAGE_SIZE, default 100) is refused with a BAD_USER_INPUT error, "
    "not clamped."
)


@strawberry.enum(description="Ascending (A to Z, low to high) or descending.")
class SortDirection(enum.Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type(description="An item of a list and the cursor to continue after it.")
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    page: strawberry.Private[Page | None] = None

    @strawberry.field(
        description="How many items the list holds with its filters, over all pages (counted only when asked for)."
    )
    async def total_count(self) -> int:
        return await self.page.total_count() if self.page is not None else len(self.edges)


def connection(page: Page, convert: Callable[[Row], T]) -> Connection[T]:
    """A connection of ``convert(row)`` for each row of the page."""
    edges = [Edge(node=convert(row), cursor=page.cursor(row)) for row in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        page=page,
    )
