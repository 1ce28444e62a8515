"""Values from raw SQL rows, which differ by driver: SQLite gives strings and 0/1, asyncpg gives types."""

from __future__ import annotations

import datetime as dt


def as_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def as_float(value: object) -> float:
    """Money columns: Decimal on PostgreSQL, text on SQLite."""
    return float(value)  # type: ignore[arg-type]


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``count`` values."""
    return ", ".join("?" * count)


def like_pattern(text: str) -> str:
    """A case-insensitive "contains" pattern for ``LOWER(column) LIKE ? ESCAPE '\\'``."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
