"""What sign-in leaves behind stays bounded: failed attempts of made-up names are forgotten once stale, and
expired admin tokens are deleted by later sign-ins, a batch at a time. Through HTTP, with the server's clock
moved forward instead of waiting."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

from auth.admin_tokens import EXPIRED_TOKENS_PER_SIGN_IN, SIGN_IN_FAILED, create_admin
from auth.clock import clock
from settings import Settings
from tests.support.graphql import GraphQLClient, asgi_client
from tests.support.principals import ADMIN_PASSWORD, serving

SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"
LOCKOUT_SECONDS = 60


@pytest.fixture
async def unthrottled(settings: Settings) -> AsyncIterator[GraphQLClient]:
    """A guest of an app without the per-address sign-in limit (one client sends every attempt here)."""
    async with serving(dataclasses.replace(settings, sign_in_rate_limit=0)) as app, asgi_client(app) as http:
        yield GraphQLClient(http)


async def log_rows() -> int:
    from models import TokenRequestLog

    return await TokenRequestLog.all().count()


async def test_a_thousand_made_up_names_leave_a_bounded_log(
    unthrottled: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bound: the log holds at most the names tried within the last lock-out time (``lockoutTime``), since
    every failure deletes the rows of names neither locked nor tried within it (Magento's
    ``outdated_authentication_failures_cleanup``). At 4 names per 4 seconds and a 60-second lock-out, that
    is 64 rows (the attempts of 16 batches), whatever the number of attempts: here 1,000. In production the
    per-address sign-in limit (``SIGN_IN_RATE_LIMIT`` a minute) bounds the names an address can add."""
    # An unknown name is checked against a dummy hash, to cost what a wrong password costs. Its subject here
    # is the log, not the hashing: the dummy hash is made as cheap as Argon2 allows, so 1,000 sign-ins take
    # seconds, not minutes.
    from argon2 import PasswordHasher

    from auth import passwords

    monkeypatch.setattr(passwords, "_DUMMY_HASH", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x"))
    await create_admin("admin", ADMIN_PASSWORD)
    admin = await unthrottled.sign_in("admin", ADMIN_PASSWORD)
    body = await admin.query(
        f"mutation {{ updateOAuthConfig(input: {{lockoutTime: {LOCKOUT_SECONDS}}}) {{ userErrors {{ code }} }} }}"
    )
    assert body["data"]["updateOAuthConfig"]["userErrors"] == []
    batch, attempts, most = 4, 1000, 0

    async def fail_once() -> None:
        refused = await unthrottled.query(SIGN_IN, {"u": f"nobody-{secrets.token_hex(8)}", "p": "guess"})
        assert refused["errors"][0]["message"] == SIGN_IN_FAILED

    for _ in range(attempts // batch):
        await asyncio.gather(*(fail_once() for _ in range(batch)))
        most = max(most, await log_rows())
        clock.advance(batch)  # one attempt per second
    bound = batch * (LOCKOUT_SECONDS // batch + 1)
    assert most <= bound, most
    assert most >= LOCKOUT_SECONDS  # the log did fill up to the window: the bound is the cleanup's doing
    # Once nobody has tried for the lock-out time, the next failure leaves only its own row.
    clock.advance(LOCKOUT_SECONDS + 1)
    await fail_once()
    assert await log_rows() == 1


async def admin_tokens() -> int:
    from models import AdminToken

    return await AdminToken.all().count()


async def test_expired_admin_tokens_are_deleted_by_later_sign_ins(guest: GraphQLClient) -> None:
    """A sign-in deletes up to ``EXPIRED_TOKENS_PER_SIGN_IN`` expired tokens, oldest first: the table holds the
    tokens of one token lifetime, and a backlog goes in a few sign-ins (each of bounded cost)."""
    from models import AdminToken, AdminUser

    await create_admin("admin", ADMIN_PASSWORD)
    for _ in range(3):
        await guest.sign_in("admin", ADMIN_PASSWORD)
    assert await admin_tokens() == 3
    clock.advance(4 * 3600 + 1)  # the default lifetime: all three are expired now
    fresh = await guest.sign_in("admin", ADMIN_PASSWORD)
    assert await admin_tokens() == 1
    assert (await fresh.data("{ viewer { kind } }"))["viewer"]["kind"] == "ADMIN"

    # A backlog (say, from before this clean-up existed) goes a batch per sign-in.
    backlog = 2 * EXPIRED_TOKENS_PER_SIGN_IN + 50
    user = await AdminUser.get(username="admin")
    long_ago = clock.now() - dt.timedelta(days=30)
    rows: list[Any] = [
        AdminToken(admin=user, token_hash=secrets.token_hex(32), created_at=long_ago, expires_at=long_ago)
        for _ in range(backlog)
    ]
    await AdminToken.bulk_create(rows)
    counts = []
    for _ in range(3):
        await guest.sign_in("admin", ADMIN_PASSWORD)
        counts.append(await admin_tokens())
    # Left after n sign-ins: what the batches have not reached yet, the fresh token above and one per sign-in.
    expected = [max(backlog - EXPIRED_TOKENS_PER_SIGN_IN * n, 0) + 1 + n for n in (1, 2, 3)]
    assert counts == expected, counts
