"""Magento's "Use system value" on the configuration pages: which settings use their default, what the
default is, and putting a setting back to it."""

from __future__ import annotations

from auth import config as store
from models import ConfigValue
from tests.support.graphql import GraphQLClient

OAUTH = "{ config { oauth { lockoutTime maxFailuresCount usesSystemValue systemValue { lockoutTime } } } }"
UPDATE = """
mutation($input: UpdateOAuthConfigInput!) {
  updateOAuthConfig(input: $input) { oauth { lockoutTime maxFailuresCount usesSystemValue } userErrors { field code } }
}"""


async def test_a_saved_setting_stops_using_the_system_value_until_reset(admin: GraphQLClient) -> None:
    fresh = (await admin.data(OAUTH))["config"]["oauth"]
    assert fresh["lockoutTime"] == 1800 and fresh["systemValue"] == {"lockoutTime": 1800}
    assert {"lockoutTime", "maxFailuresCount", "adminTokenLifetime"} <= set(fresh["usesSystemValue"])
    assert "systemValue" not in fresh["usesSystemValue"] and "usesSystemValue" not in fresh["usesSystemValue"]

    # Saving a value, even the default's, stores it: the field is no longer "Use system value".
    saved = (await admin.data(UPDATE, {"input": {"lockoutTime": 600, "maxFailuresCount": 6}}))["updateOAuthConfig"]
    assert saved["userErrors"] == []
    assert (saved["oauth"]["lockoutTime"], saved["oauth"]["maxFailuresCount"]) == (600, 6)
    assert not {"lockoutTime", "maxFailuresCount"} & set(saved["oauth"]["usesSystemValue"])

    # Ticking "Use system value" removes the stored value; the others are untouched.
    reset = (await admin.data(UPDATE, {"input": {"useSystemValue": ["lockoutTime"]}}))["updateOAuthConfig"]
    assert reset["userErrors"] == []
    assert reset["oauth"]["lockoutTime"] == 1800
    assert "lockoutTime" in reset["oauth"]["usesSystemValue"]
    assert "maxFailuresCount" not in reset["oauth"]["usesSystemValue"]
    assert not await ConfigValue.exists(path=store.LOCK_TIMEOUT)
    assert await ConfigValue.exists(path=store.MAX_FAILURES)
    # Resetting what already uses the system value is no error.
    again = (await admin.data(UPDATE, {"input": {"useSystemValue": ["lockoutTime"]}}))["updateOAuthConfig"]
    assert again["userErrors"] == []


async def test_reset_refuses_unknown_names_and_values_given_too_and_saves_nothing(admin: GraphQLClient) -> None:
    await admin.data(UPDATE, {"input": {"lockoutTime": 600}})
    refused = [
        ({"useSystemValue": ["allowAnonymousGuestAccess", "lockoutTime"]}, ["input", "useSystemValue"]),
        ({"useSystemValue": ["nope"]}, ["input", "useSystemValue"]),
        ({"useSystemValue": ["lockoutTime", "maxFailuresCount"], "maxFailuresCount": 3}, ["input", "maxFailuresCount"]),
    ]
    for given, field in refused:
        payload = (await admin.data(UPDATE, {"input": given}))["updateOAuthConfig"]
        assert payload["oauth"] is None, given
        assert payload["userErrors"] == [{"field": field, "code": "INVALID"}], given
    # Guest access belongs to another section (and another resource): updateOAuthConfig cannot reset it.
    oauth = (await admin.data(OAUTH))["config"]["oauth"]
    assert oauth["lockoutTime"] == 600 and oauth["maxFailuresCount"] == 6


async def test_guest_access_goes_back_to_its_system_value(admin: GraphQLClient, guest: GraphQLClient) -> None:
    query = (
        "{ config { webApiSecurity { allowAnonymousGuestAccess usesSystemValue "
        "systemValue { allowAnonymousGuestAccess } } } }"
    )
    before = (await admin.data(query))["config"]["webApiSecurity"]
    assert before == {
        "allowAnonymousGuestAccess": False,
        "usesSystemValue": ["allowAnonymousGuestAccess"],
        "systemValue": {"allowAnonymousGuestAccess": False},
    }
    switch = (
        "mutation($use: Boolean!) { setGuestAccess(allow: true, useSystemValue: $use) "
        "{ webApiSecurity { allowAnonymousGuestAccess usesSystemValue } } }"
    )
    on = (await admin.data(switch, {"use": False}))["setGuestAccess"]["webApiSecurity"]
    assert on == {"allowAnonymousGuestAccess": True, "usesSystemValue": []}
    assert (await guest.query("{ storeViews { totalCount } }"))["data"]["storeViews"] is not None
    back = (await admin.data(switch, {"use": True}))["setGuestAccess"]["webApiSecurity"]
    assert back == {"allowAnonymousGuestAccess": False, "usesSystemValue": ["allowAnonymousGuestAccess"]}
    assert (await guest.query("{ storeViews { totalCount } }"))["data"]["storeViews"] is None


async def test_admin_security_settings_go_back_to_their_system_value(admin: GraphQLClient) -> None:
    update = """
    mutation($input: UpdateAdminSecurityConfigInput!) {
      updateAdminSecurityConfig(input: $input) {
        adminSecurity { requireAdminTotp usesSystemValue } userErrors { code }
      }
    }"""
    fresh = await admin.data("{ config { adminSecurity { usesSystemValue systemValue { requireAdminTotp } } } }")
    assert fresh["config"]["adminSecurity"] == {
        "usesSystemValue": ["requireAdminTotp"],
        "systemValue": {"requireAdminTotp": False},
    }
    stored = (await admin.data(update, {"input": {"requireAdminTotp": False}}))["updateAdminSecurityConfig"]
    assert stored == {"adminSecurity": {"requireAdminTotp": False, "usesSystemValue": []}, "userErrors": []}
    reset = (await admin.data(update, {"input": {"useSystemValue": ["requireAdminTotp"]}}))["updateAdminSecurityConfig"]
    assert reset["adminSecurity"]["usesSystemValue"] == ["requireAdminTotp"]
    # Each update resets only its own section's settings.
    refused = (await admin.data(update, {"input": {"useSystemValue": ["lockoutTime"]}}))["updateAdminSecurityConfig"]
    assert refused == {"adminSecurity": None, "userErrors": [{"code": "INVALID"}]}
