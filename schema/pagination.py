"""Relay connections for the store lists (``edges { node cursor }``, ``pageInfo``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.relay import PageInfo

from resolvers.pagination import Page

T = TypeVar("T")

PAGE_DESCRIPTION = (
    "Relay pagination: `first` (default 20) items after the cursor `after`. A `first` above "
    "the server's maximum page size (MAX_PAGE_SIZE, default 100) is refused with a BAD_USER_INPUT error, "
    "not clamped."
)


@strawberry.type(description="An item of a list and the cursor to continue after it.")
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type(description="A page of a list.")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def connection(page: Page[Any], convert: Callable[[Any], T]) -> Connection[T]:
    """A connection of ``convert(item)`` for each item of the page; every node has an ``id``."""
    edges = []
    for item in page.items:
        node = convert(item)
        edges.append(Edge(node=node, cursor=page.cursor(node.id)))  # type: ignore[attr-defined]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
