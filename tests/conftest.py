"""Shared fixtures: a fresh real database per test (SQLite file, or PostgreSQL when DATABASE_URL
points at one), the ASGI app with its lifespan, an httpx client, admin tokens, and real server processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.clock import clock
from settings import Settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") else ""
ADMIN_PASSWORD = "admin-password-1"


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


async def reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def truncate_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{row["tablename"]}"' for row in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


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
    if POSTGRES_URL:
        asyncio.run(truncate_postgres(POSTGRES_URL))
        return POSTGRES_URL
    assert migrated_template is not None
    target = tmp_path / "db.sqlite3"
    shutil.copyfile(migrated_template, target)
    return f"sqlite://{target}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        embedded_default=False,
        integrations_file=tmp_path / "integrations.toml",
        encryption_key=None,
        store_base_url="http://store.test/",
        allowed_hosts=("testserver",),  # the in-process client's host
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    from main import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    headers: dict[str, str] | None = None,
    status: int | None = 200,
) -> dict[str, Any]:
    """POST a GraphQL document and return the JSON body (asserting the HTTP status unless None)."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers)
    if status is not None:
        assert response.status_code == status, response.text
    return response.json()


async def login(client: httpx.AsyncClient, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    body = await gql(
        client,
        "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }",
        {"u": username, "p": password},
    )
    assert body.get("errors") is None, body
    return body["data"]["generateAdminToken"]["token"]


@pytest.fixture
async def admin_token(client: httpx.AsyncClient) -> str:
    from auth.admin_tokens import create_admin

    await create_admin("admin", ADMIN_PASSWORD)
    return await login(client)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """A real ``python main.py serve`` process on a loopback port."""

    def __init__(self, env: dict[str, str], port: int | None = None, args: tuple[str, ...] = ()) -> None:
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(env.get("SERVER_LOG", f"/tmp/server-{self.port}.log"))
        full_env = {**os.environ, "LOG_LEVEL": "warning", **env}
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "main.py",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                *args,
            ],
            cwd=ROOT,
            env=full_env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.output()}")

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[ServerProcess] = []

    def start(env: dict[str, str], args: tuple[str, ...] = (), port: int | None = None) -> ServerProcess:
        server = ServerProcess(
            {"SERVER_LOG": str(tmp_path / f"server-{len(started)}.log"), **env}, port=port, args=args
        )
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.stop()
