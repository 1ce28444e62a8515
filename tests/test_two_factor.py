"""Two-factor sign-in (TOTP, RFC 6238) for admins, through HTTP: enrol, confirm, sign in with a code the test
computes with pyotp, codes accepted once, wrong codes counted toward lock-out, and the store setting that
requires it of every admin."""

from __future__ import annotations

import asyncio
from typing import Any

import pyotp

from auth.admin_tokens import SIGN_IN_FAILED, create_admin
from auth.clock import clock
from tests.support.graphql import GraphQLClient
from tests.support.principals import ADMIN_PASSWORD

SIGN_IN = """mutation($u: String!, $p: String!, $otp: String) {
  generateAdminToken(username: $u, password: $p, otp: $otp) { token } }"""
ENROLL = "mutation($p: String) { enrollAdminTotp(currentPassword: $p) { otpauthUri secret userErrors { field code } } }"
CONFIRM = "mutation($c: String!) { confirmAdminTotp(code: $c) { enabled userErrors { field message code } } }"
DISABLE = """mutation($p: String, $c: String) {
  disableAdminTotp(currentPassword: $p, code: $c) { enabled userErrors { field code } } }"""
VIEWER = "{ viewer { kind name resources totpRequired totpEnabled } }"
REQUIRE = """mutation($on: Boolean!) {
  updateAdminSecurityConfig(input: {requireAdminTotp: $on}) {
    adminSecurity { requireAdminTotp } userErrors { field message code } } }"""


def code_now(secret: str, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows at the server's time (plus whole 30-second steps)."""
    return str(pyotp.TOTP(secret).at(clock.time() + 30 * steps_ahead))


async def sign_in(guest: GraphQLClient, otp: str | None, password: str = ADMIN_PASSWORD) -> dict[str, Any]:
    return await guest.query(SIGN_IN, {"u": "admin", "p": password, "otp": otp})


async def enrolled(admin: GraphQLClient) -> str:
    """Enrol and confirm two-factor sign-in for the admin; its secret."""
    enrolment = (await admin.data(ENROLL, {"p": ADMIN_PASSWORD}))["enrollAdminTotp"]
    assert enrolment["userErrors"] == [], enrolment
    confirmed = (await admin.data(CONFIRM, {"c": code_now(enrolment["secret"])}))["confirmAdminTotp"]
    assert confirmed == {"enabled": True, "userErrors": []}, confirmed
    clock.advance(30)  # the confirming code is used up; the next sign-in takes the next one
    return enrolment["secret"]


async def test_enrol_confirm_and_sign_in_with_a_code(guest: GraphQLClient, admin: GraphQLClient) -> None:
    from models import AdminUser

    refused = (await admin.data(ENROLL, {"p": "not-my-password"}))["enrollAdminTotp"]
    assert refused == {
        "otpauthUri": None,
        "secret": None,
        "userErrors": [{"field": ["currentPassword"], "code": "INVALID_PASSWORD"}],
    }
    enrolment = (await admin.data(ENROLL, {"p": ADMIN_PASSWORD}))["enrollAdminTotp"]
    secret = enrolment["secret"]
    assert len(secret) == 32 and pyotp.TOTP(secret).byte_secret()  # 160 bits, base32
    uri = pyotp.parse_uri(enrolment["otpauthUri"])
    assert (uri.secret, uri.name, uri.digits, uri.interval) == (secret, "admin", 6, 30)
    assert uri.issuer == "Integrations admin (store.test)"
    stored = await AdminUser.get(username="admin")
    assert stored.totp_secret and secret not in stored.totp_secret  # encrypted at rest
    assert not stored.totp_enabled
    # Enrolled but not confirmed: sign-in needs no code yet.
    assert (await sign_in(guest, None))["data"]["generateAdminToken"]["token"]

    wrong = await admin.data(CONFIRM, {"c": "000000" if code_now(secret) != "000000" else "111111"})
    assert admin.user_errors(wrong["confirmAdminTotp"]) == [(("code",), "INVALID_CODE")]
    assert wrong["confirmAdminTotp"]["enabled"] is False
    confirmed = (await admin.data(CONFIRM, {"c": code_now(secret)}))["confirmAdminTotp"]
    assert confirmed == {"enabled": True, "userErrors": []}
    viewer = (await admin.data(VIEWER))["viewer"]
    assert (viewer["totpEnabled"], viewer["totpRequired"]) == (True, False)

    clock.advance(30)
    # Four refusals here and one below: five failures, one below the lock-out.
    for missing_or_wrong in (None, "", "abcdef", code_now(secret, steps_ahead=5)):
        body = await sign_in(guest, missing_or_wrong)
        assert body["data"] is None and body["errors"][0]["message"] == SIGN_IN_FAILED, missing_or_wrong
    # A code of the right password only: the same refusal as a wrong password.
    assert (await sign_in(guest, code_now(secret), password="wrong"))["errors"][0]["message"] == SIGN_IN_FAILED
    token = (await sign_in(guest, code_now(secret)))["data"]["generateAdminToken"]["token"]
    assert (await guest.with_token(token).data(VIEWER))["viewer"]["kind"] == "ADMIN"


async def test_a_code_is_accepted_once(guest: GraphQLClient, admin: GraphQLClient) -> None:
    secret = await enrolled(admin)
    code = code_now(secret)
    assert (await sign_in(guest, code))["data"]["generateAdminToken"]["token"]
    replayed = await sign_in(guest, code)
    assert replayed["data"] is None and replayed["errors"][0]["message"] == SIGN_IN_FAILED
    # An older code, still inside the drift window, is refused too once a later one was used.
    clock.advance(30)
    assert (await sign_in(guest, code_now(secret, steps_ahead=-1)))["data"] is None
    assert (await sign_in(guest, code_now(secret)))["data"]["generateAdminToken"]["token"]


async def test_concurrent_sign_ins_with_one_code_get_one_token(guest: GraphQLClient, admin: GraphQLClient) -> None:
    from models import AdminToken

    secret = await enrolled(admin)
    before = await AdminToken.all().count()
    code = code_now(secret)
    bodies = await asyncio.gather(*(sign_in(guest, code) for _ in range(4)))
    tokens = [b["data"]["generateAdminToken"]["token"] for b in bodies if b.get("data")]
    assert len(tokens) == 1, bodies
    assert await AdminToken.all().count() == before + 1


async def test_wrong_codes_count_toward_lock_out(guest: GraphQLClient, admin: GraphQLClient) -> None:
    body = await admin.query("mutation { updateOAuthConfig(input: {maxFailuresCount: 3}) { userErrors { code } } }")
    assert body["data"]["updateOAuthConfig"]["userErrors"] == []
    secret = await enrolled(admin)
    for wrong in (None, "999999" if code_now(secret) != "999999" else "888888", None):
        assert (await sign_in(guest, wrong))["data"] is None
    locked = await sign_in(guest, code_now(secret))
    assert locked["data"] is None and locked["errors"][0]["message"] == SIGN_IN_FAILED


async def test_enrolling_again_before_confirming_replaces_the_secret(admin: GraphQLClient) -> None:
    first = (await admin.data(ENROLL, {"p": ADMIN_PASSWORD}))["enrollAdminTotp"]["secret"]
    second = (await admin.data(ENROLL, {"p": ADMIN_PASSWORD}))["enrollAdminTotp"]["secret"]
    assert first != second
    stale = (await admin.data(CONFIRM, {"c": code_now(first)}))["confirmAdminTotp"]
    assert admin.user_errors(stale) == [(("code",), "INVALID_CODE")]
    assert (await admin.data(CONFIRM, {"c": code_now(second)}))["confirmAdminTotp"]["enabled"] is True
    # Once on, enrolling again is refused: it would replace the secret the admin signs in with.
    again = (await admin.data(ENROLL, {"p": ADMIN_PASSWORD}))["enrollAdminTotp"]
    assert again["secret"] is None and admin.user_errors(again) == [(None, "NOT_ALLOWED")]


async def test_disable_needs_the_password_and_a_code(guest: GraphQLClient, admin: GraphQLClient) -> None:
    secret = await enrolled(admin)
    signed_in = guest.with_token((await sign_in(guest, code_now(secret)))["data"]["generateAdminToken"]["token"])
    clock.advance(30)
    cases = [
        ({"p": None, "c": code_now(secret)}, [(("currentPassword",), "REQUIRED")]),
        ({"p": ADMIN_PASSWORD, "c": None}, [(("code",), "REQUIRED")]),
        ({"p": "wrong", "c": code_now(secret)}, [(("currentPassword",), "INVALID_PASSWORD")]),
        (
            {"p": ADMIN_PASSWORD, "c": "000000" if code_now(secret) != "000000" else "111111"},
            [(("code",), "INVALID_CODE")],
        ),
    ]
    for variables, expected in cases:
        refused = (await signed_in.data(DISABLE, variables))["disableAdminTotp"]
        assert signed_in.user_errors(refused) == expected, variables
        assert refused["enabled"] is True
    done = (await signed_in.data(DISABLE, {"p": ADMIN_PASSWORD, "c": code_now(secret)}))["disableAdminTotp"]
    assert done == {"enabled": False, "userErrors": []}
    assert (await sign_in(guest, None))["data"]["generateAdminToken"]["token"]


async def test_required_two_factor_limits_an_admin_until_it_enrols(guest: GraphQLClient, admin: GraphQLClient) -> None:
    await create_admin("newcomer", "newcomer-password-1")
    # Turning the requirement on needs two-factor sign-in on for yourself first (or it would lock you out).
    refused = (await admin.data(REQUIRE, {"on": True}))["updateAdminSecurityConfig"]
    assert admin.user_errors(refused) == [(("input", "requireAdminTotp"), "NOT_ALLOWED")]
    secret = await enrolled(admin)
    assert secret  # the admin's own session, opened before, keeps working
    switched = (await admin.data(REQUIRE, {"on": True}))["updateAdminSecurityConfig"]
    assert switched == {"adminSecurity": {"requireAdminTotp": True}, "userErrors": []}

    newcomer = await guest.sign_in("newcomer", "newcomer-password-1")  # signs in without a code ...
    viewer = (await newcomer.data(VIEWER))["viewer"]
    assert viewer == {"kind": "ADMIN", "name": "newcomer", "resources": [], "totpRequired": True, "totpEnabled": False}
    body = await newcomer.query("{ integrations { edges { node { id } } } config { oauth { lockoutTime } } }")
    assert newcomer.error_codes_by_path(body) == {"integrations": "FORBIDDEN", "config.oauth": "FORBIDDEN"}
    denied = await newcomer.query(REQUIRE, {"on": False})  # ... and cannot switch the requirement off
    assert denied["data"] is None and newcomer.error_codes(denied) == ["FORBIDDEN"]

    enrolment = (await newcomer.data(ENROLL, {"p": "newcomer-password-1"}))["enrollAdminTotp"]
    confirmed = (await newcomer.data(CONFIRM, {"c": code_now(enrolment["secret"])}))["confirmAdminTotp"]
    assert confirmed["enabled"] is True
    viewer = (await newcomer.data(VIEWER))["viewer"]
    assert (viewer["resources"], viewer["totpEnabled"]) == (["Magento_Backend::all"], True)
    assert (await newcomer.data("{ integrations { edges { node { id } } } }"))["integrations"] == {"edges": []}

    # While required, two-factor sign-in cannot be turned off; the admin always holds its resources.
    clock.advance(30)
    kept = (await admin.data(DISABLE, {"p": ADMIN_PASSWORD, "c": code_now(secret)}))["disableAdminTotp"]
    assert kept["enabled"] is True and admin.user_errors(kept) == [(None, "NOT_ALLOWED")]
    # Signing out works for a limited admin too.
    await create_admin("late", "late-password-1")
    late = await guest.sign_in("late", "late-password-1")
    revoked = await late.data("mutation { revokeAdminToken { revoked } }")
    assert revoked["revokeAdminToken"]["revoked"] is True
