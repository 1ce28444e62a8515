"""System > Action Logs and the sign-in history of Account Setting in a real browser (Debian's Chromium driven by
Playwright) against a real server.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests import test_admin_console as shared
from tests.support.admin_users import USER_PASSWORD, restricted_admin_on_server
from tests.support.browser import console_sign_in
from tests.support.graphql import SIGN_IN, SyncGraphQLClient
from tests.test_admin_console import Console, expect, unlabelled_controls

# The browser, a signed-in server and a page: the console tests' own fixtures.
browser = shared.browser
console = shared.console
page = shared.page

#: The database is not what these tests are about: CI runs them once, on SQLite.
pytestmark = pytest.mark.once

CHANGE = "mutation($size: Int!) { updateRateLimitConfig(input: {guestBucketSize: $size}) { userErrors { code } } }"


def rows(page: Any) -> Any:
    return page.locator("table.grid tbody tr")


def column(page: Any, name: str) -> list[str]:
    return [text.strip() for text in page.locator(f"table.grid tbody td.{name}").all_inner_texts()]


def test_action_logs_filters_by_actor_action_target_and_dates_and_pages(page: Any, console: Console) -> None:
    console.create_integration(name="Warehouse", resourceAccess="ALL")
    for n in range(22):  # more than a page
        assert console.admin.data(CHANGE, {"size": 500 + n})["updateRateLimitConfig"]["userErrors"] == []
    SyncGraphQLClient(console.base_url).query(SIGN_IN, {"u": "admin", "p": "a-wrong-guess-1"})

    console_sign_in(page, console.base_url, console.password)
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Report").click()
    expect(page.get_by_role("heading", name="Action Logs Report")).to_be_visible()
    assert unlabelled_controls(page) == []
    expect(page.locator(".records-found")).to_have_text("28 records found")
    expect(rows(page)).to_have_count(20)  # newest first: the console's own sign-in is on top
    assert column(page, "col-action")[0] == "admin.sign_in_succeeded"
    page.get_by_role("button", name="Next page").click()
    expect(page.locator(".page-number")).to_have_text("Page 2")
    expect(rows(page)).to_have_count(8)
    assert column(page, "col-action")[-1] == "admin_user.created"  # the first admin, made at the first start

    # By actor: the failed guess is a guest's.
    page.get_by_label("Actor", exact=True).select_option("GUEST")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_count(1)
    assert column(page, "col-action") == ["admin.sign_in_failed"]
    assert column(page, "col-actor") == ["Guest"]

    # By action group, and by one action; the details open in place.
    page.get_by_label("Actor", exact=True).select_option("")
    page.get_by_label("Action", exact=True).select_option("integration.")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".records-found")).to_have_text("2 records found")  # created, and its credentials shown
    assert column(page, "col-target") == ["Integration: Warehouse"] * 2
    page.get_by_label("Action", exact=True).select_option("integration.created")
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_count(1)
    row = rows(page).first
    row.get_by_text("View").click()
    expect(row.locator(".event-details pre")).to_contain_text('"resourceAccess": "ALL"')
    page.get_by_label("Action", exact=True).select_option("config.rate_limits_changed")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".records-found")).to_have_text("22 records found")

    # By target, and by dates: nothing happened tomorrow; today holds everything.
    page.get_by_label("Action", exact=True).select_option("")
    page.get_by_label("Target", exact=True).select_option("admin_user")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".records-found")).to_have_text("4 records found")  # the grid has reloaded
    assert set(column(page, "col-action")) == {"admin.sign_in_succeeded", "admin.sign_in_failed", "admin_user.created"}
    page.get_by_label("Target", exact=True).select_option("")
    today = dt.date.today()
    page.get_by_label("From", exact=True).fill((today + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("We couldn't find any records.")).to_be_visible()
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_text("The end of the range is before its start.")).to_be_visible()
    page.get_by_label("From", exact=True).fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".records-found")).to_have_text("28 records found")

    page.get_by_role("button", name="Reset Filter").click()
    expect(page.get_by_label("From", exact=True)).to_have_value("")
    expect(page.locator(".records-found")).to_have_text("28 records found")


def test_account_setting_shows_the_admins_own_sign_ins(page: Any, console: Console) -> None:
    SyncGraphQLClient(console.base_url).query(SIGN_IN, {"u": "admin", "p": "a-wrong-guess-2"})
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Account Setting").click()
    history = page.get_by_role("table", name="Sign-in history")
    expect(history).to_be_visible()
    results = history.locator("tbody td.col-result")
    expect(results).to_have_text(["Signed in", "Failed", "Signed in"])  # the console, the guess, the API fixture
    expect(history.locator("tbody td.col-browser").first).to_contain_text("Chrome")
    expect(history.locator("tbody td.col-ip").first).to_have_text("127.0.0.1")


def test_the_menu_offers_action_logs_only_with_the_resource(page: Any, console: Console) -> None:
    restricted_admin_on_server(
        console.admin, "Magento_Catalog::catalog", username="clerk", current_password=console.password
    )
    restricted_admin_on_server(
        console.admin, "Magento_Logging::magento_logging", username="auditor", current_password=console.password
    )
    for username, sees in (("clerk", False), ("auditor", True)):
        page.goto(console.admin_url)
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(USER_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Action Logs Report" if sees else "Account Setting")).to_be_visible()
        menu = page.get_by_role("navigation", name="Main menu")
        expect(menu.get_by_role("link", name="Report")).to_have_count(1 if sees else 0)
        page.get_by_role("button", name="Sign Out").click()
