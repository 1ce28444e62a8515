"""Admin users, locked users and one's own password, through HTTP: Your Password first, tokens revoked when
access is taken away, the escalation guard, the rules about oneself, and the last active admin with All,
which two admins removing each other at the same time through two server processes cannot both remove."""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import threading
import time
from typing import Any

import pytest

from auth.acl import ALL
from auth.passwords import LETTERS_AND_DIGITS_MESSAGE, TOO_SHORT_MESSAGE
from tests.support.admin_users import (
    CHANGE_PASSWORD,
    CREATE_ROLE,
    CREATE_USER,
    DELETE_USER,
    GET_ROLE,
    GET_USER,
    INVALIDATE_TOKENS,
    LOCKED_USERS,
    ROLES,
    UNLOCK_USER,
    UPDATE_ROLE,
    UPDATE_USER,
    USER_FIELDS,
    USER_PASSWORD,
    USERS,
    VIEWER,
    administrators_role_id,
    create_role,
    create_user,
    payload_of,
    restricted_admin,
    role_input,
    user_input,
)
from tests.support.database import POSTGRES_URL, create_admin_account, query
from tests.support.graphql import GraphQLClient, SyncGraphQLClient
from tests.support.principals import ADMIN_PASSWORD, IntegrationCaller

SALES = "Magento_Sales::sales"
LOCK_AFTER_2 = "mutation { updateOAuthConfig(input: {maxFailuresCount: 2}) { userErrors { code } } }"
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"


async def refused_token(caller: GraphQLClient) -> bool:
    """The caller's token no longer authenticates (401, never a fallback to guest)."""
    body = await caller.query(VIEWER, expect_status=401)
    return caller.error_codes(body) == ["UNAUTHENTICATED"]


# ------------------------------------------------------------------------------------- creating and reading


async def test_a_created_user_holds_its_role_and_signs_in(admin: GraphQLClient, guest: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    user = await create_user(
        admin, "  clerk ", role["id"], email="clerk@shop.example", firstName="Ada", lastName="Lovelace"
    )
    assert {k: v for k, v in user.items() if k not in ("id", "createdAt")} == {
        "username": "clerk",
        "email": "clerk@shop.example",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "isActive": True,
        "role": {"id": role["id"], "name": "Clerks"},
        "totpEnabled": False,
    }
    assert (await admin.data(GET_USER, {"id": user["id"]}))["adminUser"] == user
    clerk = await guest.sign_in("clerk", USER_PASSWORD)
    viewer = (await clerk.data(VIEWER))["viewer"]
    assert viewer["name"] == "clerk" and viewer["role"] == {"id": role["id"], "name": "Clerks"}
    assert set(viewer["resources"]) == set(role["resources"])

    page = (await admin.data(USERS, {"first": 1}))["adminUsers"]
    assert [e["node"]["username"] for e in page["edges"]] == ["admin"]
    assert page["edges"][0]["node"]["role"]["name"] == "Administrators"
    rest = (await admin.data(USERS, {"first": 1, "after": page["pageInfo"]["endCursor"]}))["adminUsers"]
    assert [e["node"]["username"] for e in rest["edges"]] == ["clerk"] and not rest["pageInfo"]["hasNextPage"]
    for unknown in ("nope", role["id"]):  # a role's id is no user's
        assert (await admin.data(GET_USER, {"id": unknown}))["adminUser"] is None


async def test_no_password_hash_or_totp_secret_is_readable(admin: GraphQLClient) -> None:
    fields = await admin.data('{ __type(name: "AdminUser") { fields { name } } }')
    names = {f["name"] for f in fields["__type"]["fields"]}
    assert names == set(USER_FIELDS.replace("{", " ").replace("}", " ").split()) - {"name"}
    assert not {n for n in names if "password" in n.lower() or "secret" in n.lower() or "hash" in n.lower()}


async def test_user_input_is_checked_with_magentos_password_rule(admin: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    await create_user(admin, "clerk", role["id"])
    cases: list[tuple[dict[str, Any], list[tuple[tuple[str, ...], str]]]] = [
        ({"username": "clerk"}, [(("input", "username"), "UNIQUE")]),
        (
            {"username": " ", "firstName": ""},
            [(("input", "username"), "REQUIRED"), (("input", "firstName"), "REQUIRED")],
        ),
        ({"email": "not-an-email"}, [(("input", "email"), "INVALID_EMAIL")]),
        ({"password": "abc12"}, [(("input", "password"), "INVALID")]),
        ({"password": "only-letters"}, [(("input", "password"), "INVALID")]),
        ({"password": "1234567"}, [(("input", "password"), "INVALID")]),
        ({"roleId": "nope"}, [(("input", "roleId"), "NOT_FOUND")]),
    ]
    for fields, expected in cases:
        body = await admin.query(CREATE_USER, {"input": user_input("new", role["id"], ADMIN_PASSWORD, **fields)})
        assert admin.user_errors(body["data"]["createAdminUser"]) == expected, fields
    body = await admin.query(CREATE_USER, {"input": user_input("new", role["id"], ADMIN_PASSWORD, password="short")})
    messages = [e["message"] for e in body["data"]["createAdminUser"]["userErrors"]]
    assert messages == [TOO_SHORT_MESSAGE, LETTERS_AND_DIGITS_MESSAGE]
    users = (await admin.data(USERS))["adminUsers"]["edges"]
    assert [e["node"]["username"] for e in users] == ["admin", "clerk"]


# ------------------------------------------------------------------------------------- Your Password


async def test_every_user_write_needs_your_password_first_and_writes_nothing_without_it(
    admin: GraphQLClient,
) -> None:
    role = await create_role(admin, "Clerks", SALES)
    user = await create_user(admin, "clerk", role["id"])
    writes: list[tuple[str, str, Any]] = [
        ("createAdminUser", CREATE_USER, lambda p: {"input": user_input("x", "nope", p, email="bad")}),
        (
            "updateAdminUser",
            UPDATE_USER,
            lambda p: {"input": {"id": user["id"], "isActive": False, "password": "short", "currentPassword": p}},
        ),
        ("deleteAdminUser", DELETE_USER, lambda p: {"id": user["id"], "password": p}),
        ("invalidateAdminTokens", INVALIDATE_TOKENS, lambda p: {"id": user["id"], "password": p}),
        ("changeAdminPassword", CHANGE_PASSWORD, lambda p: {"current": p, "new": "new-password-2"}),
    ]
    clerk = await admin.with_token(None).sign_in("clerk", USER_PASSWORD)
    for field, document, variables in writes:
        path = ("input", "currentPassword") if "input" in variables(None) else ("currentPassword",)
        missing = await admin.query(document, variables(None))
        assert admin.user_errors(missing["data"][field]) == [(path, "REQUIRED")], field
        wrong = await admin.query(document, variables("not-my-password-1"))
        assert admin.user_errors(wrong["data"][field]) == [(path, "INVALID_PASSWORD")], field  # reported alone
        assert wrong["data"][field]["userErrors"][0]["message"] == (
            "You have entered an invalid password for current user."
        )
    assert (await admin.data(GET_USER, {"id": user["id"]}))["adminUser"] == user
    assert [e["node"]["username"] for e in (await admin.data(USERS))["adminUsers"]["edges"]] == ["admin", "clerk"]
    assert (await clerk.data(VIEWER))["viewer"]["name"] == "clerk"  # not signed out
    assert (await admin.with_token(None).sign_in("admin", ADMIN_PASSWORD)).token  # the password is unchanged


async def test_wrong_passwords_lock_the_admin_out_like_failed_sign_ins(admin: GraphQLClient) -> None:
    assert (await admin.data(LOCK_AFTER_2))["updateOAuthConfig"]["userErrors"] == []
    role = await create_role(admin, "Clerks", SALES)
    for _ in range(2):
        body = await admin.query(CREATE_USER, {"input": user_input("x", role["id"], "guess-1")})
        assert admin.user_errors(body["data"]["createAdminUser"]) == [
            (("input", "currentPassword"), "INVALID_PASSWORD")
        ]
    assert await refused_token(admin)  # locked: the token in use is revoked
    locked = await admin.with_token(None).query(SIGN_IN, {"u": "admin", "p": ADMIN_PASSWORD})
    assert locked["data"] is None


# ------------------------------------------------------------------------------------- tokens


async def test_deactivating_or_deleting_a_user_revokes_its_tokens(admin: GraphQLClient, guest: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    user = await create_user(admin, "clerk", role["id"])
    clerk = await guest.sign_in("clerk", USER_PASSWORD)
    body = await admin.query(
        UPDATE_USER, {"input": {"id": user["id"], "isActive": False, "currentPassword": ADMIN_PASSWORD}}
    )
    assert payload_of(body, "updateAdminUser", "user")["isActive"] is False
    assert await refused_token(clerk)
    assert (await guest.query(SIGN_IN, {"u": "clerk", "p": USER_PASSWORD}))["data"] is None
    body = await admin.query(
        UPDATE_USER, {"input": {"id": user["id"], "isActive": True, "currentPassword": ADMIN_PASSWORD}}
    )
    assert payload_of(body, "updateAdminUser", "user")["isActive"] is True
    assert await refused_token(clerk)  # revoked, not merely refused while inactive
    again = await guest.sign_in("clerk", USER_PASSWORD)
    body = await admin.query(DELETE_USER, {"id": user["id"], "password": ADMIN_PASSWORD})
    assert body["data"]["deleteAdminUser"] == {"deletedId": user["id"], "userErrors": []}
    assert await refused_token(again)
    assert (await admin.data(GET_USER, {"id": user["id"]}))["adminUser"] is None
    assert (await admin.data(GET_ROLE, {"id": role["id"]}))["adminRole"]["userCount"] == 0


async def test_setting_a_users_password_signs_it_out(admin: GraphQLClient, guest: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    user = await create_user(admin, "clerk", role["id"])
    clerk = await guest.sign_in("clerk", USER_PASSWORD)
    update = {"id": user["id"], "password": "reset-password-9", "currentPassword": ADMIN_PASSWORD}
    assert (await admin.query(UPDATE_USER, {"input": update}))["data"]["updateAdminUser"]["userErrors"] == []
    assert await refused_token(clerk)
    assert (await guest.query(SIGN_IN, {"u": "clerk", "p": USER_PASSWORD}))["data"] is None
    assert (await guest.sign_in("clerk", "reset-password-9")).token


async def test_invalidating_a_users_tokens(admin: GraphQLClient, guest: GraphQLClient) -> None:
    role = await create_role(admin, "Clerks", SALES)
    user = await create_user(admin, "clerk", role["id"])
    sessions = [await guest.sign_in("clerk", USER_PASSWORD) for _ in range(2)]
    body = await admin.query(INVALIDATE_TOKENS, {"id": user["id"], "password": ADMIN_PASSWORD})
    assert body["data"]["invalidateAdminTokens"] == {"revokedCount": 2, "userErrors": []}
    assert [await refused_token(s) for s in sessions] == [True, True]
    assert (await guest.sign_in("clerk", USER_PASSWORD)).token  # signing in again works


async def test_changing_ones_own_password_keeps_only_the_token_in_use(
    admin: GraphQLClient, guest: GraphQLClient
) -> None:
    other_session = await guest.sign_in("admin", ADMIN_PASSWORD)
    weak = await admin.query(CHANGE_PASSWORD, {"current": ADMIN_PASSWORD, "new": "weakpass"})
    assert admin.user_errors(weak["data"]["changeAdminPassword"]) == [(("newPassword",), "INVALID")]
    assert weak["data"]["changeAdminPassword"]["userErrors"][0]["message"] == LETTERS_AND_DIGITS_MESSAGE
    same = await admin.query(CHANGE_PASSWORD, {"current": ADMIN_PASSWORD, "new": ADMIN_PASSWORD})
    assert admin.user_errors(same["data"]["changeAdminPassword"]) == [(("newPassword",), "INVALID")]
    assert (await other_session.data(VIEWER))["viewer"]["name"] == "admin"  # nothing changed yet

    body = await admin.query(CHANGE_PASSWORD, {"current": ADMIN_PASSWORD, "new": "brand-new-pass-2"})
    assert body["data"]["changeAdminPassword"] == {"userErrors": []}
    assert (await admin.data(VIEWER))["viewer"]["name"] == "admin"
    assert await refused_token(other_session)
    assert (await guest.query(SIGN_IN, {"u": "admin", "p": ADMIN_PASSWORD}))["data"] is None
    assert (await guest.sign_in("admin", "brand-new-pass-2")).token


async def test_changing_ones_own_password_through_the_user_form_keeps_the_token_in_use(
    admin: GraphQLClient, guest: GraphQLClient
) -> None:
    me = (await admin.data(USERS))["adminUsers"]["edges"][0]["node"]
    other_session = await guest.sign_in("admin", ADMIN_PASSWORD)
    update = {"id": me["id"], "password": "brand-new-pass-2", "firstName": "Me", "currentPassword": ADMIN_PASSWORD}
    assert payload_of(await admin.query(UPDATE_USER, {"input": update}), "updateAdminUser", "user")["firstName"] == "Me"
    assert (await admin.data(VIEWER))["viewer"]["name"] == "admin"
    assert await refused_token(other_session)


# ------------------------------------------------------------------------------------- the escalation guard


async def test_an_admin_cannot_give_or_manage_more_than_its_role_holds(admin: GraphQLClient) -> None:
    manager = await restricted_admin(admin, "Magento_User::acl_users", SALES, username="manager")
    password = USER_PASSWORD
    administrators = await administrators_role_id(admin)
    clerks = await create_role(admin, "Clerks", "Magento_Sales::sales_order")
    wide = await create_role(admin, "Sales and customers", SALES, "Magento_Customer::manage")

    # Managing users does not need User Roles: the user form still lists every role (by name, ignoring case).
    choices = (await manager.data("{ adminRoleChoices { id name } }"))["adminRoleChoices"]
    assert [c["name"] for c in choices] == [
        "Administrators",
        "Clerks",
        "manager role",
        "Sales and customers",
    ]  # ignoring case
    assert clerks["id"] in {c["id"] for c in choices}
    denied = await manager.query("{ adminRoles { edges { node { id resources } } } }")
    assert denied["data"]["adminRoles"] is None
    assert denied["errors"][0]["extensions"]["missingResources"] == ["Magento_User::acl_roles"]
    clerk = await create_user(manager, "clerk", clerks["id"], current_password=password)  # a narrower role: allowed
    for role_id in (administrators, wide["id"]):
        body = await manager.query(CREATE_USER, {"input": user_input("boss", role_id, password)})
        assert manager.user_errors(body["data"]["createAdminUser"]) == [
            (("input", "roleId"), "OUT_OF_SCOPE_PERMISSION")
        ]
        move = {"id": clerk["id"], "roleId": role_id, "currentPassword": password}
        body = await manager.query(UPDATE_USER, {"input": move})
        assert manager.user_errors(body["data"]["updateAdminUser"]) == [
            (("input", "roleId"), "OUT_OF_SCOPE_PERMISSION")
        ]
    payload = (await manager.query(CREATE_USER, {"input": user_input("boss", wide["id"], password)}))["data"]
    assert "Magento_Customer::manage" in payload["createAdminUser"]["userErrors"][0]["message"]

    # Nor edit, delete or sign out a user whose role holds more than its own.
    the_admin = (await admin.data(USERS))["adminUsers"]["edges"][0]["node"]
    edits = [
        (
            UPDATE_USER,
            "updateAdminUser",
            {"input": {"id": the_admin["id"], "password": "taken-over-1", "currentPassword": password}},
            ("input", "id"),
        ),
        (DELETE_USER, "deleteAdminUser", {"id": the_admin["id"], "password": password}, ("id",)),
        (INVALIDATE_TOKENS, "invalidateAdminTokens", {"id": the_admin["id"], "password": password}, ("userId",)),
    ]
    for document, field, variables, path in edits:
        body = await manager.query(document, variables)
        assert manager.user_errors(body["data"][field]) == [(path, "OUT_OF_SCOPE_PERMISSION")], field
    assert (await admin.data(VIEWER))["viewer"]["name"] == "admin"  # still signed in, password unchanged
    assert (await admin.with_token(None).sign_in("admin", ADMIN_PASSWORD)).token
    names = [e["node"]["username"] for e in (await admin.data(USERS))["adminUsers"]["edges"]]
    assert names == ["admin", "clerk", "manager"]


async def test_nobody_changes_their_own_role_or_deactivates_or_deletes_themselves(admin: GraphQLClient) -> None:
    me = (await admin.data(USERS))["adminUsers"]["edges"][0]["node"]
    lesser = await create_role(admin, "Clerks", SALES)
    other_all = await create_role(admin, "Also all", "Magento_Backend::all")
    cases = [
        (
            UPDATE_USER,
            "updateAdminUser",
            {"input": {"id": me["id"], "roleId": lesser["id"], "currentPassword": ADMIN_PASSWORD}},
            ("input", "roleId"),
        ),
        (
            UPDATE_USER,
            "updateAdminUser",
            {"input": {"id": me["id"], "roleId": other_all["id"], "currentPassword": ADMIN_PASSWORD}},
            ("input", "roleId"),
        ),
        (
            UPDATE_USER,
            "updateAdminUser",
            {"input": {"id": me["id"], "isActive": False, "currentPassword": ADMIN_PASSWORD}},
            ("input", "isActive"),
        ),
        (DELETE_USER, "deleteAdminUser", {"id": me["id"], "password": ADMIN_PASSWORD}, ("id",)),
    ]
    for document, field, variables, path in cases:
        body = await admin.query(document, variables)
        assert admin.user_errors(body["data"][field]) == [(path, "NOT_ALLOWED")], variables
    assert (await admin.data(GET_USER, {"id": me["id"]}))["adminUser"] == me
    # What is not one's role or activity may be edited.
    update = {"id": me["id"], "email": "me@shop.example", "isActive": True, "currentPassword": ADMIN_PASSWORD}
    assert payload_of(await admin.query(UPDATE_USER, {"input": update}), "updateAdminUser", "user")["email"] == (
        "me@shop.example"
    )


async def test_an_integration_with_all_is_refused_every_role_user_integration_and_config_field(
    admin: GraphQLClient, integration: IntegrationCaller
) -> None:
    from tests.support.integrations import create

    user = await create_user(admin, "clerk", (await create_role(admin, "Clerks", SALES))["id"])
    role = (await admin.data(GET_ROLE, {"id": user["role"]["id"]}))["adminRole"]
    made = await create(admin, name="Made by admin")
    everything = integration("Magento_Backend::all")
    ids = {"role": role["id"], "user": user["id"], "integration": made["id"]}
    reads = {
        "adminRoles": "{ adminRoles { edges { node { id } } } }",
        "adminRole": f'{{ adminRole(id: "{ids["role"]}") {{ id }} }}',
        "adminUsers": "{ adminUsers { edges { node { id } } } }",
        "adminUser": f'{{ adminUser(id: "{ids["user"]}") {{ id }} }}',
        "lockedAdminUsers": "{ lockedAdminUsers { failuresCount } }",
        "integrations": "{ integrations { edges { node { id } } } }",
        "integration": f'{{ integration(id: "{ids["integration"]}") {{ id }} }}',
        "integrationsFileProblems": "{ integrationsFileProblems }",
        "resourceTree": "{ resourceTree { id } }",
    }
    for field, document in reads.items():
        body = await everything.query(document)
        assert body["data"][field] is None and everything.error_codes_by_path(body) == {field: "FORBIDDEN"}, field
    config = await everything.query(
        "{ config { webApiSecurity { allowAnonymousGuestAccess } oauth { maxFailuresCount } } }"
    )
    assert config["data"]["config"] == {"webApiSecurity": None, "oauth": None}
    assert set(everything.error_codes(config)) == {"FORBIDDEN"}
    password = f'currentPassword: "{ADMIN_PASSWORD}"'
    writes = [
        f'createAdminRole(input: {{name: "X", resourceAccess: ALL, {password}}}) {{ role {{ id }} }}',
        f'updateAdminRole(input: {{id: "{ids["role"]}", resourceAccess: ALL, {password}}}) {{ role {{ id }} }}',
        f'deleteAdminRole(id: "{ids["role"]}", {password}) {{ deletedId }}',
        f'createAdminUser(input: {{username: "x", email: "x@example.com", firstName: "X", lastName: "X", '
        f'password: "pass-word-1", roleId: "{ids["role"]}", {password}}}) {{ userErrors {{ code }} }}',
        f'updateAdminUser(input: {{id: "{ids["user"]}", isActive: false, {password}}}) {{ userErrors {{ code }} }}',
        f'deleteAdminUser(id: "{ids["user"]}", {password}) {{ deletedId }}',
        f'invalidateAdminTokens(userId: "{ids["user"]}", {password}) {{ revokedCount }}',
        f'unlockAdminUser(id: "{ids["user"]}") {{ userErrors {{ code }} }}',
        f'changeAdminPassword({password}, newPassword: "pass-word-2") {{ userErrors {{ code }} }}',
        'createIntegration(input: {name: "Y", resourceAccess: ALL}) { integration { id } }',
        f'updateIntegration(input: {{id: "{ids["integration"]}", resourceAccess: ALL}}) {{ integration {{ id }} }}',
        f'deleteIntegration(id: "{ids["integration"]}") {{ deletedId }}',
        f'authorizeIntegration(id: "{ids["integration"]}") {{ userErrors {{ code }} }}',
        f'reauthorizeIntegration(id: "{ids["integration"]}") {{ userErrors {{ code }} }}',
        "setGuestAccess(allow: true) { userErrors { code } }",
        "updateOAuthConfig(input: {maxFailuresCount: 1}) { userErrors { code } }",
    ]
    for write in writes:
        body = await everything.query(f"mutation {{ {write} }}")
        assert body["data"] is None and everything.error_codes(body) == ["FORBIDDEN"], write
    assert (await admin.data(GET_ROLE, {"id": role["id"]}))["adminRole"] == role
    assert (await admin.data(GET_USER, {"id": user["id"]}))["adminUser"] == user
    assert [e["node"]["name"] for e in (await admin.data(ROLES))["adminRoles"]["edges"]] == ["Administrators", "Clerks"]
    names = await admin.data(
        "{ integrations { edges { node { name status } } } config { oauth { maxFailuresCount } } }"
    )
    assert names["integrations"]["edges"] == [{"node": {"name": "Made by admin", "status": "INACTIVE"}}]
    assert names["config"]["oauth"]["maxFailuresCount"] == 6


# ------------------------------------------------------------------------------------- locked users


async def test_locked_users_are_listed_and_unlocked_without_a_password(
    admin: GraphQLClient, guest: GraphQLClient
) -> None:
    assert (await admin.data(LOCK_AFTER_2))["updateOAuthConfig"]["userErrors"] == []
    role = await create_role(admin, "Clerks", SALES)
    clerk = await create_user(admin, "clerk", role["id"])
    locksmith = await restricted_admin(admin, "Magento_User::locks", username="locksmith")
    assert (await locksmith.data(LOCKED_USERS))["lockedAdminUsers"] == []
    for _ in range(2):
        await guest.query(SIGN_IN, {"u": "clerk", "p": "wrong"})
    await guest.query(SIGN_IN, {"u": "nobody", "p": "wrong"})  # a name that is no admin is not listed
    assert (await guest.query(SIGN_IN, {"u": "clerk", "p": USER_PASSWORD}))["data"] is None  # locked
    locked = (await locksmith.data(LOCKED_USERS))["lockedAdminUsers"]
    assert [(lock["user"], lock["failuresCount"]) for lock in locked] == [({"id": clerk["id"], "username": "clerk"}, 3)]
    assert locked[0]["lockExpiresAt"] > "2000"

    # The unlocked user is All Users' data: the locksmith selects only the user errors.
    with_user = await locksmith.query(
        "mutation($id: ID!) { unlockAdminUser(id: $id) { user { username } userErrors { code } } }", {"id": clerk["id"]}
    )
    assert with_user["data"] is None and locksmith.error_codes(with_user) == ["FORBIDDEN"]
    body = await locksmith.query(UNLOCK_USER, {"id": clerk["id"]})
    assert body["data"]["unlockAdminUser"] == {"userErrors": []}
    assert (await locksmith.data(LOCKED_USERS))["lockedAdminUsers"] == []
    assert (await guest.sign_in("clerk", USER_PASSWORD)).token
    body = await locksmith.query(UNLOCK_USER, {"id": "nope"})
    assert locksmith.user_errors(body["data"]["unlockAdminUser"]) == [(("id",), "NOT_FOUND")]
    body = await admin.query(
        "mutation($id: ID!) { unlockAdminUser(id: $id) { user { username } } }", {"id": clerk["id"]}
    )
    assert body["data"]["unlockAdminUser"]["user"] == {"username": "clerk"}

    # A deleted user's lock goes with it: a new user of the same name is not locked out.
    for _ in range(2):
        await guest.query(SIGN_IN, {"u": "clerk", "p": "wrong"})
    assert len((await admin.data(LOCKED_USERS))["lockedAdminUsers"]) == 1
    deleted = await admin.query(DELETE_USER, {"id": clerk["id"], "password": ADMIN_PASSWORD})
    assert deleted["data"]["deleteAdminUser"]["userErrors"] == []
    await create_user(admin, "clerk", role["id"])
    assert (await guest.sign_in("clerk", USER_PASSWORD)).token


# ------------------------------------------------------------------------------------- the last admin with All

Call = tuple[SyncGraphQLClient, str, dict[str, Any]]


class RowLocks:
    """PostgreSQL: rows locked ``FOR UPDATE`` from a connection of the test's own, until ``release()``.

    Two requests that each remove "the other" admin then both wait at the statement that writes those rows,
    having read everything else already, and go on together when the locks are released: the narrowest
    race there is. A check made before that statement, or a statement that cannot see what the other one
    commits, lets both through.
    """

    def __init__(self, database_url: str, sql: str, *params: Any) -> None:
        self.url, self.sql, self.params = database_url, sql, params
        self._locked, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._hold()), daemon=True)

    async def _hold(self) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.url.replace("postgres://", "postgresql://", 1))
        try:
            async with conn.transaction():
                assert len(await conn.fetch(self.sql, *self.params)) == 2
                self._locked.set()
                await asyncio.get_running_loop().run_in_executor(None, self._release.wait)
        finally:
            await conn.close()

    def __enter__(self) -> RowLocks:
        self._thread.start()
        assert self._locked.wait(30)
        return self

    def release(self) -> None:
        self._release.set()

    def __exit__(self, *_exc: object) -> None:
        self.release()
        self._thread.join(30)


def _waiting_for_locks(database_url: str) -> int:
    rows = query(
        database_url,
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = $1",
        "Lock",
    )
    return int(rows[0]["n"])


def _at_once(calls: list[Call], locks: RowLocks | None) -> list[tuple[int, dict[str, Any]]]:
    """Send each request from its own thread, all released at the same moment; with ``locks``, release
    those once every request waits at them. (status, body) of each."""
    start = threading.Barrier(len(calls))

    def send(call: Call) -> tuple[int, dict[str, Any]]:
        caller, document, variables = call
        start.wait()
        response = caller.post(document, variables)
        return response.status_code, response.json()

    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        answers = [pool.submit(send, call) for call in calls]
        if locks is not None:
            deadline = time.monotonic() + 30
            while _waiting_for_locks(locks.url) < len(calls):
                assert time.monotonic() < deadline and not any(a.done() for a in answers), [
                    a.result() for a in answers if a.done()
                ]
                time.sleep(0.05)
            locks.release()
        return [answer.result() for answer in answers]


def _outcome(status: int, body: dict[str, Any], field: str) -> str:
    """won; refused by the last-admin rule; or stale: the other change had already taken this caller's
    access away (its token, or the resource the field needs) before this request was authorised."""
    if status == 401 or (body.get("data") is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"):
        return "stale"
    assert status == 200 and not body.get("errors"), body
    codes = [e["code"] for e in body["data"][field]["userErrors"]]
    return "won" if not codes else "refused" if codes == ["NOT_ALLOWED"] else f"unexpected {codes}"


def _active_all_admins(database_url: str) -> list[str]:
    rows = query(
        database_url,
        "SELECT u.username FROM admin_user u JOIN admin_role r ON r.id = u.role_id "
        "WHERE u.is_active = $1 AND r.all_resources = $2 ORDER BY u.username",
        True,
        True,
    )
    return [row["username"] for row in rows]


FIELDS = {DELETE_USER: "deleteAdminUser", UPDATE_ROLE: "updateAdminRole", UPDATE_USER: "updateAdminUser"}


@pytest.mark.parametrize("change", ["delete", "deactivate", "demote", "narrow the role"])
def test_two_admins_with_all_removing_each_other_at_once_leave_exactly_one(
    database_url: str, server_factory: Any, change: str
) -> None:
    """Through two server processes on one database, whatever the timing, exactly one of the two changes is
    made and one active admin with All remains. On PostgreSQL both requests are held at the very statement
    that makes the change and released together; SQLite writes one statement at a time."""
    create_admin_account(database_url, "keeper", ADMIN_PASSWORD)
    first = server_factory({"DATABASE_URL": database_url})
    second = server_factory({"DATABASE_URL": database_url})
    keeper = SyncGraphQLClient(first.base_url).sign_in("keeper", ADMIN_PASSWORD)
    administrators = keeper.data(ROLES)["adminRoles"]["edges"][0]["node"]["id"]
    clerks = payload_of(
        keeper.query(CREATE_ROLE, {"input": role_input("Clerks", (SALES,), ADMIN_PASSWORD)}), "createAdminRole", "role"
    )
    survivor, survivor_password = "keeper", ADMIN_PASSWORD
    for round_ in range(2 if POSTGRES_URL else 4):
        # The survivor so far and a new admin with All (on a role of its own, to narrow the survivor's).
        me = SyncGraphQLClient(first.base_url).sign_in(survivor, survivor_password)
        role_id = administrators
        if change == "narrow the role":
            own_all = role_input(f"All {round_}", (ALL,), survivor_password)
            role_id = payload_of(me.query(CREATE_ROLE, {"input": own_all}), "createAdminRole", "role")["id"]
        newcomer = f"newcomer{round_}"
        created = me.query(CREATE_USER, {"input": user_input(newcomer, role_id, survivor_password)})
        payload_of(created, "createAdminUser", "user")
        assert _active_all_admins(database_url) == sorted([survivor, newcomer])
        them = SyncGraphQLClient(second.base_url).sign_in(newcomer, USER_PASSWORD)
        users = {e["node"]["username"]: e["node"] for e in me.data(USERS)["adminUsers"]["edges"]}
        calls: list[Call] = []
        for caller, password, target in ((me, survivor_password, newcomer), (them, USER_PASSWORD, survivor)):
            user = users[target]
            if change == "delete":
                calls.append((caller, DELETE_USER, {"id": user["id"], "password": password}))
            elif change == "narrow the role":
                narrow = {"id": user["role"]["id"], "resources": [SALES], "currentPassword": password}
                calls.append((caller, UPDATE_ROLE, {"input": narrow}))
            else:
                edit = {"isActive": False} if change == "deactivate" else {"roleId": clerks["id"]}
                calls.append((caller, UPDATE_USER, {"input": {"id": user["id"], **edit, "currentPassword": password}}))
        locks = None
        if POSTGRES_URL:
            table = "admin_role" if change == "narrow the role" else "admin_user"
            targets = [users[survivor]["role"]["id"], users[newcomer]["role"]["id"]] if table == "admin_role" else []
            ids = [db_id(v) for v in targets] or [db_id(users[survivor]["id"]), db_id(users[newcomer]["id"])]
            locks = RowLocks(database_url, f"SELECT id FROM {table} WHERE id = ANY($1::int[]) FOR UPDATE", ids)
        with locks or contextlib.nullcontext():
            answers = _at_once(calls, locks)
        outcomes = [
            _outcome(status, body, FIELDS[call[1]]) for (status, body), call in zip(answers, calls, strict=True)
        ]
        expected = [["refused", "won"]] if POSTGRES_URL else [["refused", "won"], ["stale", "won"]]
        assert sorted(outcomes) in expected, (round_, answers)
        remaining = _active_all_admins(database_url)
        assert len(remaining) == 1, (round_, remaining, answers)
        survivor = remaining[0]
        survivor_password = ADMIN_PASSWORD if survivor == "keeper" else USER_PASSWORD
    assert "Traceback" not in first.output() + second.output()


def db_id(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().rpartition(":")[2])
