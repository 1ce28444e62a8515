"""Counting the SQL statements a request sends: the guard against N+1 queries."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


class _Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())


@contextlib.contextmanager
def sql_statements() -> Iterator[list[str]]:
    """The statements Tortoise sends to the database (its ``tortoise.db_client`` debug log)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = _Statements()
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
