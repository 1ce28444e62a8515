"""Raw SQL for the few hot paths where the ORM's per-query overhead shows (auth lookups, loaders).

Write queries with ``?`` placeholders; they are rewritten to ``$n`` for asyncpg.
"""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

_PLACEHOLDER = re.compile(r"\?")
_cache: dict[tuple[str, str], str] = {}


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


def dialect() -> str:
    return connection().capabilities.dialect


def _translate(sql: str, dialect_name: str) -> str:
    key = (sql, dialect_name)
    translated = _cache.get(key)
    if translated is None:
        if dialect_name == "postgres":
            counter = iter(range(1, 10_000))
            translated = _PLACEHOLDER.sub(lambda _m: f"${next(counter)}", sql)
        else:
            translated = sql
        _cache[key] = translated
    return translated


async def fetch_all(sql: str, *params: Any, conn: BaseDBAsyncClient | None = None) -> list[dict[str, Any]]:
    conn = conn or connection()
    rows = await conn.execute_query_dict(_translate(sql, conn.capabilities.dialect), list(params))
    return rows


async def fetch_one(sql: str, *params: Any, conn: BaseDBAsyncClient | None = None) -> dict[str, Any] | None:
    rows = await fetch_all(sql, *params, conn=conn)
    return rows[0] if rows else None


async def execute(sql: str, *params: Any, conn: BaseDBAsyncClient | None = None) -> int:
    conn = conn or connection()
    count, _rows = await conn.execute_query(_translate(sql, conn.capabilities.dialect), list(params))
    return count


class PooledConnection(asyncpg.Connection):
    """A PostgreSQL connection that goes back to the pool without asyncpg's reset query.

    asyncpg sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`` whenever a connection
    returns to its pool, and Tortoise takes a connection from the pool for each query: every query cost two
    round trips. Nothing in this server leaves session state behind (no session-level ``SET``, ``LISTEN``,
    advisory locks or cursors; a per-statement setting uses ``set_config(..., true)``), and a transaction
    left open is still rolled back on release.
    """

    def get_reset_query(self) -> str:
        return ""


def postgres_connection(url: str) -> dict[str, Any]:
    """Tortoise's connection config for a ``postgres://`` URL, with ``PooledConnection``."""
    config = expand_db_url(url)
    config["credentials"]["connection_class"] = PooledConnection
    return config
