"""When the database is away: recognise it, so that clients get HTTP 503 ``SERVICE_UNAVAILABLE``, not a 500.

A lost or refused connection, a database that does not accept connections, or a SQLite file that is
locked or cannot be opened is a passing condition, not a bug: the client should retry, and the server
recovers by itself (asyncpg's pool reconnects, SQLite retries on the next query). Errors that are bugs
(bad SQL, constraint violations) are not matched and stay ``INTERNAL_SERVER_ERROR``.

This module only recognises an outage and logs it; what a client then sees is decided above it, by
``middleware.DatabaseUnavailableMiddleware`` outside GraphQL execution and by ``schema.errors`` inside.
"""

from __future__ import annotations

import logging
import sqlite3

import asyncpg
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

from observability import events

logger = logging.getLogger("integrations.database")

#: SQLite errors that mean "cannot reach the data right now" (locks, a vanished or unreadable file).
_SQLITE_TRANSIENT = (
    "database is locked",
    "database table is locked",
    "locking protocol",
    "unable to open database file",
    "disk i/o error",
    "attempt to write a readonly database",
    "database or disk is full",
)
#: PostgreSQL refusing connections to one database (ALTER DATABASE ... ALLOW_CONNECTIONS false, shutdown).
_POSTGRES_TRANSIENT = ("not currently accepting connections", "the database system is")


def _postgres_unavailable(exc: BaseException) -> bool:
    if isinstance(
        exc,
        asyncpg.PostgresConnectionError  # class 08: connection exceptions, incl. "connection does not exist"
        | asyncpg.InterfaceError  # "connection is closed", pool closing
        | asyncpg.exceptions.OperatorInterventionError  # class 57: admin shutdown, crash, cannot connect now
        | asyncpg.exceptions.InsufficientResourcesError  # class 53: too many connections, out of memory/disk
        | asyncpg.exceptions.InvalidCatalogNameError,  # the database is gone
    ):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return any(marker in str(exc) for marker in _POSTGRES_TRANSIENT)
    return False


_DRIVER_MODULES = ("asyncpg", "aiosqlite", "tortoise")


def _raised_by_driver(exc: BaseException) -> bool:
    """A socket error or timeout counts only if it came out of the database driver (not, say, httpx)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def database_unavailable(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an exception it was raised from) means the database cannot be reached now."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, DBConnectionError):
            return True
        if isinstance(exc, OSError | TimeoutError) and _raised_by_driver(exc):
            return True
        if isinstance(exc, sqlite3.DatabaseError | OperationalError | TransactionManagementError):
            text = str(exc).lower()
            if any(marker in text for marker in _SQLITE_TRANSIENT):
                return True
        if _postgres_unavailable(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def log_unavailable(exc: BaseException | None, where: str) -> None:
    """One line, no traceback: an outage is an operational event, not a bug report."""
    logger.warning("Database unavailable in %s: %s", where, type(exc).__name__ if exc else "unknown")
    events.database_error()
