"""Admin sign-in, lock-out, expiry and revocation, through HTTP."""

from __future__ import annotations

import datetime as dt

from auth.admin_tokens import SIGN_IN_FAILED, create_admin
from auth.clock import clock
from tests.support.graphql import GraphQLClient
from tests.support.principals import ADMIN_PASSWORD

VIEWER = "{ viewer { kind name resources } }"
LOGIN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token expiresAt } }"


async def test_login_returns_a_token_that_makes_the_caller_an_admin(guest: GraphQLClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    body = await guest.query(LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
    issued = body["data"]["generateAdminToken"]
    expires = dt.datetime.fromisoformat(issued["expiresAt"])
    assert abs((expires - clock.now()).total_seconds() - 4 * 3600) < 60
    viewer = await guest.with_token(issued["token"]).query(VIEWER)
    assert viewer["data"]["viewer"] == {"kind": "ADMIN", "name": "admin", "resources": ["Magento_Backend::all"]}


async def test_wrong_password_gets_magentos_message(guest: GraphQLClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    body = await guest.query(LOGIN, {"u": "admin", "p": "wrong"})
    assert body["data"] is None
    assert body["errors"][0]["message"] == SIGN_IN_FAILED
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_lockout_after_six_failures_and_unlock_after_timeout(guest: GraphQLClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    for _ in range(6):
        body = await guest.query(LOGIN, {"u": "admin", "p": "wrong"})
        assert body["errors"][0]["message"] == SIGN_IN_FAILED
    locked = await guest.query(LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
    assert locked["data"] is None
    assert locked["errors"][0]["message"] == SIGN_IN_FAILED
    clock.advance(1700)  # real seconds spent above also count: keep a margin below 1800
    still = await guest.query(LOGIN, {"u": "admin", "p": ADMIN_PASSWORD})
    assert still["data"] is None
    clock.advance(101)
    admin = await guest.sign_in("admin", ADMIN_PASSWORD)
    assert admin.token


async def test_five_failures_do_not_lock_and_success_resets_the_count(guest: GraphQLClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    for _ in range(5):
        await guest.query(LOGIN, {"u": "admin", "p": "wrong"})
    assert (await guest.sign_in("admin", ADMIN_PASSWORD)).token
    for _ in range(5):
        await guest.query(LOGIN, {"u": "admin", "p": "wrong"})
    assert (await guest.sign_in("admin", ADMIN_PASSWORD)).token


async def test_lockout_settings_are_configurable(guest: GraphQLClient) -> None:
    await create_admin("admin", ADMIN_PASSWORD)
    admin = await guest.sign_in("admin", ADMIN_PASSWORD)
    body = await admin.query(
        "mutation { updateOAuthConfig(input: {maxFailuresCount: 2, lockoutTime: 60}) { userErrors { code } } }"
    )
    assert body["data"]["updateOAuthConfig"]["userErrors"] == []
    for _ in range(2):
        await guest.query(LOGIN, {"u": "admin", "p": "wrong"})
    assert (await guest.query(LOGIN, {"u": "admin", "p": ADMIN_PASSWORD}))["data"] is None
    clock.advance(61)
    assert (await guest.sign_in("admin", ADMIN_PASSWORD)).token


async def test_expired_token_is_401_not_guest(admin: GraphQLClient) -> None:
    clock.advance(4 * 3600 + 1)
    body = await admin.query(VIEWER, expect_status=401)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoking_signs_the_admin_out_everywhere(guest: GraphQLClient, admin: GraphQLClient) -> None:
    """As Magento's revokeAdminAccessToken: every token of the caller stops working, not only the one in use;
    other admins stay signed in."""
    await create_admin("colleague", ADMIN_PASSWORD)
    other_session = await guest.sign_in("admin", ADMIN_PASSWORD)
    colleague = await guest.sign_in("colleague", ADMIN_PASSWORD)
    body = await admin.query("mutation { revokeAdminToken { revoked userErrors { code } } }")
    assert body["data"]["revokeAdminToken"] == {"revoked": True, "userErrors": []}
    for signed_out in (admin, other_session):
        denied = await signed_out.query(VIEWER, expect_status=401)
        assert denied["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await colleague.query(VIEWER))["data"]["viewer"]["name"] == "colleague"
    assert (await guest.sign_in("admin", ADMIN_PASSWORD)).token  # signing in again works


async def test_bad_credentials_are_401(guest: GraphQLClient) -> None:
    for header in ("Bearer nope", "Bearer ", "Basic YWRtaW46eA==", "OAuth garbage", "Bearer a b"):
        body = await guest.query(VIEWER, headers={"Authorization": header}, expect_status=401)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", header


async def test_no_header_is_guest(guest: GraphQLClient) -> None:
    body = await guest.query(VIEWER)
    assert body["data"]["viewer"] == {"kind": "GUEST", "name": "guest", "resources": []}


async def test_tokens_are_stored_hashed(admin: GraphQLClient) -> None:
    from models import AdminToken

    stored = await AdminToken.all().values_list("token_hash", flat=True)
    assert admin.token not in stored and len(stored) == 1 and len(stored[0]) == 64
