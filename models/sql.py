"""Raw SQL for the few hot paths where the ORM's per-query overhead shows (auth lookups, loaders).

Write queries with ``?`` placeholders, which SQLite understands. For asyncpg they become ``$1``, ``$2``, ...
by a scan that knows PostgreSQL's lexical rules: a ``?`` inside a string ('...', E'...', $$...$$), a quoted
identifier or a comment is text, ``?|`` and ``?&`` are jsonb operators, and ``??`` is a literal ``?`` (the
jsonb key-exists operator), and SQLite's ``json_group_object(`` aggregate is PostgreSQL's ``json_object_agg(``.
The translation is cached per SQL text: the texts are constants, or built
from a few shapes (``IN`` lists of up to a page of ids).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url

#: What the scan stops at: text to keep as it is, the start of a block comment, or a question mark.
_POSTGRES_TOKEN = re.compile(
    r"""
      (?P<text>
          (?<![\w$])[Ee]'(?:[^'\\]|\\.|'')*'  # an escape string: backslash escapes, and '' is a quote
        | '(?:[^']|'')*'                       # a string ('' is a quote; a backslash is just a character)
        | "(?:[^"]|"")*"                       # a quoted identifier
        | --[^\n]*                             # a line comment
        | (?<![\w$])\$(?P<tag>[A-Za-z_]\w*|)\$.*?\$(?P=tag)\$  # a dollar-quoted string ($$...$$, $x$...$x$)
        | \?[|&](?!\|)                         # the jsonb operators ?| and ?& (but ?|| is ? then ||)
      )
    | (?P<comment>/\*)
    | (?P<escaped>\?\?)
    | (?P<placeholder>\?)
    """,
    re.VERBOSE | re.DOTALL,
)
_COMMENT_EDGE = re.compile(r"/\*|\*/")


def _block_comment_end(sql: str, start: int) -> int:
    """Where the block comment opened at ``start`` ends; PostgreSQL's block comments nest."""
    depth = 0
    for edge in _COMMENT_EDGE.finditer(sql, start):
        depth += 1 if edge.group() == "/*" else -1
        if depth == 0:
            return edge.end()
    raise ValueError(f"unterminated comment in SQL: {sql!r}")


@functools.lru_cache(maxsize=4096)
def postgres_placeholders(sql: str) -> str:
    """``sql`` for asyncpg: each ``?`` placeholder numbered (``$1``, ``$2``, ...) and SQLite's function names
    replaced by PostgreSQL's; see the module docstring."""
    parts: list[str] = []
    position = count = 0
    while (token := _POSTGRES_TOKEN.search(sql, position)) is not None:
        parts.append(_postgres_names(sql[position : token.start()]))
        if token.lastgroup == "comment":
            position = _block_comment_end(sql, token.start())
            parts.append(sql[token.start() : position])
            continue
        if token.lastgroup == "placeholder":
            count += 1
            parts.append(f"${count}")
        elif token.lastgroup == "escaped":
            parts.append("?")
        else:
            parts.append(token.group())
        position = token.end()
    parts.append(_postgres_names(sql[position:]))
    return "".join(parts)


_SQLITE_AGGREGATE = re.compile(r"\bjson_group_object\(", re.IGNORECASE)


def _postgres_names(code: str) -> str:
    """PostgreSQL's names for the SQLite functions used here (in SQL code, never in a string or comment)."""
    return _SQLITE_AGGREGATE.sub("json_object_agg(", code)


def connection() -> BaseDBAsyncClient:
    return Tortoise.get_connection("default")


def dialect() -> str:
    return connection().capabilities.dialect


def _translate(sql: str, dialect_name: str) -> str:
    return postgres_placeholders(sql) if dialect_name == "postgres" else sql


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


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg ships no type hints
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


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an ``IN (...)`` list of ``count`` values."""
    return ", ".join("?" * count)


def like_pattern(text: str) -> str:
    """A case-insensitive "contains" pattern for ``LOWER(column) LIKE ? ESCAPE '\\'``."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
