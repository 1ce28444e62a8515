"""Keyset pagination for every list: one indexed ``key > ? ORDER BY key LIMIT n+1`` query.

Store lists are ordered by id; integrations by name (Magento's grid), with the id breaking ties, or by
another column the grid sorts on, either way. Cursors are opaque to clients (base64 of ``<list>:<id>``, or
``<list>:<id>:<value>``); each ordering has its own ``<list>`` name, so a cursor only continues the ordering
it was made for. A cursor from another list,
or one this server cannot have made (an id outside the 32-bit id columns, a name with a NUL byte), is
refused with BAD_USER_INPUT before it reaches the database, whose driver would fail on it.
``first`` above ``settings.max_page_size`` is refused rather than clamped, so a client never silently
gets fewer items than it asked for and mistakes them for the end of the list.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Sequence
from typing import Any

from errors import bad_user_input
from models.sql import fetch_all, fetch_one

Row = dict[str, Any]
#: Where a page starts: after the row with this id, or with this value (text or number) and id.
Key = tuple[int] | tuple[str, int] | tuple[int, int]

DEFAULT_PAGE_SIZE = 20
#: Ids are 32-bit integer columns.
MAX_ID = 2**31 - 1


@dataclasses.dataclass(frozen=True, slots=True)
class Ordering:
    """How a list is ordered, and so what its cursors hold.

    ``kind`` names the list (and its order) in its cursors; ``id`` is the SQL of the id column (rows carry it
    as ``id``); ``name``, when given, is a column ordered first (rows carry it under the same name): text,
    non-empty unless ``empty``, or whole numbers when ``numeric``. ``descending`` reverses the whole order.
    """

    kind: str
    id: str = "id"
    name: str | None = None
    numeric: bool = False
    empty: bool = False
    descending: bool = False

    def cursor(self, row: Row) -> str:
        position = f"{row['id']}" if self.name is None else f"{row['id']}:{row[self.name]}"
        return base64.urlsafe_b64encode(f"{self.kind}:{position}".encode()).decode()

    def after(self, cursor: str | None) -> Key | None:
        """The key the page starts after, or None for the first page."""
        if cursor is None:
            return None
        key = self._key(cursor)
        if key is None:
            raise bad_user_input("The `after` cursor is not a cursor of this list.")
        return key

    def _key(self, cursor: str) -> Key | None:
        try:
            kind, _, position = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        except (binascii.Error, UnicodeError, ValueError):
            return None
        raw_id, separator, value = position.partition(":")
        if kind != self.kind or not _is_id(raw_id):
            return None
        if self.name is None:
            return None if value else (int(raw_id),)
        if self.numeric:
            return (int(value), int(raw_id)) if _is_id(value) else None
        if not separator or "\x00" in value or not (value or self.empty):
            return None
        return (value, int(raw_id))

    def where_after(self) -> str:
        """The condition for rows after a key (its values are the key's, in order)."""
        after = "<" if self.descending else ">"
        return f"{self.id} {after} ?" if self.name is None else f"({self.name}, {self.id}) {after} (?, ?)"

    def order_by(self) -> str:
        direction = " DESC" if self.descending else ""
        if self.name is None:
            return f"{self.id}{direction}"
        return f"{self.name}{direction}, {self.id}{direction}"


def _is_id(text: str) -> bool:
    """Digits of a value an id column can hold (checked on the text: ``int()`` of huge text is slow or fails)."""
    return text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID


def page_limit(first: int, max_page_size: int) -> int:
    if first < 0:
        raise bad_user_input("Argument 'first' must be zero or more.")
    if first > max_page_size:
        raise bad_user_input(f"Argument 'first' cannot be higher than {max_page_size}.")
    return first


@dataclasses.dataclass(frozen=True, slots=True)
class Page:
    """One page of rows (already cut to ``first``) and what the connection's ``pageInfo`` needs."""

    ordering: Ordering
    items: Sequence[Row]
    has_next_page: bool
    has_previous_page: bool
    #: The SQL and parameters that count every row of the list (all pages), run only when asked for.
    counting: tuple[str, tuple[Any, ...]] | None = None

    def cursor(self, row: Row) -> str:
        return self.ordering.cursor(row)

    async def total_count(self) -> int:
        """How many rows the list holds with its filters, over all pages (a grid's "N records found")."""
        if self.counting is None:
            return len(self.items)
        sql, params = self.counting
        row = await fetch_one(sql, *params)
        return int(row["total"]) if row is not None else 0


async def keyset_page(
    ordering: Ordering,
    select: str,
    where: Sequence[str],
    params: Sequence[Any],
    *,
    first: int,
    after: str | None,
    max_page_size: int,
) -> Page:
    """``select`` (``SELECT ... FROM ...``) filtered by ``where`` and paged in ``ordering``, in one query."""
    limit = page_limit(first, max_page_size)
    start = ordering.after(after)
    conditions = list(where)
    values = list(params)
    if start is not None:
        conditions.append(ordering.where_after())
        values.extend(start)
    sql = select + (" WHERE " + " AND ".join(conditions) if conditions else "")
    rows = await fetch_all(f"{sql} ORDER BY {ordering.order_by()} LIMIT ?", *values, limit + 1)
    filtered = select + (" WHERE " + " AND ".join(where) if where else "")
    counting = (f"SELECT COUNT(*) AS total FROM ({filtered}) AS listed", tuple(params))
    return Page(ordering, rows[:limit], len(rows) > limit, start is not None, counting)
