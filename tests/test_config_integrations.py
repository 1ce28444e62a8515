"""Integrations declared in the TOML integrations file: created at start, re-created as Reset when
changed, kept (deletable) when no longer declared, read-only for admins, their names reserved, and
robust to bad files, whose problems admins see through the API."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from auth.admin_tokens import create_admin
from settings import Settings
from tests.support.graphql import GraphQLClient, asgi_client
from tests.support.integrations import DELETE, GET, REAUTHORIZE, UPDATE, YOUR_PASSWORD, authorize, create
from tests.support.oauth import find_token_row
from tests.support.principals import ADMIN_PASSWORD, serving

LIST = """{ integrations(first: 50) { edges { node {
    id name email callbackUrl identityLinkUrl status setupType resourceAccess resources partialResources
    credentials { consumerKey accessToken }
} } } }"""

ERP = """
[[integrations]]
name = "ERP connector"
email = "ops@erp.example"
callback_url = "https://erp.example/callback"
resources = ["Magento_Sales::sales_invoice", "Magento_Catalog::products"]
"""

FEED = """
[[integrations]]
name = "Feed"
resources = ["Magento_Backend::all"]
"""


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[GraphQLClient]:
    """Start the app (running its start-up tasks), yield the admin signed in, then stop it."""
    from models import AdminUser

    async with serving(settings) as app:
        if not await AdminUser.exists(username="admin"):
            await create_admin("admin", ADMIN_PASSWORD)
        async with asgi_client(app) as http:
            yield await GraphQLClient(http).sign_in("admin", ADMIN_PASSWORD)


def write(settings: Settings, text: str | bytes) -> None:
    data = text if isinstance(text, bytes) else text.encode()
    settings.resolved_integrations_file.write_bytes(data)


async def integrations(admin: GraphQLClient) -> dict[str, dict[str, Any]]:
    body = await admin.query(LIST)
    return {e["node"]["name"]: e["node"] for e in body["data"]["integrations"]["edges"]}


def config_log(caplog: pytest.LogCaptureFixture, level: int = logging.ERROR) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "integrations.config_file" and r.levelno >= level]


async def test_declared_integrations_are_created_at_start(settings: Settings) -> None:
    write(settings, ERP + FEED)
    async with running(settings) as admin:
        found = await integrations(admin)
    assert set(found) == {"ERP connector", "Feed"}
    erp = found["ERP connector"]
    assert erp["setupType"] == "CONFIG"
    assert erp["status"] == "INACTIVE"
    assert (erp["email"], erp["callbackUrl"], erp["identityLinkUrl"]) == (
        "ops@erp.example",
        "https://erp.example/callback",
        None,
    )
    assert erp["resourceAccess"] == "CUSTOM"
    assert set(erp["resources"]) == {
        "Magento_Sales::sales_invoice",
        "Magento_Catalog::products",
        "Magento_Catalog::edit_product_design",
    }
    # Ancestors are added (as Magento's converter does), as partially selected.
    assert set(erp["partialResources"]) == {
        "Magento_Backend::admin",
        "Magento_Sales::sales",
        "Magento_Sales::sales_operation",
        "Magento_Catalog::catalog",
        "Magento_Catalog::catalog_inventory",
    }
    assert erp["credentials"]["consumerKey"] and erp["credentials"]["accessToken"] is None
    assert found["Feed"]["resourceAccess"] == "ALL"
    assert found["Feed"]["resources"] == ["Magento_Backend::all"]


async def test_admins_cannot_edit_or_delete_them_but_can_activate(settings: Settings) -> None:
    write(settings, ERP)
    async with running(settings) as admin:
        erp = (await integrations(admin))["ERP connector"]
        body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": erp["id"], "email": "x@y.example"}})
        assert body["data"]["updateIntegration"]["userErrors"] == [
            {
                "field": ["input", "id"],
                "message": "Cannot edit integrations created via config file.",
                "code": "READ_ONLY",
            }
        ]
        body = await admin.query(DELETE, {"id": erp["id"], **YOUR_PASSWORD})
        assert body["data"]["deleteIntegration"] == {
            "deletedId": None,
            "userErrors": [
                {
                    "field": ["id"],
                    "message": "Uninstall the extension to remove integration 'ERP connector'.",
                    "code": "READ_ONLY",
                }
            ],
        }
        payload = await authorize(admin, erp["id"])
        assert payload["integration"]["status"] == "ACTIVE"
        body = await admin.query(GET, {"id": erp["id"]})
        assert body["data"]["integration"]["email"] == "ops@erp.example"


async def test_unchanged_declarations_survive_a_restart(settings: Settings) -> None:
    write(settings, ERP)
    async with running(settings) as admin:
        erp = (await integrations(admin))["ERP connector"]
        credentials = (await authorize(admin, erp["id"]))["credentials"]
    async with running(settings) as admin:
        again = (await integrations(admin))["ERP connector"]
    assert again["id"] == erp["id"]
    assert again["status"] == "ACTIVE"
    assert again["credentials"] == {
        "consumerKey": credentials["consumerKey"],
        "accessToken": credentials["accessToken"],
    }


async def test_a_changed_declaration_is_recreated_as_reset_with_new_credentials(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    write(settings, ERP)
    async with running(settings) as admin:
        erp = (await integrations(admin))["ERP connector"]
        old = (await authorize(admin, erp["id"]))["credentials"]

    write(settings, ERP.replace("ops@erp.example", "it@erp.example"))
    caplog.set_level(logging.INFO, logger="integrations.config_file")
    async with running(settings) as admin:
        reset = (await integrations(admin))["ERP connector"]
        assert reset["id"] != erp["id"]
        assert reset["status"] == "RESET"
        assert reset["email"] == "it@erp.example"
        assert reset["credentials"]["consumerKey"] != old["consumerKey"]
        assert reset["credentials"]["accessToken"] is None
        assert await find_token_row(old["accessToken"]) is None
        assert any("re-created" in m and "Reauthorize" in m for m in config_log(caplog, logging.WARNING))

        body = await admin.query(REAUTHORIZE, {"id": reset["id"], **YOUR_PASSWORD})
        payload = body["data"]["reauthorizeIntegration"]
        assert payload["userErrors"] == []
        assert payload["integration"]["status"] == "ACTIVE"
        assert payload["credentials"]["consumerKey"] == reset["credentials"]["consumerKey"]

    # A change of resources counts too.
    write(settings, ERP.replace('"Magento_Catalog::products"', '"Magento_Cms::page"'))
    async with running(settings) as admin:
        again = (await integrations(admin))["ERP connector"]
    assert again["status"] == "RESET"
    assert "Magento_Cms::page" in again["resources"] and "Magento_Catalog::products" not in again["resources"]


DECLARED = "query($id: ID!) { integration(id: $id) { setupType declaredInFile } }"


async def test_an_integration_removed_from_the_file_is_kept_until_an_admin_deletes_it(settings: Settings) -> None:
    """A typo in the file must not delete a live integration (Magento keeps it too)."""
    write(settings, ERP + FEED)
    async with running(settings) as admin:
        listed = await integrations(admin)
        assert set(listed) == {"ERP connector", "Feed"}
        await authorize(admin, listed["ERP connector"]["id"])
    write(settings, FEED)
    async with running(settings) as admin:
        listed = await integrations(admin)
        assert set(listed) == {"ERP connector", "Feed"}
        erp, feed = listed["ERP connector"], listed["Feed"]
        assert erp["status"] == "ACTIVE" and erp["credentials"]["accessToken"]
        shown = await admin.data(DECLARED, {"id": erp["id"]})
        assert shown["integration"] == {"setupType": "CONFIG", "declaredInFile": False}
        assert (await admin.data(DECLARED, {"id": feed["id"]}))["integration"]["declaredInFile"] is True
        # Still read-only; but an admin may now delete it, unlike one the file declares.
        edited = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": erp["id"], "email": "x@y.example"}})
        assert admin.user_errors(edited["data"]["updateIntegration"]) == [(("input", "id"), "READ_ONLY")]
        refused = await admin.query(DELETE, {"id": feed["id"], **YOUR_PASSWORD})
        assert admin.user_errors(refused["data"]["deleteIntegration"]) == [(("id",), "READ_ONLY")]
        deleted = await admin.query(DELETE, {"id": erp["id"], **YOUR_PASSWORD})
        assert admin.user_errors(deleted["data"]["deleteIntegration"]) == []
        assert set(await integrations(admin)) == {"Feed"}


async def test_a_missing_file_changes_nothing(settings: Settings) -> None:
    write(settings, FEED)
    async with running(settings) as admin:
        feed = (await integrations(admin))["Feed"]
    settings.resolved_integrations_file.unlink()
    async with running(settings) as admin:
        assert (await integrations(admin))["Feed"]["id"] == feed["id"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[[integrations]\nname = 'x'\n", "not valid TOML"),
        ('integrations = "ERP"\n', "must be an array of tables"),
        (b"name = '\xff\xfe'\n", "cannot be read"),
    ],
)
async def test_a_malformed_file_is_reported_and_changes_nothing(
    settings: Settings, caplog: pytest.LogCaptureFixture, text: str | bytes, problem: str
) -> None:
    write(settings, ERP)
    async with running(settings) as admin:
        erp = (await integrations(admin))["ERP connector"]
    write(settings, text)
    caplog.set_level(logging.INFO, logger="integrations.config_file")
    async with running(settings) as admin:
        assert (await integrations(admin))["ERP connector"]["id"] == erp["id"]
    errors = config_log(caplog)
    assert len(errors) == 1
    assert str(settings.resolved_integrations_file) in errors[0]
    assert problem in errors[0]
    assert "No config-file integration was changed" in errors[0]


async def test_bad_entries_are_reported_and_skipped(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    write(settings, ERP)
    async with running(settings) as admin:
        erp = (await integrations(admin))["ERP connector"]

    write(
        settings,
        FEED
        + """
[[integrations]]
name = "ERP connector"
email = "not an email"

[[integrations]]
name = "Unknown resource"
resources = ["Magento_Catalog::products", "Vendor_Nope::thing"]

[[integrations]]
name = "Plain HTTP is fine"
callback_url = "http://partner.example/cb"
identity_link_url = "ftp://partner.example/login"

[[integrations]]
email = "nameless@x.example"

[[integrations]]
name = "Typo"
callbak_url = "https://x.example/"

[[integrations]]
name = "Feed"
""",
    )
    caplog.set_level(logging.INFO, logger="integrations.config_file")
    async with running(settings) as admin:
        found = await integrations(admin)
    # The good entry is applied; the bad ones are skipped; the ERP integration its bad entry declared is kept.
    assert set(found) == {"Feed", "ERP connector"}
    assert found["ERP connector"]["id"] == erp["id"]
    assert found["ERP connector"]["email"] == "ops@erp.example"
    errors = config_log(caplog)
    path = str(settings.resolved_integrations_file)
    assert all(path in e for e in errors)
    joined = "\n".join(errors)
    assert "'ERP connector'" in joined and "valid email" in joined
    assert "Vendor_Nope::thing" in joined and "Magento_Catalog::products" not in joined
    assert "identity_link_url" in joined
    assert "entry 5 skipped: name: This is a required field." in joined
    assert "unknown key 'callbak_url'" in joined
    assert "declared more than once" in joined
    assert len(errors) == 6


async def test_a_name_taken_by_an_admin_made_integration_is_skipped(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(settings) as admin:
        manual = await create(admin, name="Feed", email="me@x.example")
    write(settings, FEED)
    caplog.set_level(logging.INFO, logger="integrations.config_file")
    async with running(settings) as admin:
        found = (await integrations(admin))["Feed"]
        assert found["id"] == manual["id"]
        assert found["setupType"] == "MANUAL"
        body = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": found["id"], "email": "you@x.example"}})
        assert admin.user_errors(body["data"]["updateIntegration"]) == []
        # The admin sees the clash through the API (the console shows it), not only in the log.
        problems = (await admin.data("{ integrationsFileProblems }"))["integrationsFileProblems"]
        assert len(problems) == 1
        assert "declares 'Feed', but an integration with this name was created in the admin" in problems[0]
    assert any("created in the admin" in e for e in config_log(caplog))


async def test_declared_names_are_reserved_for_the_file(settings: Settings) -> None:
    from tests.support.integrations import CREATE, create

    # "Later" is declared with a typo, so it is skipped: its name stays reserved for the file all the same.
    write(settings, FEED + '\n[[integrations]]\nname = "Later"\nresorces = []\n')
    async with running(settings) as admin:
        for name in ("Feed", "FEED", " feed ", "LATER"):
            body = await admin.query(CREATE, {"input": {**YOUR_PASSWORD, "name": name}})
            assert admin.user_errors(body["data"]["createIntegration"]) == [(("input", "name"), "UNIQUE")], name
        other = await create(admin, name="Other")
        renamed = await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": other["id"], "name": "later"}})
        assert admin.user_errors(renamed["data"]["updateIntegration"]) == [(("input", "name"), "UNIQUE")]
        assert "declared in the integrations file" in renamed["data"]["updateIntegration"]["userErrors"][0]["message"]
        problems = (await admin.data("{ integrationsFileProblems }"))["integrationsFileProblems"]
        assert len(problems) == 1 and "unknown key 'resorces'" in problems[0]
