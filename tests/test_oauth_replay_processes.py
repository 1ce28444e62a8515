"""Replay protection holds across worker processes: the nonce is unique per consumer in the database."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import Any

import httpx
import pytest

from settings import Settings
from tests.support.database import POSTGRES_URL
from tests.support.oauth import VIEWER, make_integration, sign

ENCRYPTION_KEY = "replay-test-key-material"

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="needs DATABASE_URL pointing at PostgreSQL")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, encryption_key=ENCRYPTION_KEY)


async def test_same_signed_request_twenty_times_at_once_on_two_processes_succeeds_once(
    app: Any, database_url: str, server_factory: Any
) -> None:
    creds = await make_integration("Replay target")
    env = {"DATABASE_URL": database_url, "ENCRYPTION_KEY": ENCRYPTION_KEY, "STORE_BASE_URL": "http://store.test/"}
    servers = [server_factory(env), server_factory(env)]

    # Both processes are reached under one public name, so one signature is valid on either.
    headers = {**sign(creds.client(), "http://store.test/graphql"), "Host": "store.test"}
    headers["Content-Type"] = "application/json"
    body = json.dumps({"query": VIEWER})
    async with httpx.AsyncClient(timeout=30) as http:
        responses = await asyncio.gather(
            *(http.post(f"{servers[i % 2].base_url}/graphql", content=body, headers=headers) for i in range(20))
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [401] * 19, [r.text for r in responses]
    refused = {r.json()["errors"][0]["message"] for r in responses if r.status_code == 401}
    assert refused == {f"The nonce is already being used by the consumer with ID {creds.consumer_id}"}
    winner = next(r for r in responses if r.status_code == 200)
    assert winner.json()["data"]["viewer"]["kind"] == "INTEGRATION"
