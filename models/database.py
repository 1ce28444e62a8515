"""Opening the database: pending migrations applied, the ORM connected, SQLite tuned.

The server, the CLI commands, the benchmark's baseline app and the tests all open it through
``open_database``, so they run the same migrations check, connection and SQLite pragmas.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.migrations.api.migrate import migrate as run_migrations

from settings import Settings, sqlite_path

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _prepare_database_dir(settings: Settings) -> None:
    path = sqlite_path(settings.database_url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


async def apply_migrations(settings: Settings) -> None:
    """Apply pending migrations (idempotent), then close the connections the migrator opened."""
    _prepare_database_dir(settings)
    try:
        await run_migrations(config=settings.tortoise_config())
    finally:
        await Tortoise.close_connections()


async def _tune_sqlite(settings: Settings) -> None:
    if settings.is_sqlite:
        conn = Tortoise.get_connection("default")
        await conn.execute_script(f"PRAGMA synchronous={settings.sqlite_synchronous}")


@contextlib.asynccontextmanager
async def open_database(
    settings: Settings, app: Starlette | None = None, *, migrate: bool = True
) -> AsyncIterator[None]:
    """Migrate, then keep the ORM open for the duration (through ``RegisterTortoise`` for apps)."""
    if migrate:
        await apply_migrations(settings)
    if app is not None:
        async with RegisterTortoise(app, config=settings.tortoise_config()):
            await _tune_sqlite(settings)
            yield
    else:
        await Tortoise.init(config=settings.tortoise_config(), _enable_global_fallback=True)
        try:
            await _tune_sqlite(settings)
            yield
        finally:
            await Tortoise.close_connections()
