"""The test databases: a clean, migrated one per test (a copy of a migrated SQLite file, or the PostgreSQL
database that ``DATABASE_URL`` names, truncated), raw SQL and integrity checks from outside the server, and
rows written straight into the database (quicker than the CLI in a subprocess).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shutil
import sqlite3
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from settings import Settings, sqlite_path

#: The PostgreSQL database the suite runs on, or ``""`` for SQLite files.
POSTGRES_URL = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion from synchronous code, in a thread of its own: this works even where
    an event loop is already running (Playwright's sync API keeps one), where ``asyncio.run`` refuses."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _connect(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))


async def reset_postgres(url: str) -> None:
    conn = await _connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def truncate_postgres(url: str) -> None:
    conn = await _connect(url)
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


def fresh_database(directory: Path, template: Path | None) -> str:
    """A clean, migrated database: a copy of the template SQLite file, or the truncated PostgreSQL one."""
    if POSTGRES_URL:
        run(truncate_postgres(POSTGRES_URL))
        return POSTGRES_URL
    assert template is not None
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "db.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite://{target}"


async def _create_admin(database_url: str, username: str, password: str) -> None:
    from auth.admin_tokens import create_admin
    from models.database import open_database

    async with open_database(Settings(database_url=database_url)):
        await create_admin(username, password)


def create_admin_account(database_url: str, username: str, password: str) -> None:
    """An admin account written straight into the database."""
    run(_create_admin(database_url, username, password))


async def _save_guest_access(database_url: str, allow: bool) -> None:
    from auth.config import ALLOW_GUEST, save_config
    from models.database import open_database

    async with open_database(Settings(database_url=database_url)):
        await save_config({ALLOW_GUEST: "1" if allow else "0"})


def store_guest_access(database_url: str, allow: bool) -> None:
    """Allow Anonymous Guest Access, written straight into the database."""
    run(_save_guest_access(database_url, allow))


async def _save_config(database_url: str, values: dict[str, str]) -> None:
    from auth.config import save_config
    from models.database import open_database

    async with open_database(Settings(database_url=database_url)):
        await save_config(values)


def store_config(database_url: str, values: dict[str, str]) -> None:
    """Store settings (config path -> stored text), written straight into the database."""
    run(_save_config(database_url, values))


def throttling_off(database_url: str) -> None:
    """Query-cost throttling off (a run of many requests from one address that is not about throttling)."""
    from auth.config import THROTTLING_ENABLED

    store_config(database_url, {THROTTLING_ENABLED: "0"})


async def _seed_demo(database_url: str, products: int) -> None:
    from demo import seed_demo_store
    from models.database import open_database

    settings = Settings(database_url=database_url)
    async with open_database(settings):
        await seed_demo_store(settings, products)


def seed_demo_store(database_url: str, products: int = 40) -> None:
    """The demo store (categories, products, CMS, customers, orders), small."""
    run(_seed_demo(database_url, products))


def sqlite_file(database_url: str) -> Path:
    path = sqlite_path(database_url)
    assert path is not None, database_url
    return path


async def _query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    if database_url.startswith("postgres"):
        conn = await _connect(database_url)
        try:
            return [dict(row) for row in await conn.fetch(sql, *params)]
        finally:
            await conn.close()
    with contextlib.closing(sqlite3.connect(sqlite_file(database_url))) as conn:
        conn.row_factory = sqlite3.Row
        rows = [dict(row) for row in conn.execute(sql.replace("$1", "?").replace("$2", "?"), params)]
        conn.commit()  # a write is kept, as asyncpg's autocommit keeps it
        return rows


def query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Raw SQL from outside the server (``$1``-style placeholders work on both databases); writes are committed."""
    return run(_query(database_url, sql, *params))


def integrity_problems(database_url: str) -> list[str]:
    """Integrity check (SQLite), foreign keys and unique keys (both): an empty list when all is well."""
    problems: list[str] = []
    if not database_url.startswith("postgres"):
        with contextlib.closing(sqlite3.connect(sqlite_file(database_url))) as conn:
            result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                problems.append(f"integrity_check: {result}")
            problems += [f"foreign key: {row}" for row in conn.execute("PRAGMA foreign_key_check")]
    checks = {
        "config path twice": "SELECT path FROM core_config_data GROUP BY path HAVING COUNT(*) > 1",
        "token of no admin": "SELECT t.id FROM admin_token t LEFT JOIN admin_user a ON a.id = t.admin_id "
        "WHERE a.id IS NULL",
        "token hash twice": "SELECT token_hash FROM admin_token GROUP BY token_hash HAVING COUNT(*) > 1",
        "integration without consumer": "SELECT i.id FROM integration i "
        "LEFT JOIN oauth_consumer c ON c.integration_id = i.id WHERE c.id IS NULL",
        "integration without grant": "SELECT i.id FROM integration i "
        "LEFT JOIN integration_grant g ON g.integration_id = i.id WHERE g.id IS NULL",
        "consumer of no integration": "SELECT c.id FROM oauth_consumer c "
        "LEFT JOIN integration i ON i.id = c.integration_id WHERE i.id IS NULL",
        "token of no consumer": "SELECT t.id FROM oauth_token t "
        "LEFT JOIN oauth_consumer c ON c.id = t.consumer_id WHERE c.id IS NULL",
        "active without access token": "SELECT i.id FROM integration i "
        "JOIN oauth_consumer c ON c.integration_id = i.id "
        "LEFT JOIN oauth_token t ON t.consumer_id = c.id AND t.type = 'access' "
        "WHERE i.status = 1 AND t.id IS NULL",
        "two consumers": "SELECT integration_id FROM oauth_consumer GROUP BY integration_id HAVING COUNT(*) > 1",
        "two tokens": "SELECT consumer_id FROM oauth_token GROUP BY consumer_id, user_type HAVING COUNT(*) > 1",
    }
    for what, sql in checks.items():
        problems += [f"{what}: {row}" for row in query(database_url, sql)]
    return problems
