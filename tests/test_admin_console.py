"""The admin console in a real browser (Debian's Chromium driven by Playwright) against a real server.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.browser import DESKTOP, chromium_path, console_sign_in, launch
from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import GET, create_on_server
from tests.support.servers import ROOT, ServerProcess, ThirdPartyApp, first_admin_password, free_port, running

#: The database is not what these tests are about: CI runs them once, on SQLite.
pytestmark = pytest.mark.once

if chromium_path() is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

CALLBACK_NOTE = (
    "Enter URL where Oauth credentials can be sent when using Oauth for token exchange. "
    "We strongly recommend using https://."
)
IDENTITY_NOTE = "URL to redirect user to link their 3rd party account with this Magento integration credentials."
GUEST_NOTE = (
    "This feature applies only to CMS, Catalog and Store APIs. "
    "Please consult your developers for details on potential security risks."
)
DELETE_CONFIRM = "Are you sure you want to delete this integration? You can't undo this action."
POPUP_BLOCKED = "Popup Blocker is enabled! Please add this site to your exception list."
HTTPS_WARNING = (
    "Warning! Integrations not using HTTPS are insecure and potentially expose private or personally "
    "identifiable information"
)
RESET_MESSAGE = "One or more integrations have been reset because of a change to their xml configs."


@dataclasses.dataclass
class Console:
    """A server, the first admin's password, and that admin signed in through the API."""

    base_url: str
    password: str
    admin: SyncGraphQLClient

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/admin/"

    def create_integration(self, **fields: Any) -> dict[str, Any]:
        return create_on_server(self.admin, self.password, **fields)

    def integration(self, integration_id: str) -> dict[str, Any] | None:
        return self.admin.data(GET, {"id": integration_id})["integration"]


def signed_in_console(base_url: str, password: str) -> Console:
    return Console(base_url, password, SyncGraphQLClient(base_url).sign_in("admin", password))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def start_console(server_factory: Any, database_url: str, **env: str) -> Console:
    server = server_factory({"DATABASE_URL": database_url, **env})
    password = first_admin_password(server)
    return signed_in_console(server.base_url, password)


@pytest.fixture
def console(database_url: str, server_factory: Any) -> Console:
    return start_console(server_factory, database_url)


def _page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_console(message: Any) -> None:
        # A refused request (e.g. the 401 of an expired session) is logged by the browser itself.
        if message.type == "error" and "Failed to load resource" not in message.text:
            problems.append(f"console: {message.text}")

    page.on("console", on_console)
    yield page
    context.close()
    assert not problems, problems  # no script errors, no Content-Security-Policy violations


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    yield from _page(browser, DESKTOP)


@pytest.fixture
def narrow_page(browser: Any) -> Iterator[Any]:
    yield from _page(browser, {"width": 380, "height": 800})


def grid_row(page: Any, name: str) -> Any:
    return page.locator("table.grid tbody tr").filter(has=page.locator(".name", has_text=name))


def resource_box(page: Any, resource_id: str) -> Any:
    return page.locator(f'.tree input[type="checkbox"][data-id="{resource_id}"]')


def box_state(page: Any, resource_id: str) -> str:
    return resource_box(page, resource_id).evaluate(
        "b => b.indeterminate ? 'partial' : (b.checked ? 'checked' : 'unchecked')"
    )


def use_system_value(page: Any, control: Any) -> Any:
    """The "Use system value" checkbox of a configuration field."""
    return page.locator(".field").filter(has=control).get_by_label("Use system value")


def unlabelled_controls(page: Any) -> list[str]:
    """Form controls on screen without a <label> (every input must have one)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
              .filter(el => el.type !== 'hidden' && (!el.labels || el.labels.length === 0))
              .map(el => el.outerHTML)"""
    )


# ------------------------------------------------------------------------------------------- sign-in


def test_sign_in_keeps_token_for_the_tab_and_sign_out_revokes_it(page: Any, console: Console) -> None:
    page.goto(console.admin_url)
    expect(page.get_by_role("heading", name="Welcome, please sign in")).to_be_visible()
    assert unlabelled_controls(page) == []
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("The account sign-in was incorrect")

    # After a failure the password field is emptied and focused; Enter submits.
    page.get_by_label("Password").fill(console.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    expect(page.locator("table.grid tbody")).to_have_text("We couldn't find any records.")
    token = page.evaluate("sessionStorage.getItem('integrations-admin-token')")
    tab = console.admin.with_token(token)  # the API, as the console's tab calls it
    assert token and tab.query("{ viewer { kind } }")["data"]["viewer"]["kind"] == "ADMIN"

    page.reload()  # the tab keeps its session
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    expect(page.get_by_text("admin", exact=True)).to_be_visible()

    page.get_by_role("button", name="Sign Out").click()
    expect(page.get_by_text("You have logged out.")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('integrations-admin-token')") is None
    assert tab.post("{ viewer { kind } }").status_code == 401


def test_expired_session_returns_to_sign_in_with_a_message(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    token = page.evaluate("sessionStorage.getItem('integrations-admin-token')")
    # The token stops working on the server (as when it expires).
    revoked = console.admin.with_token(token).query("mutation { revokeAdminToken { revoked } }")
    assert revoked["data"]["revokeAdminToken"]["revoked"] is True
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="Welcome, please sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Your session has expired. Please sign in again.")
    assert page.evaluate("sessionStorage.getItem('integrations-admin-token')") is None


# ------------------------------------------------------------------------------------------- integrations


def test_create_custom_integration_by_ticking_tree_nodes(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Add New Integration").click()
    expect(page.get_by_role("heading", name="New Integration")).to_be_visible()
    expect(page.get_by_role("tab", name="Integration Info")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Name", exact=True).fill("Catalog Sync")
    page.get_by_label("Email", exact=True).fill("not-an-email")
    page.get_by_label("Callback URL", exact=True).fill("http://erp.example.com/callback")
    page.get_by_label("Your Password").fill(console.password)  # Current User Identity Verification
    expect(page.get_by_text(CALLBACK_NOTE)).to_be_visible()
    expect(page.get_by_text(IDENTITY_NOTE)).to_be_visible()
    assert unlabelled_controls(page) == []

    page.get_by_role("tab", name="API").click()
    expect(page.get_by_label("Resource Access")).to_have_value("CUSTOM")
    page.get_by_role("button", name="Collapse all").click()
    expect(resource_box(page, "Magento_Catalog::products")).to_be_hidden()
    page.get_by_role("button", name="Expand all").click()
    expect(resource_box(page, "Magento_Catalog::products")).to_be_visible()

    resource_box(page, "Magento_Catalog::catalog_inventory").check()  # checks its subtree
    resource_box(page, "Magento_Cms::page").check()
    assert box_state(page, "Magento_Catalog::products") == "checked"
    assert box_state(page, "Magento_Catalog::categories") == "checked"
    assert box_state(page, "Magento_Catalog::catalog") == "partial"
    assert box_state(page, "Magento_Backend::content") == "partial"
    assert box_state(page, "Magento_Sales::sales") == "unchecked"
    # Unticking a child leaves its parent partial (a ticked node stands for its whole subtree).
    resource_box(page, "Magento_Catalog::categories").uncheck()
    assert box_state(page, "Magento_Catalog::catalog_inventory") == "partial"
    resource_box(page, "Magento_Catalog::catalog_inventory").check()

    # The server's userErrors appear beside their fields, on their tab.
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("tab", name="Integration Info")).to_have_attribute("aria-selected", "true")
    email_error = page.locator(".field.has-error").filter(has=page.get_by_label("Email", exact=True))
    expect(email_error.locator(".field-error")).to_be_visible()
    page.get_by_label("Email", exact=True).fill("ops@erp.example.com")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text("The integration 'Catalog Sync' has been saved.")).to_be_visible()
    row = grid_row(page, "Catalog Sync")
    expect(row.locator(".not-secure")).to_have_text("Integration not secure")
    expect(row.locator(".col-status")).to_have_text("Inactive")
    expect(row.get_by_role("button", name="Activate Catalog Sync")).to_have_text("Activate")

    # The stored grant, read back through GraphQL: the ticked nodes with their whole subtrees.
    node = console.admin.data("{ integrations(first: 5) { edges { node { id resourceAccess resources } } } }")
    stored = node["integrations"]["edges"][0]["node"]
    assert stored["resourceAccess"] == "CUSTOM"
    resources = set(stored["resources"])
    assert {
        "Magento_Catalog::catalog_inventory",
        "Magento_Catalog::products",
        "Magento_Catalog::categories",
        "Magento_Cms::page",
    } <= resources
    assert "Magento_Catalog::catalog" not in resources and "Magento_Sales::sales" not in resources

    # A second integration with the same name: the name field shows why.
    page.get_by_role("link", name="Add New Integration").click()
    page.get_by_label("Name", exact=True).fill("Catalog Sync")
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save", exact=True).click()
    name_row = page.locator(".field").filter(has=page.get_by_label("Name", exact=True))
    expect(name_row.locator(".field-error")).to_contain_text("Catalog Sync")


def test_edit_integration_prefills_and_saves_changes(page: Any, console: Console) -> None:
    created = console.create_integration(
        name="Warehouse",
        email="wh@example.com",
        resourceAccess="CUSTOM",
        resources=["Magento_Sales::sales_order", "Magento_Customer::manage"],
    )
    console_sign_in(page, console.base_url, console.password)
    grid_row(page, "Warehouse").get_by_role("link", name="Edit Warehouse").click()
    expect(page.get_by_role("heading", name='Edit "Warehouse" Integration')).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_have_value("wh@example.com")
    page.get_by_role("tab", name="API").click()
    assert box_state(page, "Magento_Sales::sales_order") == "checked"
    assert box_state(page, "Magento_Sales::actions_view") == "checked"
    assert box_state(page, "Magento_Sales::sales") == "partial"
    assert box_state(page, "Magento_Customer::manage") == "checked"

    resource_box(page, "Magento_Customer::manage").uncheck()
    resource_box(page, "Magento_Backend::stores").check()
    page.get_by_role("tab", name="Integration Info").click()
    page.get_by_label("Name", exact=True).fill("Warehouse East")
    page.get_by_label("Identity link URL", exact=True).fill("https://wh.example.com/link")
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The integration 'Warehouse East' has been saved.")).to_be_visible()

    stored = console.integration(created["id"])
    assert stored["name"] == "Warehouse East"
    assert stored["identityLinkUrl"] == "https://wh.example.com/link"
    assert "Magento_Customer::manage" not in stored["resources"]
    assert {"Magento_Sales::actions_view", "Magento_Backend::store"} <= set(stored["resources"])

    # Resource Access "All" hides the tree and stores the All grant.
    grid_row(page, "Warehouse East").get_by_role("link", name="Edit Warehouse East").click()
    page.get_by_role("tab", name="API").click()
    page.get_by_label("Resource Access").select_option("ALL")
    expect(page.locator(".tree")).to_be_hidden()
    page.get_by_role("tab", name="Integration Info").click()
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The integration 'Warehouse East' has been saved.")).to_be_visible()
    stored = console.integration(created["id"])
    assert stored["resourceAccess"] == "ALL" and stored["resources"] == ["Magento_Backend::all"]


def test_activate_manual_integration_shows_the_four_tokens(page: Any, console: Console) -> None:
    created = console.create_integration(
        name="Reports Bot", resourceAccess="CUSTOM", resources=["Magento_Reports::report"]
    )
    console_sign_in(page, console.base_url, console.password)
    grid_row(page, "Reports Bot").get_by_role("button", name="Activate Reports Bot").click()
    dialog = page.get_by_role("dialog", name="Reports Bot")
    expect(dialog).to_contain_text("The integration you selected asks you to approve access to the following:")
    expect(dialog.locator('.granted-node[data-id="Magento_Reports::salesroot"]')).to_be_visible()
    expect(dialog.locator('.granted-node[data-id="Magento_Sales::sales"]')).to_have_count(0)
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Allow").click()

    tokens = page.get_by_role("dialog", name="Integration Tokens for Extensions")
    expect(tokens).to_be_visible()
    shown = {
        label: tokens.get_by_label(label, exact=True).input_value()
        for label in ("Consumer Key", "Consumer Secret", "Access Token", "Access Token Secret")
    }
    stored = console.integration(created["id"])
    assert stored["status"] == "ACTIVE"
    assert shown == {
        "Consumer Key": stored["credentials"]["consumerKey"],
        "Consumer Secret": stored["credentials"]["consumerSecret"],
        "Access Token": stored["credentials"]["accessToken"],
        "Access Token Secret": stored["credentials"]["accessTokenSecret"],
    }
    assert all(len(v) == 32 for v in shown.values())
    tokens.get_by_role("button", name="Done").click()
    expect(page.get_by_text("The integration 'Reports Bot' has been activated.")).to_be_visible()
    row = grid_row(page, "Reports Bot")
    expect(row.locator(".col-status")).to_have_text("Active")

    # Reauthorize issues a new access token; the consumer key stays.
    row.get_by_role("button", name="Reauthorize Reports Bot").click()
    dialog = page.get_by_role("dialog", name="Reports Bot")
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Reauthorize").click()
    tokens = page.get_by_role("dialog", name="Integration Tokens for Extensions")
    assert tokens.get_by_label("Consumer Key", exact=True).input_value() == shown["Consumer Key"]
    assert tokens.get_by_label("Access Token", exact=True).input_value() != shown["Access Token"]
    tokens.get_by_role("button", name="Done").click()
    expect(page.get_by_text("The integration 'Reports Bot' has been re-authorized.")).to_be_visible()


def test_activation_without_permissions_says_so(page: Any, console: Console) -> None:
    console.create_integration(name="Nothing Needed", resourceAccess="CUSTOM", resources=[])
    console_sign_in(page, console.base_url, console.password)
    grid_row(page, "Nothing Needed").get_by_role("button", name="Activate Nothing Needed").click()
    dialog = page.get_by_role("dialog", name="Nothing Needed")
    expect(dialog).to_contain_text("No permissions requested")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)
    expect(grid_row(page, "Nothing Needed").locator(".col-status")).to_have_text("Inactive")


def test_save_and_activate_from_the_form(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Add New Integration").click()
    page.get_by_label("Name", exact=True).fill("Quick Start")
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("tab", name="API").click()
    page.get_by_label("Resource Access").select_option("ALL")
    page.get_by_role("button", name="Save & Activate").click()
    dialog = page.get_by_role("dialog", name="Quick Start")
    expect(dialog.locator('.granted-node[data-id="Magento_Sales::sales"]')).to_be_visible()
    expect(dialog.get_by_label("Your Password")).to_have_count(0)  # just given in the form
    dialog.get_by_role("button", name="Allow").click()
    page.get_by_role("dialog", name="Integration Tokens for Extensions").get_by_role("button", name="Done").click()
    expect(grid_row(page, "Quick Start").locator(".col-status")).to_have_text("Active")


def test_delete_asks_first(page: Any, console: Console) -> None:
    created = console.create_integration(name="Old Feed")
    console_sign_in(page, console.base_url, console.password)
    grid_row(page, "Old Feed").get_by_role("button", name="Delete Old Feed").click()
    confirm = page.get_by_role("dialog", name="Are you sure?")
    expect(confirm).to_contain_text(DELETE_CONFIRM)
    confirm.get_by_role("button", name="Cancel").click()
    expect(grid_row(page, "Old Feed")).to_have_count(1)

    grid_row(page, "Old Feed").get_by_role("button", name="Delete Old Feed").click()
    confirm = page.get_by_role("dialog", name="Are you sure?")
    # A wrong Your Password is shown beside the field; nothing is deleted and the modal stays for another try.
    confirm.get_by_label("Your Password").fill("not-my-password")
    confirm.get_by_role("button", name="OK").click()
    expect(confirm.get_by_role("alert")).to_have_text("You have entered an invalid password for current user.")
    expect(confirm.get_by_label("Your Password")).to_have_attribute("aria-invalid", "true")
    assert console.integration(created["id"]) is not None
    confirm.get_by_label("Your Password").fill(console.password)
    confirm.get_by_role("button", name="OK").click()
    expect(page.get_by_text("The integration 'Old Feed' has been deleted.")).to_be_visible()
    expect(page.locator("table.grid tbody")).to_have_text("We couldn't find any records.")
    assert console.integration(created["id"]) is None


def test_grid_search_filter_and_paging(page: Any, console: Console) -> None:
    for i in range(23):
        console.create_integration(name=f"Feed {i:02d}", email=f"feed{i}@example.com")
    console.create_integration(name="Zeta Partner", callbackUrl="https://zeta.example.com/cb")
    console_sign_in(page, console.base_url, console.password)
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(20)
    expect(rows.first.locator(".name")).to_have_text("Feed 00")
    page.get_by_role("button", name="Next page").click()
    expect(rows).to_have_count(4)
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(page.get_by_role("button", name="Next page")).to_be_disabled()
    expect(grid_row(page, "Zeta Partner").locator(".not-secure")).to_have_count(0)
    page.get_by_role("button", name="Previous page").click()
    expect(rows).to_have_count(20)

    page.get_by_label("Per page").select_option("50")
    expect(rows).to_have_count(24)

    page.get_by_label("Search by name or email").fill("feed7@")
    page.get_by_role("button", name="Search").click()
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".name")).to_have_text("Feed 07")

    page.get_by_label("Search by name or email").fill("nobody")
    page.keyboard.press("Enter")
    expect(page.locator("table.grid tbody")).to_have_text("We couldn't find any records.")

    page.get_by_role("button", name="Reset Filter").click()
    page.get_by_label("Status").select_option("ACTIVE")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("table.grid tbody")).to_have_text("We couldn't find any records.")


def test_config_file_integration_opens_read_only(
    page: Any, database_url: str, server_factory: Any, tmp_path: Path
) -> None:
    declared = tmp_path / "integrations.toml"
    declared.write_text(
        '[[integrations]]\nname = "ERP Extension"\nemail = "erp@example.com"\n'
        'resources = ["Magento_Sales::sales_invoice"]\n'
    )
    console = start_console(server_factory, database_url, INTEGRATIONS_FILE=str(declared))
    console_sign_in(page, console.base_url, console.password)
    row = grid_row(page, "ERP Extension")
    expect(row.get_by_role("button", name="Delete ERP Extension")).to_be_disabled()
    expect(row.get_by_role("button", name="Delete ERP Extension")).to_have_attribute(
        "title", "Uninstall the extension to remove this integration"
    )
    row.get_by_role("link", name="Edit ERP Extension").click()
    expect(page.get_by_role("heading", name='View "ERP Extension" Integration')).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_be_disabled()
    expect(page.get_by_label("Email", exact=True)).to_have_value("erp@example.com")
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Save & Activate")).to_have_count(0)
    page.get_by_role("tab", name="API").click()
    assert box_state(page, "Magento_Sales::sales_invoice") == "checked"
    assert box_state(page, "Magento_Sales::sales") == "partial"
    expect(resource_box(page, "Magento_Sales::sales_invoice")).to_be_disabled()


def test_integrations_file_problems_and_undeclared_integrations_are_shown(
    page: Any, database_url: str, server_factory: Any, tmp_path: Path
) -> None:
    """What start-up found wrong with the file is in the grid, not only in the log; a removed one is deletable."""
    declared = tmp_path / "integrations.toml"
    declared.write_text('[[integrations]]\nname = "Old Feed"\nresources = ["Magento_Catalog::products"]\n')
    first = start_console(server_factory, database_url, INTEGRATIONS_FILE=str(declared))
    first.create_integration(name="Shop Sync")
    declared.write_text('[[integrations]]\nname = "shop sync"\nresources = ["Magento_Catalog::products"]\n')
    restarted = server_factory({"DATABASE_URL": database_url, "INTEGRATIONS_FILE": str(declared)})
    console_sign_in(page, restarted.base_url, first.password)
    problems = page.get_by_role("alert").filter(has_text="The integrations file has problems")
    expect(problems).to_contain_text("declares 'shop sync', but an integration with this name was created in the admin")
    row = grid_row(page, "Old Feed")
    expect(row).to_contain_text("No longer in the integrations file")
    remove = row.get_by_role("button", name="Delete Old Feed")
    expect(remove).to_be_enabled()
    remove.click()
    page.get_by_role("dialog").get_by_label("Your Password").fill(first.password)
    page.get_by_role("dialog").get_by_role("button", name="OK").click()
    expect(page.get_by_text("The integration 'Old Feed' has been deleted.")).to_be_visible()


def test_rendered_data_is_escaped(page: Any, console: Console) -> None:
    name = "<img src=x onerror=\"document.title='pwned'\"><b>bold</b>"
    console.create_integration(name=name)
    console_sign_in(page, console.base_url, console.password)
    expect(page.locator("table.grid .name")).to_have_text(name)
    assert page.locator("table.grid img, table.grid b").count() == 0
    assert page.title() != "pwned"


def test_grid_sorts_by_column_filters_by_column_and_counts(page: Any, console: Console) -> None:
    console.create_integration(name="Bravo", email="b@bravo.example")
    insecure = console.create_integration(name="Alpha", email="z@alpha.example", callbackUrl="http://a.example/cb")
    console.create_integration(name="Charlie", identityLinkUrl="https://c.example/link")
    console_sign_in(page, console.base_url, console.password)
    expect(page.get_by_text("3 records found")).to_be_visible()
    expect(page.get_by_text(HTTPS_WARNING)).to_be_visible()
    name_header = page.get_by_role("columnheader", name="Name")
    email_header = page.get_by_role("columnheader", name="Email")
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("table.grid tbody .name")).to_have_text(["Alpha", "Bravo", "Charlie"])
    expect(grid_row(page, "Alpha").locator(".col-email")).to_have_text("z@alpha.example")

    # A click sorts by the column; a second click reverses it (keyboard works too).
    name_header.get_by_role("button").click()
    expect(name_header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("table.grid tbody .name").first).to_have_text("Charlie")
    expect(page.locator("table.grid tbody .name")).to_have_text(["Charlie", "Bravo", "Alpha"])
    email_header.get_by_role("button").focus()
    page.keyboard.press("Enter")
    expect(email_header).to_have_attribute("aria-sort", "ascending")
    expect(name_header).not_to_have_attribute("aria-sort", re.compile("."))
    expect(page.locator("table.grid tbody .name").first).to_have_text("Charlie")  # no email sorts first
    expect(page.locator("table.grid tbody .name")).to_have_text(["Charlie", "Bravo", "Alpha"])
    page.get_by_role("columnheader", name="ID").get_by_role("button").click()
    expect(page.locator("table.grid tbody .name").first).to_have_text("Bravo")
    expect(page.locator("table.grid tbody .name")).to_have_text(["Bravo", "Alpha", "Charlie"])

    # Column filters beside the search box, with the count of what matches.
    page.get_by_label("Email", exact=True).fill("@bravo")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 records found")).to_be_visible()
    expect(page.locator("table.grid tbody .name")).to_have_text(["Bravo"])
    page.get_by_label("Email", exact=True).fill("")
    page.get_by_label("Name", exact=True).fill("ar")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("1 records found")).to_be_visible()
    expect(page.locator("table.grid tbody .name")).to_have_text(["Charlie"])
    page.get_by_role("button", name="Reset Filter").click()
    expect(page.get_by_text("3 records found")).to_be_visible()
    expect(page.get_by_label("Name", exact=True)).to_have_value("")
    assert unlabelled_controls(page) == []

    # The HTTPS notice stays while any integration has a plain http: URL, on any page of the grid.
    grid_row(page, "Alpha").get_by_role("button", name="Delete Alpha").click()
    confirm = page.get_by_role("dialog", name="Are you sure?")
    confirm.get_by_label("Your Password").fill(console.password)
    confirm.get_by_role("button", name="OK").click()
    expect(page.get_by_text("2 records found")).to_be_visible()
    expect(page.get_by_text(HTTPS_WARNING)).to_be_hidden()
    assert console.integration(insecure["id"]) is None


def test_reset_integrations_raise_the_system_message(
    page: Any, database_url: str, server_factory: Any, tmp_path: Path
) -> None:
    declared = tmp_path / "integrations.toml"
    declared.write_text('[[integrations]]\nname = "ERP Extension"\nresources = ["Magento_Sales::sales"]\n')
    first = start_console(server_factory, database_url, INTEGRATIONS_FILE=str(declared))
    console_sign_in(page, first.base_url, first.password)
    expect(page.get_by_text(RESET_MESSAGE)).to_have_count(0)
    # Its declaration changes: the integration is re-created with status Reset.
    declared.write_text('[[integrations]]\nname = "ERP Extension"\nresources = ["Magento_Catalog::products"]\n')
    restarted = server_factory({"DATABASE_URL": database_url, "INTEGRATIONS_FILE": str(declared)})
    console_sign_in(page, restarted.base_url, first.password)
    expect(grid_row(page, "ERP Extension").locator(".col-status")).to_have_text("Reset")
    notice = page.get_by_role("region", name="System messages")
    expect(notice).to_have_text(RESET_MESSAGE)
    # Shown on every page, with a link to the grid.
    page.get_by_role("link", name="OAuth").click()
    expect(page.get_by_role("group", name="Consumer Settings")).to_be_visible()
    expect(notice).to_have_text(RESET_MESSAGE)
    notice.get_by_role("link", name="integrations").click()
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()


def test_use_system_value_stores_and_resets_a_setting(page: Any, console: Console) -> None:
    query = "{ config { oauth { lockoutTime usesSystemValue } } }"
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="OAuth").click()
    lockout = page.get_by_label("Lockout Time (seconds)")
    use_system = use_system_value(page, lockout)
    expect(use_system).to_be_checked()
    expect(lockout).to_be_disabled()
    expect(lockout).to_have_value("1800")

    use_system.uncheck()
    expect(lockout).to_be_enabled()
    lockout.fill("600")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    oauth = console.admin.data(query)["config"]["oauth"]
    assert oauth["lockoutTime"] == 600 and "lockoutTime" not in oauth["usesSystemValue"]
    assert "maxFailuresCount" in oauth["usesSystemValue"]  # untouched fields keep using the system value

    page.reload()
    expect(lockout).to_have_value("600")
    expect(use_system).not_to_be_checked()
    use_system.check()
    expect(lockout).to_have_value("1800")  # the system value is shown at once
    expect(lockout).to_be_disabled()
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    oauth = console.admin.data(query)["config"]["oauth"]
    assert oauth["lockoutTime"] == 1800 and "lockoutTime" in oauth["usesSystemValue"]


# ------------------------------------------------------------------------------------------- token exchange


@pytest.fixture
def exchange(database_url: str, tmp_path: Path) -> Iterator[tuple[Console, ThirdPartyApp]]:
    """A store that knows its own address (the popup comes back to it) and the third-party app."""
    if not (ROOT / "examples" / "third_party_app.py").exists():
        pytest.skip("examples/third_party_app.py is not in this tree")
    port = free_port()
    env = {
        "DATABASE_URL": database_url,
        "STORE_BASE_URL": f"http://127.0.0.1:{port}/",
        "ALLOW_PRIVATE_CALLBACKS": "1",  # the app listens on loopback
        "SERVER_LOG": str(tmp_path / "store.log"),
    }
    with running(ServerProcess(env, port=port)) as store, running(ThirdPartyApp(tmp_path / "third-party.json")) as app:
        yield signed_in_console(store.base_url, first_admin_password(store)), app


def create_exchange_integration(console: Console, app: ThirdPartyApp, name: str) -> dict[str, Any]:
    return console.create_integration(
        name=name,
        email="partner@example.com",
        callbackUrl=f"{app.base_url}/callback",
        identityLinkUrl=f"{app.base_url}/login",
        resourceAccess="CUSTOM",
        resources=["Magento_Catalog::products"],
    )


def test_token_exchange_activation_through_the_identity_link_popup(
    page: Any, exchange: tuple[Console, ThirdPartyApp]
) -> None:
    console, app = exchange
    created = create_exchange_integration(console, app, "Partner Shop")
    # Record how the console opens the popup.
    page.add_init_script(
        "const open = window.open; window.opened = [];"
        "window.open = (...args) => { window.opened.push(args); return open.apply(window, args); };"
    )
    console_sign_in(page, console.base_url, console.password)
    row = grid_row(page, "Partner Shop")
    expect(row.locator(".not-secure")).to_have_text("Integration not secure")
    row.get_by_role("button", name="Activate Partner Shop").click()
    dialog = page.get_by_role("dialog", name="Partner Shop")
    expect(dialog.locator('.granted-node[data-id="Magento_Catalog::products"]')).to_be_visible()
    dialog.get_by_label("Your Password").fill(console.password)
    with page.expect_popup() as opened:
        dialog.get_by_role("button", name="Allow").click()
    popup = opened.value
    expect(page.get_by_text("Integration 'Partner Shop' has been sent for activation.")).to_be_visible()
    _blank, _target, features = page.evaluate("window.opened[0]")
    assert "width=680" in features and "height=510" in features
    popup.wait_for_url(f"{app.base_url}/login?**")
    assert "oauth_consumer_key=" in popup.url and "success_call_back=" in popup.url
    # The third party's page cannot reach the console (no reverse tabnabbing) nor learn its address.
    assert popup.evaluate("window.opener") is None
    assert popup.evaluate("document.referrer") == ""

    # The admin links the account at the third party; it completes the exchange and sends the popup back.
    popup.get_by_role("button", name="Link account").click()
    popup.wait_for_event("close")
    expect(row.locator(".col-status")).to_have_text("Active")
    expect(row.get_by_role("button", name="Reauthorize Partner Shop")).to_be_visible()
    assert console.integration(created["id"])["status"] == "ACTIVE"
    # The third party now calls the API with its own (OAuth-signed) credentials.
    viewer = httpx.post(f"{app.base_url}/query", json={"query": "{ viewer { kind name } }"}, timeout=30).json()
    assert viewer["data"]["viewer"]["kind"] == "INTEGRATION"


def test_popup_blocked_alert(page: Any, exchange: tuple[Console, ThirdPartyApp]) -> None:
    console, app = exchange
    create_exchange_integration(console, app, "Blocked Partner")
    page.add_init_script("window.open = () => null;")  # as a popup blocker does
    console_sign_in(page, console.base_url, console.password)
    alerts: list[str] = []

    def on_dialog(dialog: Any) -> None:
        alerts.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    grid_row(page, "Blocked Partner").get_by_role("button", name="Activate Blocked Partner").click()
    dialog = page.get_by_role("dialog", name="Blocked Partner")
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Allow").click()
    expect(page.get_by_text("Integration 'Blocked Partner' has been sent for activation.")).to_be_visible()
    deadline = time.monotonic() + 10
    while not alerts and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert alerts == [POPUP_BLOCKED]


def test_callback_failure_is_shown_and_nothing_activates(page: Any, exchange: tuple[Console, ThirdPartyApp]) -> None:
    console, app = exchange
    created = console.create_integration(
        name="Unreachable Partner",
        callbackUrl=f"http://127.0.0.1:{free_port()}/callback",  # nothing listens there
        identityLinkUrl=f"{app.base_url}/login",
    )
    page.add_init_script("window.opened = 0; window.open = () => { window.opened += 1; return null; };")
    console_sign_in(page, console.base_url, console.password)
    grid_row(page, "Unreachable Partner").get_by_role("button", name="Activate Unreachable Partner").click()
    dialog = page.get_by_role("dialog", name="Unreachable Partner")
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Allow").click()
    expect(page.locator(".messages .message-error")).to_be_visible()
    expect(page.locator(".messages .message-error")).not_to_be_empty()
    expect(grid_row(page, "Unreachable Partner").locator(".col-status")).to_have_text("Inactive")
    assert page.evaluate("window.opened") == 0  # no identity link without delivered credentials
    assert console.integration(created["id"])["status"] == "INACTIVE"


# ------------------------------------------------------------------------------------------- configuration


def anonymous_products(console: Console) -> tuple[Any, list[str]]:
    """An anonymous catalog read: (the products connection or None, the error codes)."""
    guest = SyncGraphQLClient(console.base_url)
    body = guest.query("{ products(first: 5) { edges { node { sku } } } }")
    return body["data"]["products"], guest.error_codes(body)


def test_guest_access_switch_changes_anonymous_requests(page: Any, console: Console) -> None:
    assert anonymous_products(console) == (None, ["UNAUTHENTICATED"])
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Magento Web API").click()
    expect(page.get_by_role("group", name="Web API Security")).to_be_visible()
    expect(page.get_by_label("Allow Anonymous Guest Access")).to_have_value("0")
    expect(page.get_by_text(GUEST_NOTE)).to_be_visible()
    assert unlabelled_controls(page) == []
    # A fresh store uses the system value: the field is disabled until "Use system value" is unticked.
    expect(page.get_by_label("Allow Anonymous Guest Access")).to_be_disabled()
    page.get_by_label("Use system value").uncheck()
    page.get_by_label("Allow Anonymous Guest Access").select_option("1")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    products, codes = anonymous_products(console)
    assert products is not None and codes == []

    page.reload()
    expect(page.get_by_label("Allow Anonymous Guest Access")).to_have_value("1")
    page.get_by_label("Allow Anonymous Guest Access").select_option("0")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    assert anonymous_products(console) == (None, ["UNAUTHENTICATED"])


def test_oauth_settings_save_and_show_errors_beside_fields(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="OAuth").click()
    for group in ("Consumer Settings", "Access Token Expiration", "Authentication Locks", "Cleanup Settings"):
        expect(page.get_by_role("group", name=group)).to_be_visible()
    assert unlabelled_controls(page) == []
    expect(page.get_by_label("Admin Token Lifetime (hours)")).to_have_value("4")
    redirects = page.get_by_label("OAuth consumer credentials HTTP Post maxredirects")
    for label in (redirects, page.get_by_label("Lockout Time (seconds)")):
        use_system_value(page, label).uncheck()
    redirects.fill("99")
    page.get_by_label("Lockout Time (seconds)").fill("600")
    page.get_by_role("button", name="Save Config").click()
    redirects_row = page.locator(".field").filter(has=redirects)
    expect(redirects_row.locator(".field-error")).to_have_text("Enter a number from 0 to 10.")
    expect(redirects).to_be_focused()
    assert console.admin.data("{ config { oauth { lockoutTime } } }")["config"]["oauth"]["lockoutTime"] == 1800

    redirects.fill("2")
    bearer = page.get_by_label("Allow OAuth Access Tokens to be used as standalone Bearer tokens")
    use_system_value(page, bearer).uncheck()
    bearer.select_option("1")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    expect(redirects_row.locator(".field-error")).to_be_hidden()
    oauth = console.admin.data(
        "{ config { oauth { consumerPostMaxRedirects lockoutTime enableIntegrationAsBearer } } }"
    )
    assert oauth["config"]["oauth"] == {
        "consumerPostMaxRedirects": 2,
        "lockoutTime": 600,
        "enableIntegrationAsBearer": True,
    }


def test_private_callback_allow_list_is_one_entry_per_line(page: Any, console: Console) -> None:
    query = "{ config { oauth { privateCallbackAllowList usesSystemValue } } }"
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="OAuth").click()
    allow_list = page.get_by_label("Private callback allow-list")
    use_system = use_system_value(page, allow_list)
    expect(use_system).to_be_checked()
    expect(allow_list).to_be_disabled()
    expect(allow_list).to_have_value("")
    assert unlabelled_controls(page) == []

    use_system.uncheck()
    allow_list.fill("10.20.0.0/16\n169.254.169.254\nnot a host\n")
    page.get_by_role("button", name="Save Config").click()
    error = page.locator(".field").filter(has=allow_list).locator(".field-error")
    expect(error).to_contain_text('"169.254.169.254" covers link-local or cloud-metadata addresses')
    expect(error).to_contain_text('"not a host" is neither a host name')
    expect(allow_list).to_be_focused()
    assert console.admin.data(query)["config"]["oauth"]["privateCallbackAllowList"] == []

    allow_list.fill(" 10.20.30.40/16\n\nERP.corp.example\n")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    expect(allow_list).to_have_value("10.20.0.0/16\nerp.corp.example")
    oauth = console.admin.data(query)["config"]["oauth"]
    assert oauth["privateCallbackAllowList"] == ["10.20.0.0/16", "erp.corp.example"]
    assert "privateCallbackAllowList" not in oauth["usesSystemValue"]

    page.reload()
    expect(allow_list).to_have_value("10.20.0.0/16\nerp.corp.example")
    use_system_value(page, allow_list).check()
    expect(allow_list).to_have_value("")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    assert console.admin.data(query)["config"]["oauth"]["privateCallbackAllowList"] == []


# ------------------------------------------------------------------------------------------- layout


def test_narrow_window_and_keyboard(narrow_page: Any, console: Console) -> None:
    page = narrow_page
    console.create_integration(name="Phone Friendly", callbackUrl="http://m.example.com/cb")
    page.goto(console.admin_url)
    # Keyboard only: focus starts in Username; Tab to Password; Enter submits.
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type(console.password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    expect(grid_row(page, "Phone Friendly").locator(".col-status")).to_have_text("Inactive")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="Edit Phone Friendly").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name='Edit "Phone Friendly" Integration')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The tabs answer to the arrow keys.
    page.get_by_role("tab", name="Integration Info").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("tab", name="API")).to_be_focused()
    expect(page.get_by_label("Resource Access")).to_be_visible()


def test_console_is_same_origin_only(console: Console) -> None:
    """The HTML and the scripts come from the server itself, with the strict headers (no browser needed)."""
    index = httpx.get(console.admin_url)
    assert "frame-ancestors 'none'" in index.headers["content-security-policy"]
    script = httpx.get(f"{console.admin_url}js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "http://" not in index.text and "https://" not in index.text
