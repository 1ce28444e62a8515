"""Shared fixtures: a fresh real database per test (SQLite file, or PostgreSQL when DATABASE_URL points at
one), the ASGI app with its lifespan, the callers (``guest``, ``admin``, ``integration(...)``), and real
server processes. The helpers they use live in ``tests/support/``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.clock import clock
from settings import Settings
from tests.support.database import POSTGRES_URL, fresh_database, reset_postgres
from tests.support.graphql import GraphQLClient, asgi_client
from tests.support.oauth import CallbackServer
from tests.support.principals import ADMIN_PASSWORD, IntegrationCaller, grant_token, serving
from tests.support.servers import ServerProcess, running_server


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    """Run every ``async def`` test under anyio; marked while collected, so parametrized ones work too."""
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def _reset_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture(scope="session", autouse=True)
def _data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A DATA_DIR of the session's own for anything that falls back to the default store (a command run
    without DATABASE_URL, say): never the user data directory of whoever runs the suite."""
    saved = os.environ.get("DATA_DIR")
    os.environ["DATA_DIR"] = str(tmp_path_factory.mktemp("data-dir"))
    yield
    if saved is None:
        os.environ.pop("DATA_DIR", None)
    else:
        os.environ["DATA_DIR"] = saved


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Migrate once per session: a template SQLite file to copy, or the PostgreSQL schema to truncate."""
    from models.database import apply_migrations

    if POSTGRES_URL:
        asyncio.run(reset_postgres(POSTGRES_URL))
        asyncio.run(apply_migrations(Settings(database_url=POSTGRES_URL)))
        return None
    template = tmp_path_factory.mktemp("template") / "db.sqlite3"
    asyncio.run(apply_migrations(Settings(database_url=f"sqlite://{template}")))
    return template


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path | None) -> str:
    """A clean, migrated database for this test."""
    return fresh_database(tmp_path, migrated_template)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        embedded_default=False,
        integrations_file=tmp_path / "integrations.toml",
        encryption_key=None,
        store_base_url="http://store.test/",
        allowed_hosts=("testserver",),  # the in-process client's host
        # No background webhook worker in the in-process app: its look for due deliveries would land in other
        # tests' SQL statement counts. Webhook tests drive deliveries themselves, or run real server processes.
        webhook_delivery=False,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    async with serving(settings) as application:
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Raw HTTP to the app, in-process (for what is not a GraphQL call)."""
    async with asgi_client(app) as http:
        yield http


@pytest.fixture
def guest(client: httpx.AsyncClient) -> GraphQLClient:
    """A caller with no credentials."""
    return GraphQLClient(client)


@pytest.fixture
async def admin(guest: GraphQLClient) -> GraphQLClient:
    """A caller signed in as the admin ``admin`` (password ``ADMIN_PASSWORD``)."""
    from auth.admin_tokens import create_admin

    await create_admin("admin", ADMIN_PASSWORD)
    return await guest.sign_in("admin", ADMIN_PASSWORD)


@pytest.fixture
def integration(guest: GraphQLClient) -> IntegrationCaller:
    """``integration(*resources)``: a caller acting as an integration with a Custom grant of those resources
    (All, given ``Magento_Backend::all``)."""

    def acting_as(*resources: str) -> GraphQLClient:
        return guest.with_token(grant_token(resources))

    return acting_as


@pytest.fixture
def callback() -> Iterator[CallbackServer]:
    """The third party's callback endpoint, on loopback."""
    with CallbackServer() as server:
        yield server


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    """``server_factory(env, args=(), port=None)``: a server process that serves, stopped after the test."""
    logs = (tmp_path / f"server-{n}.log" for n in itertools.count())
    with contextlib.ExitStack() as started:

        def start(env: dict[str, str], args: tuple[str, ...] = (), port: int | None = None) -> ServerProcess:
            return started.enter_context(running_server(env, next(logs), args=args, port=port))

        yield start
