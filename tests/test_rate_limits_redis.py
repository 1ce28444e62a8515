"""Buckets in Redis: shared by real server processes, driven by the test clock, and failing open.

Needs Redis at 127.0.0.1:6379 (``TEST_REDIS_URL`` to use another); each test uses a key prefix of its own.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from auth.clock import clock
from settings import Settings
from tests.support.database import POSTGRES_URL, run
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.principals import serving
from tests.support.redis import TEST_REDIS_URL, redis_answers

VIEWER = "{ viewer { kind } }"  # 1 point


pytestmark = pytest.mark.skipif(
    not redis_answers(TEST_REDIS_URL), reason=f"no Redis answers at {TEST_REDIS_URL} (set TEST_REDIS_URL)"
)


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = f"test-{uuid.uuid4().hex}:"
    yield name

    async def clean() -> None:
        from redis.asyncio import Redis

        client = Redis.from_url(TEST_REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"{name}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()

    run(clean())


@pytest.fixture
async def app(settings: Settings, prefix: str) -> AsyncIterator[Any]:
    async with serving(dataclasses.replace(settings, redis_url=TEST_REDIS_URL, redis_key_prefix=prefix)) as served:
        yield served


async def store_config(database_url: str, values: dict[str, str]) -> None:
    from auth.config import save_config
    from models.database import open_database

    async with open_database(Settings(database_url=database_url)):
        await save_config(values)


def small_guest_bucket(database_url: str, size: int, rate: int) -> None:
    from auth.config import GUEST_BUCKET_SIZE, GUEST_RESTORE_RATE

    run(store_config(database_url, {GUEST_BUCKET_SIZE: str(size), GUEST_RESTORE_RATE: str(rate)}))


async def test_a_redis_bucket_throttles_and_recovers_on_the_driven_clock(
    guest: GraphQLClient, admin: GraphQLClient, prefix: str
) -> None:
    body = await admin.query(
        "mutation { updateRateLimitConfig(input: {guestBucketSize: 3, guestRestoreRate: 1}) { userErrors { code } } }"
    )
    assert body["data"]["updateRateLimitConfig"]["userErrors"] == [], body
    for _ in range(3):
        assert "errors" not in await guest.query(VIEWER)
    response = await guest.post(VIEWER)
    assert response.status_code == 429
    assert response.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert response.headers["retry-after"] == "1"
    clock.advance(1)
    body = await guest.query(VIEWER)
    assert "errors" not in body
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 0

    from redis.asyncio import Redis

    client = Redis.from_url(TEST_REDIS_URL)
    try:
        keys = [key.decode() async for key in client.scan_iter(match=f"{prefix}*")]
    finally:
        await client.aclose()
    assert f"{prefix}guest:127.0.0.1" in keys


async def test_without_redis_requests_are_served_and_throttled_by_the_process(
    settings: Settings, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    await store_config(
        database_url, {"graphql/throttling/guest_bucket_size": "3", "graphql/throttling/guest_restore_rate": "1"}
    )
    nowhere = dataclasses.replace(settings, redis_url="redis://:secret-password@127.0.0.1:1/0", metrics_enabled=True)
    with caplog.at_level(logging.WARNING, logger="integrations.throttling"):
        async with serving(nowhere) as served:
            from tests.support.graphql import asgi_client

            async with asgi_client(served) as http:
                guest = GraphQLClient(http)
                for _ in range(3):
                    body = await guest.query(VIEWER)
                    assert "errors" not in body, body
                    assert body["extensions"]["cost"]["requestedQueryCost"] == 1
                assert guest.error_codes(await guest.query(VIEWER, expect_status=429)) == ["THROTTLED"]
                exposition = (await http.get("/metrics")).text
    # Counted on /metrics: the first request found Redis away; the rest used the process's own buckets.
    [failures] = [line for line in exposition.splitlines() if line.startswith("rate_limit_store_failures_total")]
    lines = [r.getMessage() for r in caplog.records if r.name == "integrations.throttling"]
    assert len(lines) == 1, lines  # once, not per request
    assert "Redis at 127.0.0.1:1/0 is unavailable" in lines[0]
    assert "secret-password" not in lines[0]
    assert float(failures.split()[-1]) == 1  # once: then the process's own buckets


def test_two_server_processes_share_one_bucket(database_url: str, prefix: str, server_factory: Any) -> None:
    small_guest_bucket(database_url, size=10, rate=1)
    env = {"DATABASE_URL": database_url, "REDIS_URL": TEST_REDIS_URL, "REDIS_KEY_PREFIX": prefix}
    servers = [server_factory(env), server_factory(env)]
    callers = [SyncGraphQLClient(server.base_url) for server in servers]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda n: callers[n % 2].post(VIEWER), range(40)))
    elapsed = time.monotonic() - started
    assert {r.status_code for r in responses} <= {200, 429}
    allowed = [n for n, r in enumerate(responses) if r.status_code == 200]
    # One bucket of 10 points, 1 point back per second: never the 20 two separate buckets would allow.
    assert 10 <= len(allowed) <= 10 + int(elapsed) + 1, (len(allowed), elapsed)
    assert {n % 2 for n in allowed} == {0, 1}  # both processes served some
    for server in servers:
        assert "Traceback" not in server.output()


@pytest.mark.skipif(not POSTGRES_URL, reason="several workers need DATABASE_URL pointing at PostgreSQL")
def test_serve_with_workers_and_no_redis_says_each_worker_has_its_own_buckets(
    database_url: str, server_factory: Any
) -> None:
    server = server_factory({"DATABASE_URL": database_url}, args=("--workers", "2"))
    assert "each of the 2 workers keeps its own buckets" in server.output()
