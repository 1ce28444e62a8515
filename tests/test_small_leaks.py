"""What an attacker could learn or reuse beyond the big holes: every response is nosniff and secret-bearing
ones are never cached, a present but empty credential is refused (never a guest), no error quotes a
credential, access logs carry no query strings, and the database files are private."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import httpx
import pytest

from observability.logs import AccessLogWithoutQuery
from settings import Settings


@pytest.mark.parametrize("path", ["/graphql", "/oauth/token/request", "/oauth/token/access"])
async def test_secret_bearing_answers_are_never_stored(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json={"query": "{ viewer { kind } }"})
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/healthz"), ("GET", "/admin/"), ("GET", "/nope"), ("GET", "/graphql")]
)
async def test_every_answer_is_nosniff(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, headers={"Accept": "text/html"})
    assert response.headers["x-content-type-options"] == "nosniff", (path, response.status_code)


@pytest.mark.parametrize("header", ["", "   ", "\t"])
async def test_an_empty_authorization_header_is_refused_not_a_guest(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post("/graphql", json={"query": "{ viewer { kind } }"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header",
    ["Bearer\tsecret-token-value-1234", "Bearer\u00a0secret-token-value-1234", "secret-token-value-1234"],
)
async def test_errors_never_quote_a_credential(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { kind } }"}, headers={"Authorization": header.encode("latin-1")}
    )
    assert response.status_code == 401
    assert "secret-token" not in response.text
    assert "malformed" in response.json()["errors"][0]["message"]


def test_access_log_lines_carry_no_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        (
            "127.0.0.1:5000",
            "GET",
            '/graphql?query=mutation{generateAdminToken(username:"a",password:"hunter2")}',
            "1.1",
            405,
        ),
        None,
    )
    assert AccessLogWithoutQuery().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /graphql HTTP/1.1" 405'


def test_a_new_sqlite_database_and_its_folder_are_private(tmp_path: Path) -> None:
    import asyncio

    from models.database import apply_migrations

    folder = tmp_path / "store-data"
    asyncio.run(apply_migrations(Settings(database_url=f"sqlite://{folder / 'db.sqlite3'}")))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "db.sqlite3").stat().st_mode) == 0o600
