"""The data version across real server processes: a write through one process is read through another on its next
request (no message between them), and concurrent writes through two processes each move the version on."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from auth.config import load_config
from tests.support.database import POSTGRES_URL
from tests.support.graphql import GraphQLClient, SyncGraphQLClient

pytestmark = pytest.mark.usefixtures("store")

PRODUCTS = "{ products(first: 5) { edges { node { id sku name } } } }"
RENAME = "mutation($id: Int!, $n: String!) { updateProduct(input: {id: $id, name: $n}) { userErrors { code } } }"


@pytest.mark.skipif(not POSTGRES_URL, reason="several processes on one database need PostgreSQL")
async def test_a_write_through_one_process_is_read_through_the_other_on_its_next_request(
    database_url: str, server_factory: Any, admin: GraphQLClient
) -> None:
    env = {"DATABASE_URL": database_url}
    writer_server, reader_server = server_factory(env), server_factory(env)
    writer = SyncGraphQLClient(writer_server.base_url, admin.token)
    reader = SyncGraphQLClient(reader_server.base_url)
    first = reader.get(PRODUCTS).json()["data"]["products"]["edges"][0]["node"]
    for round_ in range(5):
        cached = reader.get(PRODUCTS)
        assert cached.json()["data"]["products"]["edges"][0]["node"]["name"] == (
            first["name"] if round_ == 0 else f"Name {round_ - 1}"
        )
        assert writer.data(RENAME, {"id": first["id"], "n": f"Name {round_}"})["updateProduct"]["userErrors"] == []
        fresh = reader.get(PRODUCTS, headers={"If-None-Match": cached.headers["etag"]})
        assert fresh.status_code == 200, round_
        assert fresh.json()["data"]["products"]["edges"][0]["node"]["name"] == f"Name {round_}"


async def test_concurrent_writes_through_two_processes_each_move_the_version_on(
    database_url: str, server_factory: Any, admin: GraphQLClient
) -> None:
    env = {"DATABASE_URL": database_url}
    servers = [server_factory(env), server_factory(env)]
    products = (await admin.data(PRODUCTS))["products"]["edges"]
    before = (await load_config()).data_version
    writes = 20
    headers = {"Authorization": f"Bearer {admin.token}"}
    async with httpx.AsyncClient(timeout=60, headers=headers) as http:
        answers = await asyncio.gather(
            *(
                http.post(
                    f"{servers[n % 2].base_url}/graphql",
                    json={"query": RENAME, "variables": {"id": products[n % 5]["node"]["id"], "n": f"Concurrent {n}"}},
                )
                for n in range(writes)
            )
        )
    assert [a.json()["data"]["updateProduct"]["userErrors"] for a in answers] == [[]] * writes
    assert (await load_config()).data_version == before + writes
