"""Admin user names compare as Magento's database compares them: ignoring case (and Unicode forms).

"Admin" signs in as "admin", cannot be created beside it, and shares its lock-out count, so changing the
case of a name never buys more guesses. Stores from before keep their users (``0008_username_keys``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.support.admin_users import (
    CREATE_USER,
    LOCKED_USERS,
    UPDATE_USER,
    USER_PASSWORD,
    VIEWER,
    create_role,
    create_user,
    user_input,
)
from tests.support.database import POSTGRES_URL, reset_postgres
from tests.support.graphql import GraphQLClient
from tests.support.principals import ADMIN_PASSWORD

SALES = "Magento_Sales::sales"
LOCK_AFTER_3 = "mutation { updateOAuthConfig(input: {maxFailuresCount: 3}) { userErrors { code } } }"
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"


async def test_a_name_differing_only_in_case_is_the_same_user(admin: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    clerk = await create_user(admin, "Clerk", role["id"])
    for twin in ("clerk", "CLERK", " Clerk ", "\uff23lerk"):  # the last with a full-width C
        twin_input = user_input(twin, role["id"], ADMIN_PASSWORD, email="twin@example.com")
        body = await admin.query(CREATE_USER, {"input": twin_input})
        assert admin.user_errors(body["data"]["createAdminUser"]) == [(("input", "username"), "UNIQUE")], twin
    other = await create_user(admin, "other", role["id"])
    rename = {"id": other["id"], "username": "ADMIN", "currentPassword": ADMIN_PASSWORD}
    body = await admin.query(UPDATE_USER, {"input": rename})
    assert admin.user_errors(body["data"]["updateAdminUser"]) == [(("input", "username"), "UNIQUE")]

    signed_in = await admin.with_token(None).sign_in("cLeRk", USER_PASSWORD)
    assert (await signed_in.data(VIEWER))["viewer"]["name"] == "Clerk"  # the name as it was given
    assert clerk["username"] == "Clerk"
    # A rename keeps the key in step: the new name signs in, in any case.
    body = await admin.query(
        UPDATE_USER, {"input": {"id": other["id"], "username": "Bookkeeper", "currentPassword": ADMIN_PASSWORD}}
    )
    assert admin.user_errors(body["data"]["updateAdminUser"]) == []
    assert (await admin.with_token(None).sign_in("bookkeeper", USER_PASSWORD)).token


async def test_changing_the_case_of_a_name_buys_no_more_guesses(admin: GraphQLClient) -> None:
    assert (await admin.data(LOCK_AFTER_3))["updateOAuthConfig"]["userErrors"] == []
    guest = admin.with_token(None)
    for name in ("Admin", "ADMIN", "aDmIn"):
        body = await guest.query(SIGN_IN, {"u": name, "p": "wrong-password-1"})
        assert body["data"] is None
    locked = await guest.query(SIGN_IN, {"u": "admin", "p": ADMIN_PASSWORD})
    assert locked["data"] is None  # the right password, but the name is locked whatever case it was typed in
    users = (await admin.data(LOCKED_USERS))["lockedAdminUsers"]
    assert [entry["user"]["username"] for entry in users] == ["admin"]


async def _users_and_counts_after_upgrade(database_url: str) -> tuple[list[tuple[str, str]], list[tuple[str, int]]]:
    """A store at 0007 with twin names and counts by case, upgraded: the keys and the counts it ends with."""
    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate

    from models.database import apply_migrations
    from settings import Settings

    settings = Settings(database_url=database_url)
    await migrate(
        config=settings.tortoise_config(), app_labels=["models"], target="models.0007_totp_steps_and_token_expiry"
    )
    await Tortoise.close_connections()
    await Tortoise.init(config=settings.tortoise_config())
    connection = Tortoise.get_connection("default")
    postgres = database_url.startswith("postgres")
    mark = (lambda i: f"${i}") if postgres else (lambda i: "?")
    for name in ("admin", "Admin", "Zoë"):
        await connection.execute_query(
            f"INSERT INTO admin_user (username, password_hash, is_active, email, first_name, last_name, totp_enabled, "
            f"created_at) VALUES ({mark(1)}, 'x', {mark(2)}, '', '', '', {mark(3)}, CURRENT_TIMESTAMP)",
            [name, True, False],
        )
    for name, failures in (("ZOË", 2), ("admin", 1), ("ADMIN", 4)):
        await connection.execute_query(
            "INSERT INTO oauth_token_request_log (user_name, user_type, failures_count, last_attempt_at) "
            f"VALUES ({mark(1)}, 3, {mark(2)}, CURRENT_TIMESTAMP)",
            [name, failures],
        )
    await Tortoise.close_connections()
    await apply_migrations(settings)
    await Tortoise.init(config=settings.tortoise_config())
    connection = Tortoise.get_connection("default")
    try:
        _, users = await connection.execute_query("SELECT username, username_key FROM admin_user ORDER BY id")
        _, counts = await connection.execute_query(
            "SELECT user_name, failures_count FROM oauth_token_request_log ORDER BY user_name"
        )
    finally:
        await Tortoise.close_connections()
    return [(u["username"], u["username_key"]) for u in users], [(c["user_name"], c["failures_count"]) for c in counts]


def test_upgrading_keys_existing_users_and_their_sign_in_counts(tmp_path: Path) -> None:
    if POSTGRES_URL:
        asyncio.run(reset_postgres(POSTGRES_URL))
        database_url = POSTGRES_URL
    else:
        database_url = f"sqlite://{tmp_path / 'old.sqlite3'}"
    try:
        users, counts = asyncio.run(_users_and_counts_after_upgrade(database_url))
    finally:
        if POSTGRES_URL:  # leave the session's database migrated for the tests after this one
            from models.database import apply_migrations
            from settings import Settings

            asyncio.run(apply_migrations(Settings(database_url=POSTGRES_URL)))
    # Twins from before keep both rows; the newer one signs in again once renamed.
    assert users == [("admin", "admin"), ("Admin", "admin [twin 2]"), ("Zoë", "zoë")]
    assert counts == [("admin", 1), ("zoë", 2)]
