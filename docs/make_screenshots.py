"""Re-make the admin console screenshots in docs/ (a real server on a scratch SQLite database, Chromium).

    python docs/make_screenshots.py

Needs the ``test`` extra (playwright) and Debian's ``chromium``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.support.browser import DESKTOP, console_sign_in, launch  # noqa: E402
from tests.support.graphql import SyncGraphQLClient  # noqa: E402
from tests.support.integrations import create_on_server  # noqa: E402
from tests.support.servers import ServerProcess, first_admin_password  # noqa: E402

DOCS = ROOT / "docs"


def seed(admin: SyncGraphQLClient, password: str) -> dict[str, str]:
    """Integrations to show, created by the first admin (``password`` is its Your Password)."""
    ids = {}
    ids["erp"] = create_on_server(
        admin,
        password,
        name="ERP Connector",
        email="integrations@erp.example.com",
        callbackUrl="https://erp.example.com/magento/callback",
        identityLinkUrl="https://erp.example.com/magento/link",
        resourceAccess="CUSTOM",
        resources=["Magento_Sales::sales_operation", "Magento_Catalog::catalog_inventory"],
    )["id"]
    ids["reports"] = create_on_server(
        admin, password, name="Nightly Reports", email="reports@example.com", resourceAccess="ALL"
    )["id"]
    ids["legacy"] = create_on_server(
        admin,
        password,
        name="Legacy Feed",
        callbackUrl="http://feeds.example.net/credentials",
        resourceAccess="CUSTOM",
        resources=["Magento_Catalog::products"],
    )["id"]
    ids["shipping"] = create_on_server(
        admin,
        password,
        name="Shipping Labels",
        email="ops@shiplabels.example.org",
        resourceAccess="CUSTOM",
        resources=["Magento_Sales::shipment", "Magento_Customer::manage"],
    )["id"]
    admin.data(
        "mutation($id: ID!, $p: String) { authorizeIntegration(id: $id, currentPassword: $p) "
        "{ userErrors { message } } }",
        {"id": ids["reports"], "p": password},
    )
    return ids


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        server = ServerProcess(
            {"DATABASE_URL": f"sqlite://{scratch}/db.sqlite3", "SERVER_LOG": f"{scratch}/server.log"}
        )
        try:
            server.wait_ready()
            password = first_admin_password(server)
            seed(SyncGraphQLClient(server.base_url).sign_in("admin", password), password)
            with sync_playwright() as playwright:
                browser = launch(playwright)
                page = browser.new_page(viewport=DESKTOP)
                console_sign_in(page, server.base_url, password)
                page.locator("table.grid tbody tr").first.wait_for()
                page.screenshot(path=DOCS / "admin-console-grid.png")

                page.get_by_role("link", name="Edit ERP Connector").click()
                page.get_by_role("tab", name="API").click()
                page.get_by_role("button", name="Collapse all").click()
                for node in ("Magento_Sales::sales", "Magento_Catalog::catalog", "Magento_Customer::customer"):
                    page.locator(f'li[data-id="{node}"] > .tree-row .tree-toggle').click()
                page.locator('input[data-id="Magento_Customer::online"]').check()
                page.screenshot(path=DOCS / "admin-console-tree.png")

                page.get_by_role("link", name="Back").click()
                page.get_by_role("button", name="Activate Shipping Labels").click()
                permissions = page.get_by_role("dialog", name="Shipping Labels")
                permissions.get_by_label("Your Password").fill(password)
                permissions.get_by_role("button", name="Allow").click()
                tokens = page.get_by_role("dialog", name="Integration Tokens for Extensions")
                tokens.wait_for()
                page.screenshot(path=DOCS / "admin-console-tokens.png")
                tokens.get_by_role("button", name="Done").click()

                page.get_by_role("link", name="Magento Web API").click()
                page.get_by_label("Allow Anonymous Guest Access").wait_for()
                page.screenshot(path=DOCS / "admin-console-web-api-security.png")

                narrow = browser.new_page(viewport={"width": 390, "height": 844})
                console_sign_in(narrow, server.base_url, password)
                narrow.locator("table.grid tbody tr").first.wait_for()
                narrow.screenshot(path=DOCS / "admin-console-narrow.png")
                browser.close()
        finally:
            server.stop()
    for name in sorted(DOCS.glob("admin-console-*.png")):
        print(name.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
