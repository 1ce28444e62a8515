"""Activation is a compare-and-set: of overlapping activations through real server processes (two workers on
PostgreSQL) exactly one wins, the others get a userError, and only the winner's credentials exist.

To make the requests overlap for certain, the test holds the integration's consumer row (PostgreSQL) or the
database's write lock (SQLite) from outside while they arrive: each reads what it needs and then waits at
its first write, the claim on the activation. When the lock goes, one claim wins.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.database import POSTGRES_URL, create_admin_account, query, sqlite_file
from tests.support.graphql import SyncGraphQLClient
from tests.support.oauth import CallbackServer, signer
from tests.support.servers import free_port, running_server

ADMIN = ("race-admin", "race-admin-password")
#: Your Password of that admin, as its integration writes send it.
PASSWORD = {"currentPassword": ADMIN[1]}
CREATE = """mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id } userErrors { code message } } }"""
ACTIVATE = """mutation($id: ID!, $currentPassword: String) {{
  {verb}(id: $id, currentPassword: $currentPassword) {{
    integration {{ status }} identityLinkUrl
    credentials {{ consumerKey consumerSecret accessToken accessTokenSecret }}
    userErrors {{ code message }} }} }}"""


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(base URL, admin token, database URL) of a real server; two workers on PostgreSQL."""
    create_admin_account(database_url, *ADMIN)
    port = free_port()
    env = {"DATABASE_URL": database_url, "ALLOW_PRIVATE_CALLBACKS": "1", "STORE_BASE_URL": f"http://127.0.0.1:{port}/"}
    workers = ("--workers", "2") if POSTGRES_URL else ()
    with running_server(env, tmp_path / "server.log", port=port, args=workers) as server:
        yield server.base_url, SyncGraphQLClient(server.base_url).sign_in(*ADMIN).token or "", database_url


def call(base_url: str, token: str, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """One request on a connection of its own, so the kernel spreads them over the workers."""
    return SyncGraphQLClient(base_url, token).data(document, variables)


def create(base_url: str, token: str, **fields: Any) -> str:
    created = call(base_url, token, CREATE, {"input": {"resourceAccess": "ALL", **fields, **PASSWORD}})[
        "createIntegration"
    ]
    assert created["userErrors"] == [], created
    return created["integration"]["id"]


@contextlib.contextmanager
def consumer_rows_held(database_url: str) -> Iterator[None]:
    """Writers to ``oauth_consumer`` wait until the block ends; readers go on."""
    if not database_url.startswith("postgres"):
        conn = sqlite3.connect(sqlite_file(database_url), isolation_level=None, timeout=0)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    release = threading.Event()
    held = threading.Event()

    async def hold() -> None:
        import asyncpg

        conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
        try:
            async with conn.transaction():
                await conn.execute("SELECT id FROM oauth_consumer FOR UPDATE")
                held.set()
                while not release.is_set():
                    await asyncio.sleep(0.02)
        finally:
            await conn.close()

    holder = threading.Thread(target=lambda: asyncio.run(hold()), daemon=True)
    holder.start()
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def overlapping(count: int, database_url: str, action: Any) -> list[Any]:
    """``count`` calls of ``action`` that all reach the database's write path before any write is done."""
    with concurrent.futures.ThreadPoolExecutor(count) as pool, consumer_rows_held(database_url):
        futures = [pool.submit(action) for _ in range(count)]
        deadline = time.monotonic() + 60
        while not all_arrived(futures, database_url) and time.monotonic() < deadline:
            time.sleep(0.05)
    return [future.result() for future in futures]


def all_arrived(futures: list[concurrent.futures.Future[Any]], database_url: str) -> bool:
    """Every request has either answered already or is waiting at the held lock (not: is still on its way).

    PostgreSQL shows the waiting ones (two workers: each may have one at the lock, the others are told
    IN_PROGRESS at once). SQLite shows nothing from outside, and its server's one connection runs every
    statement after the one waiting at the lock, so nobody answers meanwhile: there a fixed wait stands in,
    short of the driver's busy timeout.
    """
    if not database_url.startswith("postgres"):
        time.sleep(2)
        return True
    answered = sum(future.done() for future in futures)
    sql = "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
    waiting = int(query(database_url, sql)[0]["n"])
    return answered + waiting >= len(futures)


def signed_viewer(base_url: str, credentials: dict[str, str]) -> int:
    viewer = {"query": "{ viewer { kind } }"}
    return requests.post(f"{base_url}/graphql", json=viewer, auth=signer(credentials), timeout=30).status_code


def test_concurrent_reauthorizations_have_one_winner_whose_credentials_work(store: tuple[str, str, str]) -> None:
    base_url, token, database_url = store
    integration_id = create(base_url, token, name="Manual")
    first = call(base_url, token, ACTIVATE.format(verb="authorizeIntegration"), {"id": integration_id, **PASSWORD})
    assert first["authorizeIntegration"]["userErrors"] == []
    reauthorize = ACTIVATE.format(verb="reauthorizeIntegration")
    answers = [
        a["reauthorizeIntegration"]
        for a in overlapping(
            4, database_url, lambda: call(base_url, token, reauthorize, {"id": integration_id, **PASSWORD})
        )
    ]
    winners = [a for a in answers if not a["userErrors"]]
    losers = [a for a in answers if a["userErrors"]]
    assert len(winners) == 1, answers
    assert all([e["code"] for e in a["userErrors"]] == ["IN_PROGRESS"] for a in losers), losers
    assert all(a["credentials"] is None for a in losers)
    assert signed_viewer(base_url, winners[0]["credentials"]) == 200
    assert signed_viewer(base_url, first["authorizeIntegration"]["credentials"]) == 401
    rows = query(database_url, "SELECT type FROM oauth_token")
    assert rows == [{"type": "access"}]


def test_concurrent_token_exchange_activations_post_the_secret_once(
    store: tuple[str, str, str], callback: CallbackServer
) -> None:
    base_url, token, database_url = store
    integration_id = create(
        base_url, token, name="Exchange", callbackUrl=callback.url(), identityLinkUrl="http://127.0.0.1:9/link"
    )
    authorize = ACTIVATE.format(verb="authorizeIntegration")
    answers = [
        a["authorizeIntegration"]
        for a in overlapping(
            3, database_url, lambda: call(base_url, token, authorize, {"id": integration_id, **PASSWORD})
        )
    ]
    winners = [a for a in answers if not a["userErrors"]]
    assert len(winners) == 1 and winners[0]["identityLinkUrl"], answers
    assert all([e["code"] for e in a["userErrors"]] == ["IN_PROGRESS"] for a in answers if a["userErrors"]), answers
    assert len(callback.received) == 1  # the consumer secret was sent once
    rows = query(database_url, "SELECT type FROM oauth_token")
    assert rows == [{"type": "verifier"}]
    claims = query(database_url, "SELECT activation_started_at FROM oauth_consumer")
    assert claims == [{"activation_started_at": None}]  # released once delivered
