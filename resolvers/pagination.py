"""Keyset pagination by id for every store list: one indexed ``id > ? ORDER BY id LIMIT n+1`` query.

Cursors are opaque to clients (base64 of ``<list>:<id>``); a cursor from another list is refused.
``first`` above ``settings.max_page_size`` is refused rather than clamped, so a client never silently
gets fewer items than it asked for and mistakes them for the end of the list.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from graphql import GraphQLError

from models.sql import fetch_all

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})


def encode_cursor(kind: str, id_: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{id_}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The id after which the page starts, or None for the first page."""
    if cursor is None:
        return None
    try:
        prefix, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if prefix == kind and raw.isdigit():
            return int(raw)
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise bad_input("The `after` cursor is not a cursor of this list.")


def page_limit(first: int, max_page_size: int) -> int:
    if first < 0:
        raise bad_input("Argument 'first' must be zero or more.")
    if first > max_page_size:
        raise bad_input(f"Argument 'first' cannot be higher than {max_page_size}.")
    return first


@dataclasses.dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of items (already cut to ``first``) and what the connection's ``pageInfo`` needs."""

    kind: str
    items: Sequence[T]
    has_next_page: bool
    has_previous_page: bool

    @classmethod
    def cut(cls, kind: str, rows: Sequence[T], limit: int, after: int | None) -> Page[T]:
        """From ``limit + 1`` fetched rows: the first ``limit``, and whether more exist."""
        return cls(kind, rows[:limit], len(rows) > limit, after is not None)

    def cursor(self, id_: int) -> str:
        return encode_cursor(self.kind, id_)


async def keyset_page(
    kind: str,
    select: str,
    where: Sequence[str],
    params: Sequence[Any],
    *,
    first: int,
    after: str | None,
    max_page_size: int,
    key: str = "id",
) -> Page[dict[str, Any]]:
    """``select`` (``SELECT ... FROM ...``) filtered by ``where`` and paged by ``key``, in one query."""
    limit = page_limit(first, max_page_size)
    after_id = decode_cursor(kind, after)
    conditions = list(where)
    values = list(params)
    if after_id is not None:
        conditions.append(f"{key} > ?")
        values.append(after_id)
    sql = select + (" WHERE " + " AND ".join(conditions) if conditions else "") + f" ORDER BY {key} LIMIT ?"
    rows = await fetch_all(sql, *values, limit + 1)
    return Page.cut(kind, rows, limit, after_id)
