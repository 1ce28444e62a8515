"""The Webhooks tab of the integration page, in a real browser against a real server and a real receiver:
add a subscription (its secret shown once), send a test delivery, see the delivery log, retry a delivery,
an error beside its field, rotate the secret, and a subscription disabled after failures shown as such.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import DESKTOP, chromium_path, console_sign_in, launch
from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import AUTHORIZE, create_on_server
from tests.support.servers import first_admin_password
from tests.support.webhooks import UPDATE_PRODUCT, UPDATE_WEBHOOK_CONFIG, Receiver, receiving

pytestmark = pytest.mark.once

if chromium_path() is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

DOCUMENT = "subscription { event { type ... on ProductUpdated { product { sku price } } } }"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def page() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport=DESKTOP)
        context.set_default_timeout(15_000)
        opened = context.new_page()
        problems: list[str] = []
        opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        opened.on(
            "console",
            lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text else None,
        )
        yield opened
        browser.close()
        assert not problems, problems


def test_webhooks_tab(page: Any, database_url: str, server_factory: Any, receiver: Receiver) -> None:
    server = server_factory({"DATABASE_URL": database_url, "ALLOW_PRIVATE_CALLBACKS": "1"})
    password = first_admin_password(server)
    admin = SyncGraphQLClient(server.base_url).sign_in("admin", password)
    integration = create_on_server(
        admin, password, name="ERP", resourceAccess="CUSTOM", resources=["Magento_Catalog::products"]
    )
    assert admin.data(AUTHORIZE, {"id": integration["id"], "currentPassword": password})["authorizeIntegration"]
    product = admin.data('mutation { createProduct(input: {sku: "w-1", name: "W", price: 5}) { product { id } } }')[
        "createProduct"
    ]["product"]

    console_sign_in(page, server.base_url, password)
    page.locator("table.grid tbody tr").filter(has_text="ERP").get_by_role("link", name="Edit ERP").click()
    page.get_by_role("tab", name="Webhooks").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()

    # Add: a selection beyond the grant is refused beside the field; then a good one is saved.
    page.get_by_role("button", name="Add Webhook").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("PRODUCT_UPDATED", exact=False).check()
    dialog.get_by_label("Target URL").fill(receiver.url)
    dialog.get_by_label("Selection").fill(
        "subscription { event { ... on ProductUpdated { product { sku categories { name } } } } }"
    )
    dialog.get_by_label("Your Password").fill(password)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_text("Magento_Catalog::categories", exact=False)).to_be_visible()
    dialog.get_by_label("Selection").fill(DOCUMENT)
    dialog.get_by_role("button", name="Save").click()
    secret_dialog = page.get_by_role("dialog", name="Signing Secret")
    secret = secret_dialog.get_by_label("Secret").input_value()
    assert secret.startswith("whsec_")
    secret_dialog.get_by_role("button", name="Done").click()
    row = page.locator("table.webhooks tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator(".events")).to_have_text("PRODUCT_UPDATED")
    expect(row.locator(".status")).to_contain_text("Active")

    # A test delivery, and a real one: both in the log, verified by the receiver with the secret shown.
    row.get_by_role("button", name="Send test").click()
    expect(page.get_by_text("A test delivery is on its way", exact=False)).to_be_visible()
    admin.data(UPDATE_PRODUCT, {"input": {"id": product["id"], "price": 6}})
    requests = receiver.wait_for(2)
    assert {r.verified(secret)["type"] for r in requests} == {"webhook.test", "product.updated"}
    log = page.locator("table.deliveries tbody tr")
    page.get_by_role("button", name="Refresh").click()
    expect(log).to_have_count(2)
    expect(log.first).to_have_attribute("data-status", "DELIVERED")

    # Retry the delivered product update: sent again with the same webhook-id.
    log.filter(has_text="PRODUCT_UPDATED").get_by_role("button", name="Retry").click()
    expect(page.get_by_text("The delivery will be sent again now.")).to_be_visible()
    again = receiver.wait_for(3)[2]
    first = next(r for r in requests if r.verified(secret)["type"] == "product.updated")
    assert again.webhook_id == first.webhook_id

    # Rotate: the new secret is shown once; the list reloads.
    row.get_by_role("button", name="Rotate secret").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Overlap (hours)").fill("0")
    dialog.get_by_label("Your Password").fill(password)
    dialog.get_by_role("button", name="Rotate").click()
    new_dialog = page.get_by_role("dialog", name="New Signing Secret")
    new_secret = new_dialog.get_by_label("Secret").input_value()
    assert new_secret.startswith("whsec_") and new_secret != secret
    new_dialog.get_by_role("button", name="Done").click()

    # Disabled after failures: shown with its reason.
    admin.data(UPDATE_WEBHOOK_CONFIG, {"input": {"disableAfterFailures": 1}})
    receiver.statuses = [500]
    admin.data(UPDATE_PRODUCT, {"input": {"id": product["id"], "price": 7}})
    receiver.wait_for(4)
    page.reload()
    page.get_by_role("tab", name="Webhooks").click()
    expect(page.locator("table.webhooks .status")).to_contain_text("Disabled after 1 failed delivery attempts")

    # Delete, with Your Password.
    page.locator("table.webhooks tbody tr").get_by_role("button", name="Delete").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Your Password").fill(password)
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()
