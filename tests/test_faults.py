"""Faults against real server processes: the database going away for a moment, and the server killed
with SIGKILL in the middle of a burst of writes.

A database outage must give HTTP 503 with the GraphQL error code ``SERVICE_UNAVAILABLE`` (never a 500
or a stack trace) and the same process must serve again once the database is back. After a SIGKILL the
database must pass its integrity checks, hold every write that was acknowledged, and the restarted
server must work on it.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from tests.support.database import (
    POSTGRES_URL,
    create_admin_account,
    integrity_problems,
    query,
    sqlite_file,
    throttling_off,
)
from tests.support.fuzzing import AUTHORIZE_INTEGRATION, CREATE_INTEGRATION
from tests.support.graphql import SyncGraphQLClient
from tests.support.servers import ServerProcess, kill_hard, running_server
from tests.support.tcp_proxy import TcpProxy

ADMIN = ("faults-admin", "faults-admin-password")
#: Your Password of that admin, as its integration writes send it.
PASSWORD = {"currentPassword": ADMIN[1]}
VIEWER = "{ viewer { kind } }"
#: A guest's read of a guest-eligible field: the access decision reads the guest-access switch.
GUEST_PRODUCTS = "{ products(first: 1) { pageInfo { hasNextPage } } }"
SET_GUEST = "mutation($a: Boolean!) { setGuestAccess(allow: $a) { webApiSecurity { allowAnonymousGuestAccess } } }"
OAUTH_FIELDS = ["consumerExpirationPeriod", "cleanupExpirationPeriod", "lockoutTime", "cleanupProbability"]
OAUTH_CONFIG = "{ config { oauth { " + " ".join(OAUTH_FIELDS) + " } } }"
UPDATE_OAUTH = (
    "mutation($i: UpdateOAuthConfigInput!) { updateOAuthConfig(input: $i) { oauth { %s } userErrors { code } } }"
)


def assert_unavailable(response: httpx.Response) -> None:
    """A clean 503: GraphQL-shaped JSON with SERVICE_UNAVAILABLE, a Retry-After, no driver details."""
    assert response.status_code == 503, response.text
    assert response.headers.get("retry-after"), response.headers
    assert "Traceback" not in response.text and "asyncpg" not in response.text and "sqlite" not in response.text
    body = response.json()
    codes = [error["extensions"]["code"] for error in body["errors"]]
    assert codes and set(codes) == {"SERVICE_UNAVAILABLE"}, body


def assert_log_clean(server: Any) -> None:
    log = server.output()
    assert "Exception in ASGI application" not in log, log[-3000:]
    assert "Unexpected error" not in log, log[-3000:]


@pytest.fixture
def server_with_admin(database_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, SyncGraphQLClient, str]]:
    create_admin_account(database_url, *ADMIN)
    throttling_off(database_url)  # bursts of writes from one admin are what is tested here, not its bucket
    with running_server({"DATABASE_URL": database_url}, tmp_path / "server.log") as server:
        yield server, SyncGraphQLClient(server.base_url).sign_in(*ADMIN), database_url


# ---------------------------------------------------------------------------------- database outage


@pytest.mark.skipif(not POSTGRES_URL, reason="needs DATABASE_URL pointing at PostgreSQL")
def test_postgres_outage_gives_503_and_the_server_recovers(database_url: str, tmp_path: Path) -> None:
    """The server reaches PostgreSQL through a proxy that cuts its connections and refuses new ones for a
    while: only this server loses its database, other users of the PostgreSQL server are not disturbed."""
    parts = urlsplit(database_url)
    proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    try:
        create_admin_account(database_url, *ADMIN)
        with running_server({"DATABASE_URL": proxy.url_for(database_url)}, tmp_path / "server.log") as server:
            check_outage_and_recovery(server, SyncGraphQLClient(server.base_url).sign_in(*ADMIN), proxy)
    finally:
        proxy.close()


def check_outage_and_recovery(server: ServerProcess, admin: SyncGraphQLClient, proxy: TcpProxy) -> None:
    pid = server.process.pid
    assert admin.post(VIEWER).status_code == 200
    with proxy.outage():
        # The bearer token is looked up before GraphQL runs: the ASGI middleware answers.
        assert_unavailable(admin.post(VIEWER))
        # A guest's query reads the config before execution: the GraphQL view answers.
        assert_unavailable(SyncGraphQLClient(server.base_url).post(GUEST_PRODUCTS))
        assert_unavailable(admin.post(SET_GUEST, {"a": True}))
        # The OAuth token endpoints look the consumer up: 503 in their own format.
        url = f"{server.base_url}/oauth/token/request"
        _uri, signed, _body = Client("k" * 32, client_secret="s" * 32, signature_method=SIGNATURE_HMAC_SHA256).sign(
            url, "POST"
        )
        refused = httpx.post(url, headers=signed, timeout=30)
        assert refused.status_code == 503 and "oauth_problem=" in refused.text, refused.text
        health = httpx.get(f"{server.base_url}/healthz", timeout=30)
        assert health.status_code == 503 and "Traceback" not in health.text
    deadline = time.monotonic() + 15
    while (response := admin.post(VIEWER)).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert response.json()["data"]["viewer"]["kind"] == "ADMIN"
    changed = admin.query(SET_GUEST, {"a": True})
    assert changed["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is True
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    assert server.process.pid == pid and server.process.poll() is None  # recovered without a restart
    assert_log_clean(server)


@contextlib.contextmanager
def sqlite_write_lock(path: Path) -> Iterator[None]:
    """Another process holds the write lock (a backup tool, say): writers are refused, readers go on."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        conn.execute("ROLLBACK")
        conn.close()


@contextlib.contextmanager
def sqlite_read_lock(path: Path) -> Iterator[None]:
    """Lock every reader slot of the WAL index from another process: nobody can read the file meanwhile."""
    fd = os.open(f"{path}-shm", os.O_RDWR)
    try:
        # SQLite's WAL locks are bytes 120..127 of the -shm file (write, checkpoint, recover, 5 reader marks).
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 8, 120, os.SEEK_SET)
        yield
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 8, 120, os.SEEK_SET)
        os.close(fd)


@pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite file locking")
def test_sqlite_locked_by_another_process_gives_503_and_the_server_recovers(
    server_with_admin: tuple[ServerProcess, SyncGraphQLClient, str],
) -> None:
    server, admin, database_url = server_with_admin
    path = sqlite_file(database_url)
    with sqlite_write_lock(path):
        assert_unavailable(admin.post(SET_GUEST, {"a": True}))
        # Reads still work while only the write lock is taken.
        assert admin.post(VIEWER).json()["data"]["viewer"]["kind"] == "ADMIN"
    with sqlite_read_lock(path):
        # SQLite gives up after its own retries (about 10 s): the bearer lookup fails in the middleware.
        assert_unavailable(admin.post(VIEWER))
    changed = admin.query(SET_GUEST, {"a": True})
    assert changed["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is True
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    assert server.process.poll() is None
    assert_log_clean(server)


# ---------------------------------------------------------------------------------- SIGKILL


class Writer(threading.Thread):
    """Sends one kind of write again and again until the server dies; remembers what was acknowledged."""

    def __init__(self, base_url: str, token: str, field: str) -> None:
        super().__init__(daemon=True)
        self.base_url, self.token, self.field = base_url, token, field
        self.sent: int | None = None
        self.acked: int | None = None
        self.errors: list[str] = []

    def run(self) -> None:
        value = 1
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            while True:
                self.sent = value
                try:
                    response = client.post(
                        "/graphql",
                        json={"query": UPDATE_OAUTH % self.field, "variables": {"i": {self.field: value}}},
                        headers={"Authorization": f"Bearer {self.token}"},
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    self.errors.append(response.text)
                    return
                assert body["data"]["updateOAuthConfig"]["oauth"][self.field] == value
                self.acked = value
                value += 1


class TokenWriter(threading.Thread):
    """Signs in again and again: every token handed out is an acknowledged write (a row)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.guest = SyncGraphQLClient(base_url)
        self.signed_in: list[SyncGraphQLClient] = []

    def run(self) -> None:
        while True:
            try:
                self.signed_in.append(self.guest.sign_in(*ADMIN))
            except (httpx.HTTPError, AssertionError, ValueError):
                return


def test_sigkill_during_a_burst_of_config_writes_loses_no_acknowledged_write(
    server_with_admin: tuple[ServerProcess, SyncGraphQLClient, str], tmp_path: Path
) -> None:
    server, admin, database_url = server_with_admin
    writers = [Writer(server.base_url, admin.token, field) for field in OAUTH_FIELDS]
    signer = TokenWriter(server.base_url)
    for thread in (*writers, signer):
        thread.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        all((w.acked or 0) >= 5 for w in writers) and len(signer.signed_in) >= 2
    ):
        time.sleep(0.05)
    kill_hard(server)
    for thread in (*writers, signer):
        thread.join(30)
    assert all(not w.errors for w in writers), [w.errors for w in writers]
    assert all((w.acked or 0) >= 5 for w in writers) and len(signer.signed_in) >= 2

    assert integrity_problems(database_url) == []

    with running_server({"DATABASE_URL": database_url}, tmp_path / "restarted.log") as again:
        for issued in [admin, *signer.signed_in]:  # every token handed out before the crash still works
            viewer = issued.at(again.base_url).query(VIEWER)
            assert viewer["data"]["viewer"]["kind"] == "ADMIN", viewer
        stored = admin.at(again.base_url).query(OAUTH_CONFIG)["data"]["config"]["oauth"]
        for writer in writers:
            # The last acknowledged value, or the one in flight when the server died (committed, answer lost).
            assert stored[writer.field] in {writer.acked, writer.sent}, (writer.field, stored, writer.acked)
        assert admin.at(again.base_url).post(SET_GUEST, {"a": True}).status_code == 200
        assert_log_clean(again)


class IntegrationWriter(threading.Thread):
    """Creates integrations (Custom grant) and, if asked, activates each one; remembers what was acknowledged."""

    def __init__(self, base_url: str, token: str, prefix: str, activate: bool) -> None:
        super().__init__(daemon=True)
        self.base_url, self.token, self.prefix, self.activate = base_url, token, prefix, activate
        self.created: list[str] = []
        self.activated: list[str] = []
        self.in_flight: str | None = None
        self.errors: list[str] = []

    def _call(self, client: httpx.Client, document: str, variables: dict[str, Any], field: str) -> dict | None:
        try:
            response = client.post(
                "/graphql",
                json={"query": document, "variables": variables},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError:
            return None  # the server is gone
        body = response.json()
        if response.status_code != 200 or body.get("errors") or body["data"][field]["userErrors"]:
            self.errors.append(response.text)
            return None
        return body["data"][field]

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30) as client:
            for n in itertools.count():
                name = self.in_flight = f"{self.prefix} {n}"
                fields = {
                    "name": name,
                    "resourceAccess": "CUSTOM",
                    "resources": ["Magento_Catalog::catalog"],
                    **PASSWORD,
                }
                created = self._call(client, CREATE_INTEGRATION, {"input": fields}, "createIntegration")
                if created is None:
                    return
                self.created.append(name)
                if self.activate:
                    integration_id = created["integration"]["id"]
                    if (
                        self._call(
                            client, AUTHORIZE_INTEGRATION, {"id": integration_id, **PASSWORD}, "authorizeIntegration"
                        )
                        is None
                    ):
                        return
                    self.activated.append(name)


def test_sigkill_during_integration_creation_and_activation_leaves_nothing_half_made(
    server_with_admin: tuple[ServerProcess, SyncGraphQLClient, str], tmp_path: Path
) -> None:
    server, admin, database_url = server_with_admin
    writers = [IntegrationWriter(server.base_url, admin.token, f"crash {n}", activate=n % 2 == 1) for n in range(4)]
    for writer in writers:
        writer.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(len(w.created) >= 4 for w in writers):
        time.sleep(0.05)
    kill_hard(server)
    for writer in writers:
        writer.join(30)
    assert all(not w.errors for w in writers), [w.errors for w in writers]
    assert all(len(w.created) >= 4 for w in writers)

    assert integrity_problems(database_url) == []
    stored = {row["name"]: row["status"] for row in query(database_url, "SELECT name, status FROM integration")}
    for writer in writers:
        assert set(writer.created) <= set(stored), (writer.created, stored)  # every acknowledged create is there
        assert all(stored[name] == 1 for name in writer.activated)  # every acknowledged activation too
        mine = {name for name in stored if name.startswith(writer.prefix + " ")}
        assert mine <= {*writer.created, writer.in_flight}  # and nothing else

    with running_server({"DATABASE_URL": database_url}, tmp_path / "restarted.log") as again:
        listed = admin.at(again.base_url).query("{ integrations(first: 100) { edges { node { name status } } } }")
        names = {edge["node"]["name"] for edge in listed["data"]["integrations"]["edges"]}
        assert names == set(stored)
        # An integration whose activation was cut off can simply be activated now.
        for writer in writers:
            if writer.activate and writer.in_flight in stored and stored[writer.in_flight] == 0:
                row = query(database_url, "SELECT id FROM integration WHERE name = $1", writer.in_flight)[0]
                retried = admin.at(again.base_url).query(
                    AUTHORIZE_INTEGRATION, {"id": global_id(row["id"]), **PASSWORD}
                )
                assert retried["data"]["authorizeIntegration"]["userErrors"] == [], retried
        assert integrity_problems(database_url) == []
        assert_log_clean(again)


def global_id(database_id: int) -> str:
    return base64.b64encode(f"Integration:{database_id}".encode()).decode()
