"""Values from raw SQL rows, which differ by driver: SQLite gives strings and 0/1, asyncpg gives types.

A leaf module: auth/ (token expiry) and schema/ (row-to-type conversion) read rows the same way.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def as_datetime(value: object) -> dt.datetime:
    """An aware datetime: asyncpg gives datetimes, SQLite ISO strings; naive values are UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def as_date(value: object) -> dt.date:
    """A date column: asyncpg gives dates, SQLite ISO strings."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_float(value: str | int | float | Decimal) -> float:
    """Money columns: Decimal on PostgreSQL, text on SQLite."""
    return float(value)


def as_bool(value: object) -> bool:
    """A boolean column: 0/1 (or "0"/"1") on SQLite, a bool on PostgreSQL."""
    return bool(value) and value not in {"0", "false", "f"}
