"""When the database is away: recognise it, and answer HTTP 503 ``SERVICE_UNAVAILABLE`` instead of a 500.

A lost or refused connection, a database that does not accept connections, or a SQLite file that is
locked or cannot be opened is a passing condition, not a bug: the client should retry, and the server
recovers by itself (asyncpg's pool reconnects, SQLite retries on the next query). Errors that are bugs
(bad SQL, constraint violations) are not matched and stay ``INTERNAL_SERVER_ERROR``.

``DatabaseUnavailableMiddleware`` covers everything outside GraphQL execution (authentication, the
OAuth token endpoints); the GraphQL view maps resolver errors with ``unavailable_error``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from typing import Any

from graphql import GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise.exceptions import DBConnectionError, OperationalError, TransactionManagementError

logger = logging.getLogger("integrations.database")

SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
MESSAGE = "The service is temporarily unavailable. Try again shortly."
#: Seconds a client should wait before retrying.
RETRY_AFTER = "1"

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
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return False
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


def unavailable_error(error: GraphQLError) -> GraphQLError:
    """The GraphQL error a client sees instead of a database failure (no driver details)."""
    return GraphQLError(
        MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": SERVICE_UNAVAILABLE},
    )


def _response(scope: Scope) -> tuple[bytes, bytes]:
    if scope.get("path", "").startswith("/oauth/"):
        return b"application/x-www-form-urlencoded", b"oauth_problem=service_unavailable"
    body: dict[str, Any] = {"data": None, "errors": [{"message": MESSAGE, "extensions": {"code": SERVICE_UNAVAILABLE}}]}
    return b"application/json", json.dumps(body).encode()


class DatabaseUnavailableMiddleware:
    """Pure ASGI: a database outage raised anywhere below becomes a clean 503 (if nothing was sent yet)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if started or not database_unavailable(exc):
                raise
            log_unavailable(exc, scope.get("path", "?"))
            content_type, body = _response(scope)
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [
                        (b"content-type", content_type),
                        (b"content-length", str(len(body)).encode()),
                        (b"retry-after", RETRY_AFTER.encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
