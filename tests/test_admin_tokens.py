"""Admin sign-in, lock-out, expiry and revocation, through HTTP."""

from __future__ import annotations

import datetime as dt

import httpx

from auth.admin_tokens import SIGN_IN_FAILED, create_admin
from auth.clock import clock
from tests.conftest import ADMIN_PASSWORD, gql, login

VIEWER = "{ viewer { kind name resources } }"
LOGIN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token expiresAt } }"


async def test_login_returns_a_token_that_makes_the_caller_an_admin(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    body = await gql(client, LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
    issued = body["data"]["generateAdminToken"]
    expires = dt.datetime.fromisoformat(issued["expiresAt"])
    assert abs((expires - clock.now()).total_seconds() - 4 * 3600) < 60
    viewer = await gql(client, VIEWER, token=issued["token"])
    assert viewer["data"]["viewer"] == {"kind": "ADMIN", "name": "admin", "resources": ["Magento_Backend::all"]}


async def test_wrong_password_gets_magentos_message(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    body = await gql(client, LOGIN, {"u": "admin", "p": "wrong"})
    assert body["data"] is None
    assert body["errors"][0]["message"] == SIGN_IN_FAILED
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_lockout_after_six_failures_and_unlock_after_timeout(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    for _ in range(6):
        body = await gql(client, LOGIN, {"u": "admin", "p": "wrong"})
        assert body["errors"][0]["message"] == SIGN_IN_FAILED
    locked = await gql(client, LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
    assert locked["data"] is None
    assert locked["errors"][0]["message"] == SIGN_IN_FAILED
    clock.advance(1700)  # real seconds spent above also count: keep a margin below 1800
    still = await gql(client, LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
    assert still["data"] is None
    clock.advance(101)
    token = await login(client)
    assert token


async def test_five_failures_do_not_lock_and_success_resets_the_count(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    for _ in range(5):
        await gql(client, LOGIN, {"u": "admin", "p": "wrong"})
    assert await login(client)
    for _ in range(5):
        await gql(client, LOGIN, {"u": "admin", "p": "wrong"})
    assert await login(client)


async def test_lockout_settings_are_configurable(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    token = await login(client)
    body = await gql(
        client,
        "mutation { updateOAuthConfig(input: {maxFailuresCount: 2, lockoutTime: 60}) { userErrors { code } } }",
        token=token,
    )
    assert body["data"]["updateOAuthConfig"]["userErrors"] == []
    for _ in range(2):
        await gql(client, LOGIN, {"u": "admin", "p": "wrong"})
    assert (await gql(client, LOGIN, {"u": "admin", "p": ADMIN_PASSWORD}))["data"] is None
    clock.advance(61)
    assert await login(client)


async def test_expired_token_is_401_not_guest(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    token = await login(client)
    clock.advance(4 * 3600 + 1)
    body = await gql(client, VIEWER, token=token, status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoked_token_stops_working(client: httpx.AsyncClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    token = await login(client)
    other = await login(client)
    body = await gql(client, "mutation { revokeAdminToken { revoked userErrors { code } } }", token=token)
    assert body["data"]["revokeAdminToken"] == {"revoked": True, "userErrors": []}
    denied = await gql(client, VIEWER, token=token, status=401)
    assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql(client, VIEWER, token=other))["data"]["viewer"]["kind"] == "ADMIN"


async def test_bad_credentials_are_401(client: httpx.AsyncClient) -> None:
    for header in ("Bearer nope", "Bearer ", "Basic YWRtaW46eA==", "OAuth garbage", "Bearer a b"):
        response = await client.post("/graphql", json={"query": VIEWER}, headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_no_header_is_guest(client: httpx.AsyncClient) -> None:
    body = await gql(client, VIEWER)
    assert body["data"]["viewer"] == {"kind": "GUEST", "name": "guest", "resources": []}


async def test_tokens_are_stored_hashed(client: httpx.AsyncClient) -> None:
    from models import AdminToken

    await create_admin("admin", ADMIN_PASSWORD)
    token = await login(client)
    stored = await AdminToken.all().values_list("token_hash", flat=True)
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64
