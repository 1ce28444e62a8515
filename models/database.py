"""Opening the database: pending migrations applied, the ORM connected, SQLite tuned.

The server, the CLI commands, the benchmark's baseline app and the tests all open it through
``open_database``, so they run the same migrations check, connection and SQLite pragmas.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise
from tortoise.migrations.api.migrate import migrate as run_migrations

from settings import Settings, sqlite_path

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _prepare_database_dir(settings: Settings) -> None:
    """The SQLite file and its folder exist, readable by this user only (0600 and 0700, as the key file).

    The file holds password hashes, token hashes and encrypted secrets: nobody else on the machine should
    be able to copy it. A folder this creates is 0700; a file with group or other bits set is tightened.
    """
    path = sqlite_path(settings.database_url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)  # mkdir's mode is filtered by the umask
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists() and file.stat().st_mode & 0o077 and file.stat().st_uid == os.getuid():
            file.chmod(0o600)


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
