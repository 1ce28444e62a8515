"""Every security-relevant change writes its audit event, from the one place it happens: the right action,
actor, target and details (changes old and new, resources added and removed), and never a secret. Each test
ends by looking for every password, token and secret it made in every column of every event."""

from __future__ import annotations

import dataclasses
import urllib.parse
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from audit.verify import verify
from auth import secret_box
from auth.admin_tokens import reset_admin_password, unlock_admin
from auth.clock import clock
from auth.key_rotation import rotate_all
from resolvers.admin_users.validation import USER_NODE, global_id
from resolvers.integrations.config_file import sync_config_integrations
from settings import Settings
from tests.support.admin_users import (
    CHANGE_PASSWORD,
    DELETE_ROLE,
    DELETE_USER,
    INVALIDATE_TOKENS,
    UNLOCK_USER,
    UPDATE_ROLE,
    UPDATE_USER,
    USER_PASSWORD,
    create_role,
    create_user,
    payload_of,
)
from tests.support.audit import actions, assert_no_secret_stored, one_event, stored_events
from tests.support.graphql import SIGN_IN, GraphQLClient
from tests.support.integrations import AUTHORIZE, DELETE, REAUTHORIZE, UPDATE, YOUR_PASSWORD, create, db_id
from tests.support.oauth import ACCESS_TOKEN_URL, REQUEST_TOKEN_URL, Behaviour, CallbackServer, sign
from tests.support.principals import ADMIN_PASSWORD

PROXY = {"X-Forwarded-For": "203.0.113.9", "User-Agent": "audit-test/1.0", "X-Request-Id": "audit-request-1"}
SALES = "Magento_Sales::sales"
CATALOG = "Magento_Catalog::catalog"
ROTATE = """mutation($id: ID!, $overlap: Int!, $p: String) {
  rotateIntegrationSecret(id: $id, overlapSeconds: $overlap, currentPassword: $p) {
    credentials { consumerKey consumerSecret } userErrors { code } } }"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, allow_private_callbacks=True)


def admin_id(event: dict[str, Any]) -> int:
    return int(event["target_id"])


def admin_actor(event: dict[str, Any]) -> tuple[Any, ...]:
    return (event["actor_type"], event["actor_name"])


async def sign_in_body(guest: GraphQLClient, username: str, password: str) -> dict[str, Any]:
    return await guest.query(SIGN_IN, {"u": username, "p": password}, headers=PROXY)


# ------------------------------------------------------------------------------------------------ sign-in


async def test_sign_ins_name_the_admin_the_address_the_browser_and_the_request(
    admin: GraphQLClient, guest: GraphQLClient
) -> None:
    created = await one_event("admin_user.created")  # the fixture's account, made by the server itself
    assert (created["actor_type"], created["details"]) == (
        "SYSTEM",
        {"isActive": True, "role": "Administrators", "username": "admin"},
    )
    me = admin_id(created)
    keepers = await create_role(admin, "Keepers", "Magento_Backend::all")
    await create_user(admin, "keeper", keepers["id"])
    keeper = await guest.sign_in("keeper", USER_PASSWORD)

    body = await sign_in_body(guest, "Admin", ADMIN_PASSWORD)  # names compare ignoring case
    token = body["data"]["generateAdminToken"]["token"]
    ok = (await stored_events("admin.sign_in_succeeded"))[-1]
    assert (ok["actor_type"], ok["actor_id"], ok["actor_name"]) == ("ADMIN", me, "admin")
    assert (ok["target_type"], admin_id(ok)) == ("admin_user", me)
    assert (ok["client_ip"], ok["user_agent"], ok["request_id"]) == ("203.0.113.9", "audit-test/1.0", "audit-request-1")
    assert ok["details"] == {"twoFactor": False}

    wrong = "not-the-password-9"
    assert (await sign_in_body(guest, "admin", wrong))["data"] is None
    assert (await sign_in_body(guest, "nobody", wrong))["data"] is None
    failed = await stored_events("admin.sign_in_failed")
    assert [(e["actor_type"], e["target_id"], e["details"]) for e in failed] == [
        ("GUEST", str(me), {"username": "admin", "reason": "wrong_password"}),
        ("GUEST", None, {"username": "nobody", "reason": "unknown_user"}),
    ]
    assert {e["client_ip"] for e in failed} == {"203.0.113.9"}

    # Six failures in all lock the account; the next attempt is refused as locked.
    for attempt in range(5):
        await sign_in_body(guest, "admin", f"{wrong}{attempt}")
    locked = await one_event("admin.locked")
    assert (locked["target_id"], locked["details"]["reason"], locked["details"]["username"]) == (
        str(me),
        "sign_in",
        "admin",
    )
    assert (await sign_in_body(guest, "admin", ADMIN_PASSWORD))["data"] is None
    assert (await stored_events("admin.sign_in_failed"))[-1]["details"]["reason"] == "locked"

    # Another admin unlocks it (Locked Users); the command line does too, as the server itself.
    unlocked = await keeper.data(UNLOCK_USER, {"id": global_id(USER_NODE, me)})
    assert unlocked["unlockAdminUser"]["userErrors"] == []
    event = await one_event("admin.unlocked")
    assert (event["actor_type"], event["actor_name"], event["target_id"]) == ("ADMIN", "keeper", str(me))

    await guest.with_token(token).data("mutation { revokeAdminToken { revoked } }")
    signed_out = (await stored_events("admin.tokens_revoked"))[-1]
    assert (signed_out["actor_name"], signed_out["details"]["reason"], signed_out["details"]["revoked"]) == (
        "admin",
        "sign_out",
        2,  # the fixture's token and this one: signing out signs out everywhere
    )
    await assert_no_secret_stored([ADMIN_PASSWORD, USER_PASSWORD, wrong, token, admin.token, keeper.token])
    assert (await verify()).ok


async def test_the_command_line_acts_as_the_server(admin: GraphQLClient, guest: GraphQLClient) -> None:
    for attempt in range(6):
        await guest.query(SIGN_IN, {"u": "admin", "p": f"wrong-{attempt}"})
    assert await unlock_admin("admin")  # unlock-admin
    new_password = "reset-password-7"
    assert await reset_admin_password("admin", new_password, disable_totp=True)  # reset-admin-password
    unlocked = await one_event("admin.unlocked")
    reset = await one_event("admin.password_reset")
    revoked = (await stored_events("admin.tokens_revoked"))[-1]
    assert {(e["actor_type"], e["actor_name"], e["client_ip"]) for e in (unlocked, reset, revoked)} == {
        ("SYSTEM", "system", None)
    }
    assert reset["details"] == {"username": "admin", "totpDisabled": True}
    assert (revoked["details"]["reason"], revoked["details"]["revoked"]) == ("password_reset", 1)
    await assert_no_secret_stored([ADMIN_PASSWORD, new_password, admin.token])


# ------------------------------------------------------------------------------------------ users and roles


async def test_roles_and_users_are_recorded_with_what_changed(admin: GraphQLClient) -> None:
    role = await create_role(admin, "Sales Staff", SALES)
    created = await one_event("admin_role.created")
    assert admin_actor(created) == ("ADMIN", "admin")
    assert created["details"]["name"] == "Sales Staff" and created["details"]["resourceAccess"] == "CUSTOM"
    assert SALES in created["details"]["resources"] and "Magento_Sales::actions_view" in created["details"]["resources"]

    body = await admin.query(
        UPDATE_ROLE,
        {"input": {"id": role["id"], "name": "Catalog Staff", "resources": [CATALOG], **YOUR_PASSWORD}},
    )
    payload_of(body, "updateAdminRole", "role")
    changed = await one_event("admin_role.updated")
    assert changed["details"]["changes"] == {"name": {"old": "Sales Staff", "new": "Catalog Staff"}}
    assert CATALOG in changed["details"]["added"] and "Magento_Catalog::products" in changed["details"]["added"]
    assert SALES in changed["details"]["removed"] and not set(changed["details"]["added"]) & set(
        changed["details"]["removed"]
    )

    secret_password = "first-password-3"
    user = await create_user(admin, "clerk", role["id"], password=secret_password)
    made = (await stored_events("admin_user.created"))[-1]  # the fixture's own account was the first
    assert made["details"] == {
        "username": "clerk",
        "email": "clerk@example.com",
        "firstName": "Clerk",
        "lastName": "Tester",
        "isActive": True,
        "role": "Catalog Staff",
    }
    clerk = await admin.with_token(None).sign_in("clerk", secret_password)

    other_role = await create_role(admin, "Other", CATALOG)
    new_password = "second-password-4"
    body = await admin.query(
        UPDATE_USER,
        {
            "input": {
                "id": user["id"],
                "email": "clerk@shop.example",
                "roleId": other_role["id"],
                "password": new_password,
                **YOUR_PASSWORD,
            }
        },
    )
    payload_of(body, "updateAdminUser", "user")
    updated = await one_event("admin_user.updated")
    assert updated["details"] == {
        "username": "clerk",
        "changes": {
            "email": {"old": "clerk@example.com", "new": "clerk@shop.example"},
            "role": {"old": "Catalog Staff", "new": "Other"},
        },
        "passwordChanged": True,
    }
    revoked = (await stored_events("admin.tokens_revoked"))[-1]
    assert (revoked["target_id"], revoked["details"]["reason"], revoked["details"]["revoked"]) == (
        updated["target_id"],
        "password_changed",
        1,
    )

    body = await admin.query(UPDATE_USER, {"input": {"id": user["id"], "isActive": False, **YOUR_PASSWORD}})
    payload_of(body, "updateAdminUser", "user")
    deactivated = (await stored_events("admin_user.updated"))[-1]
    assert deactivated["details"]["changes"] == {"isActive": {"old": True, "new": False}}
    assert (await stored_events("admin.tokens_revoked"))[-1]["details"]["reason"] == "deactivated"

    body = await admin.query(INVALIDATE_TOKENS, {"id": user["id"], "password": ADMIN_PASSWORD})
    assert body["data"]["invalidateAdminTokens"]["userErrors"] == []
    assert (await stored_events("admin.tokens_revoked"))[-1]["details"]["reason"] == "invalidated"

    body = await admin.query(DELETE_USER, {"id": user["id"], "password": ADMIN_PASSWORD})
    assert body["data"]["deleteAdminUser"]["userErrors"] == []
    gone = await one_event("admin_user.deleted")
    assert (gone["target_id"], gone["details"]) == (updated["target_id"], {"username": "clerk", "role": "Other"})
    for doomed in (role, other_role):
        body = await admin.query(DELETE_ROLE, {"id": doomed["id"], "password": ADMIN_PASSWORD})
        assert body["data"]["deleteAdminRole"]["userErrors"] == []
    assert [e["details"]["name"] for e in await stored_events("admin_role.deleted")] == ["Catalog Staff", "Other"]

    await assert_no_secret_stored(
        [ADMIN_PASSWORD, USER_PASSWORD, secret_password, new_password, admin.token, clerk.token]
    )
    assert (await verify()).ok


async def test_own_password_and_two_factor_are_recorded(admin: GraphQLClient) -> None:
    enrolled = await admin.data(
        "mutation($p: String) { enrollAdminTotp(currentPassword: $p) { secret otpauthUri } }", {"p": ADMIN_PASSWORD}
    )
    secret = enrolled["enrollAdminTotp"]["secret"]
    code = pyotp.TOTP(secret).at(clock.time())
    confirmed = await admin.data("mutation($c: String!) { confirmAdminTotp(code: $c) { enabled } }", {"c": code})
    assert confirmed["confirmAdminTotp"]["enabled"] is True
    assert admin_actor(await one_event("admin.totp_enabled")) == ("ADMIN", "admin")

    new_password = "changed-password-5"
    body = await admin.query(CHANGE_PASSWORD, {"current": ADMIN_PASSWORD, "new": new_password})
    assert body["data"]["changeAdminPassword"]["userErrors"] == []
    changed = await one_event("admin.password_changed")
    assert changed["target_id"] == str(changed["actor_id"])
    revoked = (await stored_events("admin.tokens_revoked"))[-1]
    assert revoked["details"] == {"revoked": 0, "reason": "password_changed", "keptCurrent": True}

    clock.advance(60)  # the next code
    disabled = await admin.data(
        "mutation($p: String, $c: String) { disableAdminTotp(currentPassword: $p, code: $c) { enabled } }",
        {"p": new_password, "c": pyotp.TOTP(secret).at(clock.time())},
    )
    assert disabled["disableAdminTotp"]["enabled"] is False
    assert admin_actor(await one_event("admin.totp_disabled")) == ("ADMIN", "admin")
    await assert_no_secret_stored(
        [ADMIN_PASSWORD, new_password, secret, enrolled["enrollAdminTotp"]["otpauthUri"], code]
    )


# ------------------------------------------------------------------------------------------ integrations


async def test_integrations_are_recorded_with_their_grant_and_url_changes(admin: GraphQLClient) -> None:
    url_password = "hunter2-in-the-url"
    integration = await create(
        admin,
        name="ERP",
        email="ops@erp.example",
        resourceAccess="CUSTOM",
        resources=[SALES],
        authMethods=["OAUTH1", "OAUTH2_CLIENT_CREDENTIALS"],
    )
    number = db_id(integration)
    made = await one_event("integration.created")
    assert (made["actor_type"], made["actor_name"], made["target_type"], made["target_id"]) == (
        "ADMIN",
        "admin",
        "integration",
        str(number),
    )
    assert made["details"]["name"] == "ERP" and made["details"]["setupType"] == "MANUAL"
    assert made["details"]["authMethods"] == ["OAUTH1", "OAUTH2_CLIENT_CREDENTIALS"]
    assert made["details"]["resourceAccess"] == "CUSTOM" and SALES in made["details"]["resources"]
    assert "consumerSecret" not in made["details"]

    body = await admin.query(
        UPDATE,
        {
            "input": {
                "id": integration["id"],
                "name": "ERP 2",
                "callbackUrl": f"https://erp:{url_password}@erp.example/callback",
                "identityLinkUrl": "https://erp.example/link",
                **YOUR_PASSWORD,
            }
        },
    )
    assert body["data"]["updateIntegration"]["userErrors"] == []
    updated = await one_event("integration.updated")
    assert updated["details"] == {
        "name": "ERP",
        "changes": {
            "name": {"old": "ERP", "new": "ERP 2"},
            "callbackUrl": {"old": None, "new": "https://erp:***@erp.example/callback"},
            "identityLinkUrl": {"old": None, "new": "https://erp.example/link"},
        },
    }
    assert "integration.grant_changed" not in await actions()  # the grant was not given: kept as it was

    body = await admin.query(
        UPDATE,
        {
            "input": {
                "id": integration["id"],
                "callbackUrl": None,
                "identityLinkUrl": None,
                "resources": [CATALOG],
                **YOUR_PASSWORD,
            }
        },
    )
    assert body["data"]["updateIntegration"]["userErrors"] == []
    grant = await one_event("integration.grant_changed")
    assert grant["details"]["resourceAccess"] == {"old": "CUSTOM", "new": "CUSTOM"}
    assert CATALOG in grant["details"]["added"] and SALES in grant["details"]["removed"]
    body = await admin.query(UPDATE, {"input": {"id": integration["id"], "resourceAccess": "ALL", **YOUR_PASSWORD}})
    everything = (await stored_events("integration.grant_changed"))[-1]
    assert everything["details"]["resourceAccess"] == {"old": "CUSTOM", "new": "ALL"}
    assert everything["details"]["added"] == ["Magento_Backend::all"] and CATALOG in everything["details"]["removed"]

    shown_before = len(await stored_events("integration.credentials_shown"))  # the mutations' payloads select them
    activation = await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    credentials = activation["authorizeIntegration"]["credentials"]
    activated = await one_event("integration.activated")
    assert activated["details"] == {"name": "ERP 2", "method": "manual"}
    shown = (await stored_events("integration.credentials_shown"))[shown_before]
    assert shown["details"] == {
        "name": "ERP 2",
        "credentials": ["consumerKey", "consumerSecret", "accessToken", "accessTokenSecret"],
        "via": "authorizeIntegration",
    }
    viewed = await admin.data(
        "query($id: ID!) { integration(id: $id) { credentials { consumerSecret } } }", {"id": integration["id"]}
    )
    assert viewed["integration"]["credentials"]["consumerSecret"] == credentials["consumerSecret"]
    assert (await stored_events("integration.credentials_shown"))[-1]["details"]["via"] == "Integration.credentials"

    again = await admin.data(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    assert (await one_event("integration.reauthorized"))["details"]["method"] == "manual"
    rotated = await admin.data(ROTATE, {"id": integration["id"], "overlap": 3600, "p": ADMIN_PASSWORD})
    rotation = await one_event("integration.secret_rotated")
    assert rotation["details"]["overlapSeconds"] == 3600 and rotation["details"]["previousSecretExpiresAt"]
    assert (await stored_events("integration.credentials_shown"))[-1]["details"]["via"] == "rotateIntegrationSecret"

    body = await admin.query(DELETE, {"id": integration["id"], **YOUR_PASSWORD})
    assert body["data"]["deleteIntegration"]["userErrors"] == []
    assert (await one_event("integration.deleted"))["details"] == {"name": "ERP 2", "setupType": "MANUAL"}

    reissued = again["reauthorizeIntegration"]["credentials"]
    await assert_no_secret_stored(
        [
            ADMIN_PASSWORD,
            url_password,
            credentials["consumerSecret"],
            credentials["accessToken"],
            credentials["accessTokenSecret"],
            reissued["accessToken"],
            reissued["accessTokenSecret"],
            rotated["rotateIntegrationSecret"]["credentials"]["consumerSecret"],
        ]
    )
    assert (await verify()).ok


async def test_an_oauth2_integration_is_activated_and_shown_its_client_secret(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Client", resourceAccess="ALL", authMethods=["OAUTH2_CLIENT_CREDENTIALS"])
    done = await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    assert (await one_event("integration.activated"))["details"]["method"] == "oauth2"
    shown = [
        e for e in await stored_events("integration.credentials_shown") if e["details"]["via"] == "authorizeIntegration"
    ]
    assert shown[0]["details"]["credentials"] == ["consumerKey", "consumerSecret"]
    await assert_no_secret_stored([done["authorizeIntegration"]["credentials"]["consumerSecret"]])


async def test_token_exchange_is_recorded_from_the_callback_to_the_access_token(
    admin: GraphQLClient, client: httpx.AsyncClient, callback: CallbackServer
) -> None:
    integration = await create(
        admin,
        name="Partner",
        callbackUrl=callback.url(),
        identityLinkUrl="https://partner.example/link",
        resourceAccess="ALL",
    )
    started = await admin.data(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    assert started["authorizeIntegration"]["userErrors"] == []
    delivered = await one_event("integration.callback_delivered")
    assert (delivered["actor_name"], delivered["details"]) == (
        "admin",
        {"name": "Partner", "callbackUrl": callback.url()},
    )
    posted = callback.received[-1].form

    from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

    step = Client(
        posted["oauth_consumer_key"],
        client_secret=posted["oauth_consumer_secret"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    answer = await client.post(REQUEST_TOKEN_URL, headers=sign(step, REQUEST_TOKEN_URL))
    request_token = dict(urllib.parse.parse_qsl(answer.text))
    step = Client(
        posted["oauth_consumer_key"],
        client_secret=posted["oauth_consumer_secret"],
        resource_owner_key=request_token["oauth_token"],
        resource_owner_secret=request_token["oauth_token_secret"],
        verifier=posted["oauth_verifier"],
        signature_method=SIGNATURE_HMAC_SHA256,
    )
    answer = await client.post(
        ACCESS_TOKEN_URL, headers={**sign(step, ACCESS_TOKEN_URL), "User-Agent": "partner-app/2"}
    )
    assert answer.status_code == 200, answer.text
    access = dict(urllib.parse.parse_qsl(answer.text))
    activated = await one_event("integration.activated")
    assert (activated["actor_type"], activated["actor_id"], activated["actor_name"]) == (
        "INTEGRATION",
        db_id(integration),
        "Partner",
    )
    assert (activated["user_agent"], activated["details"]) == (
        "partner-app/2",
        {"name": "Partner", "method": "token_exchange"},
    )

    callback.behaviour["/callback"] = Behaviour(status=500)
    refused = await admin.data(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    assert refused["reauthorizeIntegration"]["userErrors"][0]["code"] == "CALLBACK_FAILED"
    failed = await one_event("integration.callback_failed")
    assert (failed["details"]["reason"], failed["details"]["callbackUrl"]) == ("http_status", callback.url())
    secrets = [
        posted["oauth_consumer_secret"],
        posted["oauth_verifier"],
        *request_token.values(),
        *access.values(),
        *(r.form.get("oauth_consumer_secret") for r in callback.received),
        *(r.form.get("oauth_verifier") for r in callback.received),
    ]
    await assert_no_secret_stored(secrets)
    assert (await verify()).ok


async def test_config_file_integrations_are_the_servers(settings: Settings, app: Any) -> None:
    path = Path(settings.resolved_integrations_file)
    path.write_text('[[integrations]]\nname = "Shipping"\nresources = ["Magento_Sales::sales"]\n')
    await sync_config_integrations(settings)
    made = await one_event("integration.created")
    assert (made["actor_type"], made["details"]["setupType"], made["details"]["name"]) == (
        "SYSTEM",
        "CONFIG",
        "Shipping",
    )
    path.write_text('[[integrations]]\nname = "Shipping"\nresources = ["Magento_Catalog::catalog"]\n')
    await sync_config_integrations(settings)
    reset = await one_event("integration.reset_by_config_file")
    assert reset["actor_type"] == "SYSTEM" and reset["details"]["replacedId"] == int(made["target_id"])
    assert reset["target_id"] != made["target_id"] and CATALOG in reset["details"]["resources"]


# ------------------------------------------------------------------------------------------ store settings


async def test_settings_changes_are_recorded_old_and_new(admin: GraphQLClient) -> None:
    await admin.data("mutation { setGuestAccess(allow: true) { webApiSecurity { allowAnonymousGuestAccess } } }")
    guest_access = await one_event("config.guest_access_changed")
    assert (guest_access["target_type"], guest_access["target_id"], guest_access["actor_name"]) == (
        "config",
        "webapi",
        "admin",
    )
    assert guest_access["details"] == {"changes": {"allowAnonymousGuestAccess": {"old": False, "new": True}}}
    await admin.data("mutation { setGuestAccess(allow: true) { webApiSecurity { allowAnonymousGuestAccess } } }")
    assert len(await stored_events("config.guest_access_changed")) == 1  # nothing changed: no event

    body = await admin.data(
        """mutation { updateOAuthConfig(input: {consumerExpirationPeriod: 600,
            privateCallbackAllowList: ["erp.internal"]}) { userErrors { code } } }"""
    )
    assert body["updateOAuthConfig"]["userErrors"] == []
    oauth = await one_event("config.oauth_changed")
    assert oauth["details"] == {
        "changes": {
            "consumerExpirationPeriod": {"old": 300, "new": 600},
            "privateCallbackAllowList": {"old": [], "new": ["erp.internal"]},
        }
    }
    await admin.data(
        'mutation { updateOAuthConfig(input: {useSystemValue: ["consumerExpirationPeriod"]}) { userErrors { code } } }'
    )
    back = (await stored_events("config.oauth_changed"))[-1]
    assert back["details"] == {"changes": {"consumerExpirationPeriod": {"old": 600, "new": 300}}}

    await admin.data("mutation { updateRateLimitConfig(input: {throttlingEnabled: false}) { userErrors { code } } }")
    limits = await one_event("config.rate_limits_changed")
    assert limits["details"] == {"changes": {"throttlingEnabled": {"old": True, "new": False}}}


async def test_a_key_rotation_with_nothing_to_rotate_records_nothing(admin: GraphQLClient) -> None:
    # A rotation that re-encrypts is recorded as the server's: tests/test_encryption_keys.py runs the command.
    await create(admin, name="Encrypted", resourceAccess="ALL")
    await rotate_all(secret_box.box())
    assert "encryption_key.rotated" not in await actions()


async def test_every_event_lands_in_one_chain(admin: GraphQLClient, guest: GraphQLClient) -> None:
    await guest.query(SIGN_IN, {"u": "admin", "p": "wrong-password-1"})
    await create(admin, name="Chained", resourceAccess="ALL")
    verdict = await verify()
    assert verdict.ok and verdict.events == len(await stored_events())
    assert verdict.last_id == (await stored_events())[-1]["id"]
