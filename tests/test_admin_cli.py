"""Recovering a locked-out admin from the command line: ``unlock-admin`` and ``reset-admin-password``, run as
real subprocesses against the database a real server uses, then signing in through that server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from auth.admin_tokens import SIGN_IN_FAILED
from auth.clock import clock
from tests.support.database import create_admin_account, query
from tests.support.graphql import SyncGraphQLClient
from tests.support.servers import run_cli

ONLY_ADMIN = ("owner", "owner-password-1")
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"


@pytest.fixture
def store(database_url: str, server_factory: Any) -> Iterator[tuple[SyncGraphQLClient, dict[str, str]]]:
    """A server whose only admin is locked out (six wrong passwords), and the environment of its database."""
    create_admin_account(database_url, *ONLY_ADMIN)
    env = {"DATABASE_URL": database_url}
    guest = SyncGraphQLClient(server_factory(env).base_url)
    for attempt in range(6):
        assert guest.query(SIGN_IN, {"u": ONLY_ADMIN[0], "p": f"wrong-{attempt}"})["data"] is None
    assert signed_in(guest, *ONLY_ADMIN) is None  # locked: the right password is refused too
    yield guest, env


def signed_in(guest: SyncGraphQLClient, username: str, password: str) -> SyncGraphQLClient | None:
    body = guest.query(SIGN_IN, {"u": username, "p": password})
    if body.get("errors"):
        assert body["errors"][0]["message"] == SIGN_IN_FAILED
        return None
    return guest.with_token(body["data"]["generateAdminToken"]["token"])


def test_unlock_admin_clears_the_lock(store: tuple[SyncGraphQLClient, dict[str, str]], database_url: str) -> None:
    guest, env = store
    unknown = run_cli("unlock-admin", "--username", "nobody", env=env)
    assert unknown.returncode == 1 and "no admin named 'nobody'" in unknown.stderr
    done = run_cli("unlock-admin", "--username", ONLY_ADMIN[0], env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Unlocked admin 'owner'."
    assert query(database_url, "SELECT user_name FROM oauth_token_request_log") == []
    admin = signed_in(guest, *ONLY_ADMIN)
    assert admin is not None and admin.data("{ viewer { name } }")["viewer"]["name"] == "owner"
    again = run_cli("unlock-admin", "--username", ONLY_ADMIN[0], env=env)
    assert again.returncode == 0 and again.stdout.strip() == "Admin 'owner' was not locked."


def test_reset_admin_password_sets_it_revokes_tokens_and_unlocks(
    store: tuple[SyncGraphQLClient, dict[str, str]], database_url: str
) -> None:
    guest, env = store
    # A token issued before the lock (as if it had been stolen) stops working after the reset.
    run_cli("unlock-admin", "--username", ONLY_ADMIN[0], env=env)
    old_session = signed_in(guest, *ONLY_ADMIN)
    assert old_session is not None
    for attempt in range(6):
        guest.query(SIGN_IN, {"u": ONLY_ADMIN[0], "p": f"wrong-{attempt}"})

    short = run_cli("reset-admin-password", "--username", ONLY_ADMIN[0], "--password", "short", env=env)
    assert short.returncode == 2 and "at least 7 characters" in short.stderr
    unknown = run_cli("reset-admin-password", "--username", "nobody", "--password", "long-enough-1", env=env)
    assert unknown.returncode == 1 and "no admin named 'nobody'" in unknown.stderr

    done = run_cli("reset-admin-password", "--username", ONLY_ADMIN[0], "--password", "new-owner-pw-2", env=env)
    assert done.returncode == 0, done.stderr
    assert "new-owner-pw-2" not in done.stdout + done.stderr  # never echoed
    assert old_session.query("{ viewer { kind } }", expect_status=401)["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    assert signed_in(guest, *ONLY_ADMIN) is None  # the old password is gone
    assert signed_in(guest, ONLY_ADMIN[0], "new-owner-pw-2") is not None  # and the lock with it
    assert query(database_url, "SELECT user_name FROM oauth_token_request_log") == []


def test_reset_admin_password_asks_twice_when_not_given(store: tuple[SyncGraphQLClient, dict[str, str]]) -> None:
    """Without --password it is asked twice (a terminal) or read from the first two lines of standard input,
    so it need not appear on a command line that other users of the machine can see."""
    guest, env = store
    differ = run_cli("reset-admin-password", "--username", ONLY_ADMIN[0], env=env, stdin="first-pw-123\nother-pw-123\n")
    assert differ.returncode == 2 and "do not match" in differ.stderr
    assert signed_in(guest, ONLY_ADMIN[0], "first-pw-123") is None
    nothing = run_cli("reset-admin-password", "--username", ONLY_ADMIN[0], env=env)
    assert nothing.returncode == 2
    typed = run_cli("reset-admin-password", "--username", ONLY_ADMIN[0], env=env, stdin="typed-pw-123\ntyped-pw-123\n")
    assert typed.returncode == 0, typed.stderr
    assert signed_in(guest, ONLY_ADMIN[0], "typed-pw-123") is not None


def test_reset_can_turn_off_two_factor_for_a_lost_authenticator(
    store: tuple[SyncGraphQLClient, dict[str, str]], database_url: str
) -> None:
    guest, env = store
    run_cli("unlock-admin", "--username", ONLY_ADMIN[0], env=env)
    admin = signed_in(guest, *ONLY_ADMIN)
    assert admin is not None
    enrolment = admin.data(
        'mutation { enrollAdminTotp(currentPassword: "owner-password-1") { secret userErrors { code } } }'
    )["enrollAdminTotp"]
    code = pyotp.TOTP(enrolment["secret"]).at(clock.time())
    confirmed = admin.data("mutation($c: String!) { confirmAdminTotp(code: $c) { enabled } }", {"c": code})
    assert confirmed["confirmAdminTotp"]["enabled"] is True
    assert signed_in(guest, *ONLY_ADMIN) is None  # a code is needed now, and the phone is lost

    kept = run_cli("reset-admin-password", "--username", ONLY_ADMIN[0], "--password", "after-loss-1", env=env)
    assert kept.returncode == 0 and signed_in(guest, ONLY_ADMIN[0], "after-loss-1") is None  # still needs a code
    done = run_cli(
        "reset-admin-password", "--username", ONLY_ADMIN[0], "--password", "after-loss-2", "--disable-totp", env=env
    )
    assert done.returncode == 0, done.stderr
    assert "two-factor sign-in is off" in done.stdout
    assert query(database_url, "SELECT totp_secret FROM admin_user") == [{"totp_secret": None}]
    assert signed_in(guest, ONLY_ADMIN[0], "after-loss-2") is not None
