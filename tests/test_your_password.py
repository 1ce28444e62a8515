"""Your Password on every integration write: asked first, a wrong one writes nothing and counts toward the
admin's lock-out, and the lock signs the admin out everywhere. Through HTTP."""

from __future__ import annotations

from typing import Any

from auth.admin_tokens import INVALID_CURRENT_PASSWORD, SIGN_IN_FAILED
from tests.support.graphql import GraphQLClient
from tests.support.integrations import AUTHORIZE, CREATE, DELETE, GET, REAUTHORIZE, UPDATE, YOUR_PASSWORD, create
from tests.support.principals import ADMIN_PASSWORD

VIEWER = "{ viewer { kind name } }"


def writes(target: str, active: str) -> dict[str, tuple[str, dict[str, Any], tuple[str, ...]]]:
    """Each integration write: its document, its variables without a password, and where the password goes."""
    return {
        "createIntegration": (CREATE, {"input": {"name": "New one"}}, ("input", "currentPassword")),
        "updateIntegration": (UPDATE, {"input": {"id": target, "name": "Renamed"}}, ("input", "currentPassword")),
        "deleteIntegration": (DELETE, {"id": target}, ("currentPassword",)),
        "authorizeIntegration": (AUTHORIZE, {"id": target}, ("currentPassword",)),
        "reauthorizeIntegration": (REAUTHORIZE, {"id": active}, ("currentPassword",)),
    }


def with_password(variables: dict[str, Any], path: tuple[str, ...], password: str | None) -> dict[str, Any]:
    if path[0] == "input":
        return {**variables, "input": {**variables["input"], "currentPassword": password}}
    return {**variables, "currentPassword": password}


async def integrations_as_stored() -> list[dict[str, Any]]:
    from models import Integration, OAuthToken

    rows = await Integration.all().order_by("id").values("id", "name", "status", "updated_at")
    tokens = await OAuthToken.all().order_by("id").values("id", "token_hash", "type")
    return [*rows, *tokens]


async def test_every_integration_write_needs_your_password_first(admin: GraphQLClient) -> None:
    target = await create(admin, name="Target")
    active = await create(admin, name="Active")
    activated = await admin.query(AUTHORIZE, {"id": active["id"], **YOUR_PASSWORD})
    assert activated["data"]["authorizeIntegration"]["userErrors"] == []
    before = await integrations_as_stored()
    # One wrong password per write: five in a row, below the default lock-out (six).
    for name, (document, variables, path) in writes(target["id"], active["id"]).items():
        for password, code, message in (
            (None, "REQUIRED", "Enter your password to confirm this change."),
            ("", "REQUIRED", "Enter your password to confirm this change."),
            ("not-my-password", "INVALID_PASSWORD", INVALID_CURRENT_PASSWORD),
        ):
            body = await admin.query(document, with_password(variables, path, password))
            payload = body["data"][name]
            # The password alone is reported (not the name or status problems the write might have).
            assert payload["userErrors"] == [{"field": list(path), "message": message, "code": code}], (name, body)
            assert payload.get("integration") is None and payload.get("credentials") is None, (name, body)
        assert (await admin.query(GET, {"id": target["id"]}))["data"]["integration"]["name"] == "Target"
    assert await integrations_as_stored() == before  # nothing was written


async def test_your_password_is_the_callers_own(guest: GraphQLClient, admin: GraphQLClient) -> None:
    from auth.admin_tokens import create_admin

    await create_admin("colleague", "colleague-password-1")
    colleague = await guest.sign_in("colleague", "colleague-password-1")
    refused = await colleague.query(CREATE, {"input": {"name": "X", **YOUR_PASSWORD}})  # the other admin's
    assert colleague.user_errors(refused["data"]["createIntegration"]) == [
        (("input", "currentPassword"), "INVALID_PASSWORD")
    ]
    accepted = await colleague.query(CREATE, {"input": {"name": "X", "currentPassword": "colleague-password-1"}})
    assert accepted["data"]["createIntegration"]["userErrors"] == []


async def test_wrong_passwords_lock_the_admin_and_revoke_every_token(
    guest: GraphQLClient, admin: GraphQLClient
) -> None:
    """With lock-out after N failures, N wrong passwords: the token in use is refused with 401 after, and so is
    every other token of the admin; signing in is refused while the lock lasts."""
    n = 3
    body = await admin.query(
        f"mutation {{ updateOAuthConfig(input: {{maxFailuresCount: {n}}}) {{ userErrors {{ code }} }} }}"
    )
    assert body["data"]["updateOAuthConfig"]["userErrors"] == []
    elsewhere = await guest.sign_in("admin", ADMIN_PASSWORD)
    target = await create(admin, name="Target")
    for attempt in range(1, n + 1):
        body = await admin.query(DELETE, {"id": target["id"], "currentPassword": f"guess-{attempt}"})
        assert admin.user_errors(body["data"]["deleteIntegration"]) == [(("currentPassword",), "INVALID_PASSWORD")]
    for signed_out in (admin, elsewhere):
        refused = await signed_out.query(VIEWER, expect_status=401)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    locked = await guest.query(
        "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }",
        {"u": "admin", "p": ADMIN_PASSWORD},
    )
    assert locked["errors"][0]["message"] == SIGN_IN_FAILED
    from models import Integration

    assert await Integration.exists(name="Target")


async def test_the_right_password_clears_the_count(admin: GraphQLClient) -> None:
    """Failures are counted until a success, as for sign-in: five wrong, one right, five wrong stay signed in."""
    target = await create(admin, name="Target")
    for _round in range(2):
        for attempt in range(5):
            body = await admin.query(UPDATE, {"input": {"id": target["id"], "currentPassword": f"no-{attempt}"}})
            assert admin.user_errors(body["data"]["updateIntegration"]) == [
                (("input", "currentPassword"), "INVALID_PASSWORD")
            ]
        body = await admin.query(UPDATE, {"input": {"id": target["id"], "email": "ok@example.com", **YOUR_PASSWORD}})
        assert body["data"]["updateIntegration"]["userErrors"] == []
    assert (await admin.query(VIEWER))["data"]["viewer"]["kind"] == "ADMIN"
