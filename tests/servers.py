"""Helpers for tests that drive real server processes: a prepared database, accounts, sign-in, raw SQL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from settings import Settings, sqlite_path
from tests.conftest import POSTGRES_URL, ServerProcess, free_port, truncate_postgres

SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"


def fresh_database(directory: Path, template: Path | None) -> str:
    """A clean, migrated database: a copy of the template SQLite file, or the truncated PostgreSQL one."""
    if POSTGRES_URL:
        asyncio.run(truncate_postgres(POSTGRES_URL))
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
    """An admin account written straight into the database (quicker than the CLI in a subprocess)."""
    asyncio.run(_create_admin(database_url, username, password))


async def _save_guest_access(database_url: str, allow: bool) -> None:
    from auth.config import ALLOW_GUEST, save_config
    from models.database import open_database

    async with open_database(Settings(database_url=database_url)):
        await save_config({ALLOW_GUEST: "1" if allow else "0"})


def set_guest_access(database_url: str, allow: bool) -> None:
    """Allow Anonymous Guest Access, written straight into the database."""
    asyncio.run(_save_guest_access(database_url, allow))


async def _seed_demo(database_url: str, products: int) -> None:
    from demo import seed_demo_store
    from models.database import open_database

    settings = Settings(database_url=database_url)
    async with open_database(settings):
        await seed_demo_store(settings, products)


def seed_demo_store(database_url: str, products: int = 40) -> None:
    """The demo store (categories, products, CMS, customers, orders), small."""
    asyncio.run(_seed_demo(database_url, products))


def sign_in(base_url: str, username: str, password: str) -> str:
    body = httpx.post(
        f"{base_url}/graphql", json={"query": SIGN_IN, "variables": {"u": username, "p": password}}, timeout=30
    ).json()
    assert body.get("errors") is None, body
    return body["data"]["generateAdminToken"]["token"]


def gql(base_url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(
        f"{base_url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=60
    )


@contextlib.contextmanager
def running_server(
    env: dict[str, str], log: Path, args: tuple[str, ...] = (), port: int | None = None
) -> Iterator[ServerProcess]:
    """A server process for a block (or a module-scoped fixture), stopped afterwards."""
    server = ServerProcess({"SERVER_LOG": str(log), **env}, port=port, args=args)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def kill_hard(server: ServerProcess) -> None:
    """SIGKILL the server and everything it started (uvicorn workers), as a crash would."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)


def sqlite_file(database_url: str) -> Path:
    path = sqlite_path(database_url)
    assert path is not None, database_url
    return path


async def _query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    if database_url.startswith("postgres"):
        import asyncpg

        conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        try:
            return [dict(row) for row in await conn.fetch(sql, *params)]
        finally:
            await conn.close()
    import sqlite3

    with contextlib.closing(sqlite3.connect(sqlite_file(database_url))) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql.replace("$1", "?").replace("$2", "?"), params)]


def query(database_url: str, sql: str, *params: Any) -> list[dict[str, Any]]:
    """Raw SQL from outside the server (``$1``-style placeholders work on both databases)."""
    return asyncio.run(_query(database_url, sql, *params))


class TcpProxy:
    """A loopback TCP forwarder in front of the database, so that one server process can lose its database
    (connections cut, new ones refused) while every other user of the same database server carries on."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._listen()

    def url_for(self, database_url: str) -> str:
        """``database_url`` with its host and port replaced by the proxy's."""
        scheme, rest = database_url.split("://", 1)
        credentials, _, location = rest.rpartition("@")
        _host_port, _, path = location.partition("/")
        prefix = f"{credentials}@" if credentials else ""
        return f"{scheme}://{prefix}127.0.0.1:{self.port}/{path}"

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed: the outage began
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    @contextlib.contextmanager
    def outage(self) -> Iterator[None]:
        """Cut every connection and refuse new ones for the duration of the block."""
        assert self._listener is not None
        self._stop_listening()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        try:
            yield
        finally:
            self._listen()

    def _stop_listening(self) -> None:
        assert self._listener is not None
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone would not
        self._listener.close()

    def close(self) -> None:
        if self._listener is not None:
            self._stop_listening()
        with self._lock:
            for sock in self._sockets:
                sock.close()


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
