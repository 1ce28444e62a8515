"""Store configuration through GraphQL: reading, validation, and the resource tree."""

from __future__ import annotations

import dataclasses

import pytest

from auth import config as store
from tests.support.graphql import GraphQLClient
from tests.support.principals import ADMIN_PASSWORD

OAUTH_FIELDS = (
    "consumerExpirationPeriod consumerPostMaxRedirects consumerPostTimeout enableIntegrationAsBearer "
    "allowHmacSha1 adminTokenLifetime maxFailuresCount lockoutTime "
    "cleanupProbability cleanupExpirationPeriod"
)


async def test_defaults_are_magentos(admin: GraphQLClient) -> None:
    body = await admin.query(
        f"{{ config {{ webApiSecurity {{ allowAnonymousGuestAccess }} oauth {{ {OAUTH_FIELDS} }} }} }}"
    )
    assert body["data"]["config"] == {
        "webApiSecurity": {"allowAnonymousGuestAccess": False},
        "oauth": {
            "consumerExpirationPeriod": 300,
            "consumerPostMaxRedirects": 0,
            "consumerPostTimeout": 5,
            "enableIntegrationAsBearer": False,
            "allowHmacSha1": False,
            "adminTokenLifetime": 4,
            "maxFailuresCount": 6,
            "lockoutTime": 1800,
            "cleanupProbability": 100,
            "cleanupExpirationPeriod": 120,
        },
    }


@pytest.mark.parametrize(
    ("path", "stored", "attribute", "expected"),
    [
        (store.CONSUMER_EXPIRATION_PERIOD, "0", "consumer_expiration_seconds", 300),
        (store.CONSUMER_EXPIRATION_PERIOD, "-5", "consumer_expiration_seconds", 300),
        (store.CONSUMER_EXPIRATION_PERIOD, " 60 ", "consumer_expiration_seconds", 60),
        (store.POST_TIMEOUT, "0", "post_timeout_seconds", 5),
        (store.CLEANUP_EXPIRATION_PERIOD, "0", "cleanup_expiration_minutes", 120),
        (store.CLEANUP_PROBABILITY, "0", "cleanup_probability", 0),
        (store.MAX_FAILURES, "0", "max_failures", 0),
        (store.LOCK_TIMEOUT, "0", "lock_timeout_seconds", 0),
        (store.ADMIN_TOKEN_LIFETIME, "0", "admin_token_lifetime_hours", 0),
        (store.POST_MAXREDIRECTS, "0", "post_max_redirects", 0),
        (store.ADMIN_TOKEN_LIFETIME, "abc", "admin_token_lifetime_hours", 4),
        (store.ADMIN_TOKEN_LIFETIME, "1.5", "admin_token_lifetime_hours", 4),
        (store.LOCK_TIMEOUT, None, "lock_timeout_seconds", 1800),
        (store.LOCK_TIMEOUT, "", "lock_timeout_seconds", 1800),
        (store.ALLOW_GUEST, "1", "allow_guest_access", True),
        (store.ALLOW_GUEST, "true", "allow_guest_access", True),
        (store.ALLOW_GUEST, "0", "allow_guest_access", False),
        (store.ALLOW_GUEST, None, "allow_guest_access", False),
        (store.INTEGRATION_AS_BEARER, "1", "integration_as_bearer", True),
        (store.ALLOW_HMAC_SHA1, "", "allow_hmac_sha1", False),
    ],
)
def test_snapshot_applies_magentos_fallbacks(path: str, stored: str | None, attribute: str, expected: object) -> None:
    snapshot = store.ConfigSnapshot.from_values({path: stored})
    assert getattr(snapshot, attribute) == expected
    defaults = store.ConfigSnapshot.from_values({})
    others = [f.name for f in dataclasses.fields(snapshot) if f.name != attribute]
    assert [getattr(snapshot, name) for name in others] == [getattr(defaults, name) for name in others]


def test_defaults_are_stored_as_magento_stores_them() -> None:
    assert store.DEFAULTS == {
        store.ALLOW_GUEST: "0",
        store.ADMIN_TOKEN_LIFETIME: "4",
        store.CLEANUP_PROBABILITY: "100",
        store.CLEANUP_EXPIRATION_PERIOD: "120",
        store.CONSUMER_EXPIRATION_PERIOD: "300",
        store.POST_MAXREDIRECTS: "0",
        store.POST_TIMEOUT: "5",
        store.INTEGRATION_AS_BEARER: "0",
        store.MAX_FAILURES: "6",
        store.LOCK_TIMEOUT: "1800",
        store.ALLOW_HMAC_SHA1: "0",
        store.PRIVATE_CALLBACK_ALLOW_LIST: "",
        store.REQUIRE_ADMIN_TOTP: "0",
        store.OAUTH2_TOKEN_LIFETIME: "3600",
        store.THROTTLING_ENABLED: "1",
        store.MAX_QUERY_COST: "1000",
        store.INTEGRATION_BUCKET_SIZE: "1000",
        store.INTEGRATION_RESTORE_RATE: "50",
        store.ADMIN_BUCKET_SIZE: "2000",
        store.ADMIN_RESTORE_RATE: "100",
        store.GUEST_BUCKET_SIZE: "400",
        store.GUEST_RESTORE_RATE: "20",
        store.AUDIT_LIFETIME: "365",
        store.ACTIVITY_RETENTION: "90",
        store.WEBHOOK_TIMEOUT: "10",
        store.WEBHOOK_DISABLE_AFTER: "100",
        store.WEBHOOK_RETENTION: "30",
        store.PUBLIC_MAX_AGE: "60",
        store.STALE_WHILE_REVALIDATE: "60",
    }


def test_every_setting_is_one_row_with_its_graphql_fields() -> None:
    from schema.config import (
        ActionLogConfig,
        AdminSecurityConfig,
        CachingConfig,
        OAuthConfig,
        RateLimitConfig,
        UpdateActionLogConfigInput,
        UpdateCachingConfigInput,
        UpdateOAuthConfigInput,
        UpdateRateLimitConfigInput,
        UpdateWebhookConfigInput,
        WebApiSecurityConfig,
        WebhookConfig,
    )

    attributes = [f.name for f in dataclasses.fields(store.ConfigSnapshot)]
    assert attributes == [*(s.attribute for s in store.SETTINGS), "data_version"]  # the one that is no setting
    sections = {
        "webapi": WebApiSecurityConfig,
        "oauth": OAuthConfig,
        "admin": AdminSecurityConfig,
        "graphql": RateLimitConfig,
        "webhooks": WebhookConfig,
        "caching": CachingConfig,
        "system": ActionLogConfig,
    }
    about_system_values = {"uses_system_value", "system_value"}  # every section has these besides its settings
    for section, graphql_type in sections.items():
        definition = graphql_type.__strawberry_definition__.fields
        fields = {f.python_name: f for f in definition if f.python_name not in about_system_values}
        rows = [s for s in store.SETTINGS if s.section == section]
        assert list(fields) == [s.name for s in rows]
        assert [fields[s.name].description for s in rows] == [s.description for s in rows]
    inputs = [f.python_name for f in UpdateOAuthConfigInput.__strawberry_definition__.fields]
    assert inputs.pop() == "use_system_value"
    assert inputs == [s.name for s in store.SETTINGS if s.section == "oauth"]
    inputs = [f.python_name for f in UpdateRateLimitConfigInput.__strawberry_definition__.fields]
    assert inputs.pop() == "use_system_value"
    assert inputs == [s.name for s in store.SETTINGS if s.section == "graphql"]
    inputs = [f.python_name for f in UpdateWebhookConfigInput.__strawberry_definition__.fields]
    assert inputs.pop() == "use_system_value"
    assert inputs == [s.name for s in store.SETTINGS if s.section == "webhooks"]
    inputs = [f.python_name for f in UpdateCachingConfigInput.__strawberry_definition__.fields]
    assert inputs.pop() == "use_system_value"
    assert inputs == [s.name for s in store.SETTINGS if s.section == "caching"]
    inputs = [f.python_name for f in UpdateActionLogConfigInput.__strawberry_definition__.fields]
    assert inputs.pop() == "use_system_value"
    assert inputs == [s.name for s in store.SETTINGS if s.section == "system"]


def test_oauth_changes_are_checked_against_the_table() -> None:
    from resolvers.config import validate_oauth_changes
    from resolvers.problems import Problem, UserErrorCode

    changes = {"consumer_post_timeout": 30, "allow_hmac_sha1": True, "enable_integration_as_bearer": False}
    accepted = validate_oauth_changes({**changes, "lockout_time": None})
    assert accepted.value == {store.POST_TIMEOUT: "30", store.ALLOW_HMAC_SHA1: "1", store.INTEGRATION_AS_BEARER: "0"}
    assert accepted.problems == []
    refused = validate_oauth_changes({"consumer_post_max_redirects": 11, "cleanup_probability": True})
    assert refused.value is None
    assert refused.problems == [
        Problem(("input", "consumer_post_max_redirects"), "Enter a number from 0 to 10.", UserErrorCode.OUT_OF_RANGE),
        Problem(("input", "cleanup_probability"), "Enter a number from 0 to 1000000.", UserErrorCode.OUT_OF_RANGE),
    ]


async def test_update_oauth_config_saves_and_validates(admin: GraphQLClient) -> None:
    ok = await admin.query(
        "mutation { updateOAuthConfig(input: {consumerExpirationPeriod: 600, enableIntegrationAsBearer: true}) "
        "{ oauth { consumerExpirationPeriod enableIntegrationAsBearer consumerPostTimeout } userErrors { code } } }"
    )
    assert ok["data"]["updateOAuthConfig"] == {
        "oauth": {"consumerExpirationPeriod": 600, "enableIntegrationAsBearer": True, "consumerPostTimeout": 5},
        "userErrors": [],
    }
    bad = await admin.query(
        "mutation { updateOAuthConfig(input: {consumerPostTimeout: 0, maxFailuresCount: -1, adminTokenLifetime: 8}) "
        "{ oauth { adminTokenLifetime } userErrors { field code message } } }"
    )
    payload = bad["data"]["updateOAuthConfig"]
    assert payload["oauth"] is None
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("input", "consumerPostTimeout"),
        ("input", "maxFailuresCount"),
    }
    assert {e["code"] for e in payload["userErrors"]} == {"OUT_OF_RANGE"}
    after = await admin.query("{ config { oauth { adminTokenLifetime consumerPostTimeout } } }")
    assert after["data"]["config"]["oauth"] == {"adminTokenLifetime": 4, "consumerPostTimeout": 5}


async def test_admin_token_lifetime_setting_applies_to_new_tokens(guest: GraphQLClient, admin: GraphQLClient) -> None:
    import datetime as dt

    from auth.clock import clock

    await admin.query("mutation { updateOAuthConfig(input: {adminTokenLifetime: 1}) { userErrors { code } } }")
    body = await guest.query(
        f'mutation {{ generateAdminToken(username: "admin", password: "{ADMIN_PASSWORD}") {{ expiresAt }} }}'
    )
    expires = dt.datetime.fromisoformat(body["data"]["generateAdminToken"]["expiresAt"])
    assert abs((expires - clock.now()).total_seconds() - 3600) < 60


async def test_guest_cannot_read_or_change_config(guest: GraphQLClient) -> None:
    body = await guest.query("{ config { webApiSecurity { allowAnonymousGuestAccess } oauth { lockoutTime } } }")
    assert body["data"] == {"config": {"webApiSecurity": None, "oauth": None}}
    assert {e["extensions"]["code"] for e in body["errors"]} == {"UNAUTHENTICATED"}
    denied = await guest.query("mutation { setGuestAccess(allow: true) { userErrors { code } } }")
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["requiredResources"] == ["Magento_Webapi::config_webapi"]


async def test_resource_tree_has_magentos_top_level(guest: GraphQLClient, admin: GraphQLClient) -> None:
    body = await admin.query(
        "{ resourceTree { id title sortOrder guestEligible children { id title guestEligible "
        "children { id guestEligible children { id } } } } }"
    )
    tree = body["data"]["resourceTree"]
    assert [n["title"] for n in tree] == [
        "Dashboard",
        "Sales",
        "Catalog",
        "Customers",
        "My Account",
        "Marketing",
        "Content",
        "Reports",
        "Stores",
        "System",
        "Global Search",
    ]
    catalog = next(n for n in tree if n["id"] == "Magento_Catalog::catalog")
    inventory = catalog["children"][0]
    assert inventory["id"] == "Magento_Catalog::catalog_inventory"
    assert [(c["id"], c["guestEligible"]) for c in inventory["children"]] == [
        ("Magento_Catalog::products", True),
        ("Magento_Catalog::categories", True),
    ]
    system = next(n for n in tree if n["id"] == "Magento_Backend::system")
    assert any(c["id"] == "Magento_Integration::extensions" for c in system["children"])
    refused = await guest.query("{ resourceTree { id } }")
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_expand_selection_brings_subtrees_and_marks_ancestors_partial() -> None:
    from auth.acl import TREE

    held, partial = TREE.expand_selection(["Magento_Cms::page", "Magento_Sales::actions_view"])
    assert held == {
        "Magento_Cms::page",
        "Magento_Cms::save",
        "Magento_Cms::save_design",
        "Magento_Cms::page_delete",
        "Magento_Sales::actions_view",
    }
    assert partial == {
        "Magento_Backend::admin",
        "Magento_Backend::content",
        "Magento_Backend::content_elements",
        "Magento_Sales::sales",
        "Magento_Sales::sales_operation",
        "Magento_Sales::sales_order",
        "Magento_Sales::actions",
    }
    assert TREE.expand_selection(["Magento_Backend::all"]) == ({"Magento_Backend::all"}, frozenset())
    assert TREE.unknown(["Magento_Cms::page", "Nope::x"]) == ["Nope::x"]
