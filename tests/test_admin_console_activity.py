"""The Activity tab and the grid's "Last Used" column, in a real browser (Debian's Chromium driven by Playwright)
against a real server that counts a real integration's signed calls.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import requests

from tests import test_admin_console as shared
from tests.support.browser import console_sign_in
from tests.support.integrations import AUTHORIZE
from tests.support.oauth import signer
from tests.test_admin_console import Console, box_state, expect, grid_row, start_console, unlabelled_controls

#: The database is not what these tests are about: CI runs them once, on SQLite.
pytestmark = pytest.mark.once

browser = shared.browser
page = shared.page

INVALID_PASSWORD = "You have entered an invalid password for current user."
ACTIVITY = """query($id: ID!) { integration(id: $id) { resources activity { calls denied } } }"""
PRODUCTS = "Magento_Catalog::products"
CATEGORIES = "Magento_Catalog::categories"


@pytest.fixture
def console(database_url: str, server_factory: Any) -> Console:
    """A server whose processes write their activity counts every second."""
    return start_console(server_factory, database_url, ACTIVITY_FLUSH_SECONDS="1")


def active_integration(console: Console, name: str, resources: list[str]) -> tuple[str, dict[str, Any]]:
    """An integration made and activated through the API: its id and its four credentials."""
    created = console.create_integration(name=name, resourceAccess="CUSTOM", resources=resources)
    payload = console.admin.data(AUTHORIZE, {"id": created["id"], "currentPassword": console.password})
    return created["id"], payload["authorizeIntegration"]["credentials"]


def call(console: Console, credentials: dict[str, Any], document: str) -> dict[str, Any]:
    """A request signed as the third party signs it."""
    response = requests.post(
        f"{console.base_url}/graphql", json={"query": document}, auth=signer(credentials), timeout=30
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def counted(console: Console, integration_id: str, expected: tuple[int, int]) -> None:
    """Wait until the server has written the counts (every second here)."""
    deadline = time.monotonic() + 30
    while True:
        activity = console.admin.data(ACTIVITY, {"id": integration_id})["integration"]["activity"]
        if (activity["calls"], activity["denied"]) == expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert (activity["calls"], activity["denied"]) == expected


def test_activity_tab_shows_the_calls_and_trims_the_unused_resources(page: Any, console: Console) -> None:
    integration_id, credentials = active_integration(
        console, "Catalog Feed", ["Magento_Catalog::catalog_inventory", "Magento_Cms::page"]
    )
    active_integration(console, "Quiet Feed", ["Magento_Cms::page"])
    for _ in range(3):
        assert "errors" not in call(console, credentials, "{ products(first: 1) { totalCount } }")
    denied = call(console, credentials, "{ customers(first: 1) { totalCount } }")
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    counted(console, integration_id, (3, 1))

    console_sign_in(page, console.base_url, console.password)
    expect(grid_row(page, "Quiet Feed").locator(".col-last-used")).to_have_text("Never")
    expect(grid_row(page, "Catalog Feed").locator(".col-last-used")).not_to_have_text("Never")
    grid_row(page, "Catalog Feed").get_by_role("link", name="Edit Catalog Feed").click()
    page.get_by_role("tab", name="Activity").click()

    panel = page.get_by_role("tabpanel", name="Activity")
    expect(panel.locator(".last-used-from")).to_have_text("127.0.0.1")
    expect(panel.locator(".calls")).to_have_text("3")
    expect(panel.locator(".denied")).to_have_text("1")

    # The chart: one bar per day of the period, today's with its allowed and denied calls, drawn inline.
    chart = panel.get_by_role("img", name="Calls per day of Catalog Feed")
    expect(chart).to_be_visible()
    expect(chart.locator("g.chart-day")).to_have_count(30)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    bar = chart.locator(f'g.chart-day[data-date="{today}"]')
    expect(bar).to_have_attribute("data-calls", "3")
    expect(bar).to_have_attribute("data-denied", "1")
    heights = bar.locator("rect").evaluate_all("rects => rects.map(r => r.getBBox().height)")
    assert heights[0] > heights[1] > 0  # three allowed below one denied
    panel.get_by_label("Period").select_option("7")
    expect(chart.locator("g.chart-day")).to_have_count(7)

    # Per resource: products allowed, customers denied.
    rows = panel.get_by_role("table", name="Calls per resource").locator("tbody tr")
    expect(rows).to_have_count(2)
    products = rows.filter(has=page.locator(f'td:text-is("Products ({PRODUCTS})")'))
    expect(products.locator(".col-calls")).to_have_text("3")
    customers = rows.filter(has=page.locator('td:text-is("All Customers (Magento_Customer::manage)")'))
    expect(customers.locator(".col-denied")).to_have_text("1")

    # Unused: Categories (and what lies under them) and CMS pages; Products covers the leaf under it.
    unused = panel.get_by_role("list", name="Unused resources").locator("li")
    names = unused.evaluate_all("items => items.map(i => i.dataset.id)")
    assert CATEGORIES not in names and "Magento_Catalog::edit_category_design" in names
    assert "Magento_Cms::page" not in names and "Magento_Cms::page_delete" in names
    assert not any(n.startswith(PRODUCTS) or n == "Magento_Catalog::edit_product_design" for n in names)
    assert unlabelled_controls(page) == []

    # Trim grant asks Your Password: a wrong one stays in the dialog and changes nothing.
    panel.get_by_role("button", name="Trim grant").click()
    dialog = page.get_by_role("dialog", name="Trim grant")
    expect(dialog).to_contain_text(f"{len(names)} unused resources will no longer be granted")
    dialog.get_by_label("Your Password").fill("not my password")
    dialog.get_by_role("button", name="Trim").click()
    expect(dialog.locator(".field-error")).to_have_text(INVALID_PASSWORD)
    assert CATEGORIES in console.admin.data(ACTIVITY, {"id": integration_id})["integration"]["resources"]
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Trim").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("The grant of the integration 'Catalog Feed' has been trimmed.")).to_be_visible()
    expect(panel.get_by_text("Every granted resource was used in this period.")).to_be_visible()
    expect(panel.get_by_role("button", name="Trim grant")).to_be_disabled()

    stored = console.admin.data(ACTIVITY, {"id": integration_id})["integration"]["resources"]
    assert sorted(stored) == ["Magento_Catalog::edit_product_design", PRODUCTS]
    # The API tab shows the trimmed grant.
    page.get_by_role("tab", name="API").click()
    assert box_state(page, PRODUCTS) == "checked"
    assert box_state(page, CATEGORIES) == "unchecked"
    assert box_state(page, "Magento_Catalog::catalog_inventory") == "partial"
    assert box_state(page, "Magento_Cms::page") == "unchecked"
    # The third party keeps what it used, and only that.
    assert "errors" not in call(console, credentials, "{ products(first: 1) { totalCount } }")
    body = call(console, credentials, "{ categories(first: 1) { totalCount } }")
    assert body["errors"][0]["extensions"]["missingResources"] == [CATEGORIES]
