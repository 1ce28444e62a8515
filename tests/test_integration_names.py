"""Integration names are unique by a normalised key the database enforces: case (beyond ASCII), Unicode
forms and surrounding space never make twins, not even through concurrent requests to real processes."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.names import name_key
from tests.support.database import POSTGRES_URL, create_admin_account, query
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.integrations import CREATE, YOUR_PASSWORD
from tests.support.servers import running_server

ADMIN = ("names-admin", "names-admin-password")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Élan x", "élan x"),  # case beyond ASCII (SQLite's LOWER() folds ASCII only)
        ("Café", "Cafe\u0301"),  # composed and decomposed forms (NFC)
        ("ERP", "\uff25\uff32\uff30"),  # full-width letters (NFKC)
        ("Straße", "STRASSE"),  # full case folding
        ("Feed", "  feed "),  # surrounding space
        ("ERP Sync", "ERP  \tSync"),  # runs of space, which a page shows as one
    ],
)
async def test_names_equal_after_normalisation_are_twins(admin: GraphQLClient, first: str, second: str) -> None:
    assert name_key(first) == name_key(second)
    created = await admin.data(CREATE, {"input": {**YOUR_PASSWORD, "name": first}})
    assert admin.user_errors(created["createIntegration"]) == []
    twin = await admin.data(CREATE, {"input": {**YOUR_PASSWORD, "name": second}})
    assert admin.user_errors(twin["createIntegration"]) == [(("input", "name"), "UNIQUE")]


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    create_admin_account(database_url, *ADMIN)
    workers = ("--workers", "2") if POSTGRES_URL else ()
    with running_server({"DATABASE_URL": database_url}, tmp_path / "server.log", args=workers) as process:
        yield process.base_url, SyncGraphQLClient(process.base_url).sign_in(*ADMIN).token or ""
        assert "Traceback" not in process.output()


def test_concurrent_creates_differing_only_in_case_have_one_winner(server: tuple[str, str], database_url: str) -> None:
    base_url, token = server
    spellings = ["Partner Élan", "partner élan", "PARTNER ÉLAN", "Partner Élan ", "partner e\u0301lan"]

    def create(name: str, start: threading.Barrier) -> dict[str, Any]:
        with httpx.Client(timeout=60) as http:  # a connection each, so the kernel spreads them over the workers
            start.wait()
            response = http.post(
                f"{base_url}/graphql",
                json={"query": CREATE, "variables": {"input": {"name": name, "currentPassword": ADMIN[1]}}},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200, response.text
        return response.json()["data"]["createIntegration"]

    for round_ in range(10):
        names = [f"{s} {round_}" for s in spellings]
        start = threading.Barrier(len(names))
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            payloads = list(pool.map(create, names, [start] * len(names)))
        winners = [p for p in payloads if not p["userErrors"]]
        assert len(winners) == 1, payloads
        unique = [(("input", "name"), "UNIQUE")]
        assert all(SyncGraphQLClient.user_errors(p) == unique for p in payloads if p["userErrors"]), payloads
    stored = query(database_url, "SELECT name_key FROM integration")
    assert len(stored) == 10 and len({row["name_key"] for row in stored}) == 10
