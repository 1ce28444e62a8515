"""Sign-in under attack: concurrent guesses are limited exactly, clients are throttled before any password
work, and made-up names leave no rows behind. Concurrency through real server processes (two workers on
PostgreSQL, where several workers are supported)."""

from __future__ import annotations

import concurrent.futures
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from auth.admin_tokens import SIGN_IN_FAILED
from auth.clock import clock
from models import TokenRequestLog
from tests.support.database import POSTGRES_URL, create_admin_account, query, throttling_off
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.principals import ADMIN_PASSWORD
from tests.support.servers import running_server

VICTIM = ("victim", "victim-password-1")
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"
LOCK_AT_3 = "mutation { updateOAuthConfig(input: {maxFailuresCount: 3}) { userErrors { code } } }"


@pytest.fixture
def attacked_server(database_url: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A real server (two workers on PostgreSQL), lock-out after 3 failures, no per-address throttle and no
    query-cost throttling (50 sign-ins at once from one address would empty a guest's bucket)."""
    create_admin_account(database_url, "admin", ADMIN_PASSWORD)
    throttling_off(database_url)
    create_admin_account(database_url, *VICTIM)
    workers = ("--workers", "2") if POSTGRES_URL else ()
    env = {"DATABASE_URL": database_url, "SIGN_IN_RATE_LIMIT": "0"}
    with running_server(env, tmp_path / "server.log", args=workers) as server:
        admin = SyncGraphQLClient(server.base_url).sign_in("admin", ADMIN_PASSWORD)
        assert admin.data(LOCK_AT_3)["updateOAuthConfig"] == {"userErrors": []}
        yield server, database_url


def attempt(base_url: str, password: str) -> dict[str, Any]:
    with httpx.Client(timeout=60) as client:  # a connection each, so the kernel spreads them over the workers
        body = {"query": SIGN_IN, "variables": {"u": VICTIM[0], "p": password}}
        response = client.post(f"{base_url}/graphql", json=body)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.mark.parametrize("guesses", [15, 50])
def test_concurrent_guesses_then_the_right_password_never_get_a_token_while_locked(
    attacked_server: tuple[Any, str], guesses: int
) -> None:
    server, database_url = attacked_server
    start = threading.Barrier(guesses + 1)
    answered = threading.Semaphore(0)

    def guess(_: int) -> dict[str, Any]:
        start.wait()
        try:
            return attempt(server.base_url, "wrong-guess")
        finally:
            answered.release()

    def right_password_a_little_later() -> dict[str, Any]:
        # Once three guesses have been refused (the lock-out count), while the others are still in flight:
        # however slow the machine, the account is locked by then, and the right password must not get in.
        start.wait()
        for _ in range(3):
            answered.acquire()
        return attempt(server.base_url, VICTIM[1])

    with concurrent.futures.ThreadPoolExecutor(guesses + 1) as pool:
        wrong = [pool.submit(guess, n) for n in range(guesses)]
        right = pool.submit(right_password_a_little_later)
        answers = [future.result() for future in wrong]
        after = right.result()
    assert all(a["data"] is None and a["errors"][0]["message"] == SIGN_IN_FAILED for a in answers)
    assert after["data"] is None, after  # locked: the right password is refused like any other attempt
    assert after["errors"][0]["message"] == SIGN_IN_FAILED
    rows = query(
        database_url,
        "SELECT failures_count, lock_expires_at FROM oauth_token_request_log WHERE user_name = $1",
        VICTIM[0],
    )
    assert rows[0]["failures_count"] == guesses + 1 and rows[0]["lock_expires_at"] is not None, rows
    assert "Traceback" not in server.output()


def at_the_start_of_a_window() -> None:
    """Move the server's clock to one second into a fresh throttle window, so that a slow run cannot cross
    into the next window half-way through the budget (windows are fixed minutes)."""
    from auth.throttle import WINDOW_SECONDS

    clock.advance(WINDOW_SECONDS - clock.time() % WINDOW_SECONDS + 1)


async def test_clients_are_throttled_per_address_before_any_password_check(
    client: httpx.AsyncClient, admin: GraphQLClient, guest: GraphQLClient
) -> None:
    wrong = {"u": "admin", "p": "wrong"}
    at_the_start_of_a_window()
    for _ in range(19):  # with the sign-in below, this address's 20 of the window
        assert (await guest.query(SIGN_IN, {"u": f"nobody-{uuid.uuid4()}", "p": "x"}))["errors"]
    assert await guest.sign_in("admin", ADMIN_PASSWORD)
    response = await client.post("/graphql", json={"query": SIGN_IN, "variables": wrong})
    assert response.status_code == 429, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "THROTTLED"
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])
    # Refused before the attempt was counted against the name (so before any Argon2 work).
    assert await TokenRequestLog.filter(user_name="admin").count() == 0
    # Another client, named by the trusted proxy in front (the test client connects from 127.0.0.1).
    other = await client.post(
        "/graphql", json={"query": SIGN_IN, "variables": wrong}, headers={"X-Forwarded-For": "198.51.100.20"}
    )
    assert other.status_code == 200 and other.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    clock.advance(60)
    assert (await guest.query(SIGN_IN, wrong))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_oauth_token_endpoints_are_throttled_per_address(client: httpx.AsyncClient) -> None:
    at_the_start_of_a_window()
    for _ in range(60):
        assert (await client.post("/oauth/token/request")).status_code == 400  # no OAuth parameters
    throttled = await client.post("/oauth/token/request")
    assert throttled.status_code == 429
    assert "oauth_problem=Too+many+token+requests" in throttled.text
    assert int(throttled.headers["retry-after"]) > 0


async def test_made_up_names_leave_no_rows_behind(client: httpx.AsyncClient, settings: Any) -> None:
    headers = {"X-Forwarded-For": "203.0.113.1"}
    for n in range(40):
        headers["X-Forwarded-For"] = f"203.0.113.{n % 2 + 1}"  # two addresses, each under its budget
        body = await client.post(
            "/graphql", json={"query": SIGN_IN, "variables": {"u": f"made-up-{n}", "p": "x"}}, headers=headers
        )
        assert body.json()["errors"][0]["message"] == SIGN_IN_FAILED
    assert await TokenRequestLog.all().count() == 40
    clock.advance(1801)  # past the lock-out time: one more failure forgets the stale names
    headers["X-Forwarded-For"] = "203.0.113.3"
    await client.post("/graphql", json={"query": SIGN_IN, "variables": {"u": "last", "p": "x"}}, headers=headers)
    assert await TokenRequestLog.all().values_list("user_name", flat=True) == ["last"]
