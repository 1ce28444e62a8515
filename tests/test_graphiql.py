"""GraphiQL in a real browser (Debian's Chromium driven by Playwright), offline: every file comes from the server,
signing in never puts the password in a URL, and neither the password nor the token is kept in localStorage.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.support.browser import chromium_path, launch
from tests.support.servers import first_admin_password

pytestmark = pytest.mark.once  # the database is not the subject

if chromium_path() is None:
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

SCROLL_LOCK_STYLE = "Applying inline style violates the following Content Security Policy directive 'style-src 'self''"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def test_graphiql_works_offline_and_keeps_the_password_and_token_out_of_urls_and_storage(
    browser: Any, server_factory: Any, database_url: str
) -> None:
    # Only admins may read the schema: GraphiQL fetches it again once signed in.
    server = server_factory({"DATABASE_URL": database_url, "INTROSPECTION": "admins"})
    password = first_admin_password(server)
    page = browser.new_page()
    requested: list[str] = []
    refused: list[str] = []
    problems: list[str] = []

    def offline(route: Any) -> None:
        """Only this machine answers: anything else (a CDN) is refused, as on a machine without a network."""
        url = route.request.url
        requested.append(url)
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith("data:"):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    page.route("**/*", offline)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    page.goto(f"{server.base_url}/graphql")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as admin")).to_be_visible()
    page.get_by_role("button", name="Show Documentation Explorer").click()
    expect(page.locator(".graphiql-doc-explorer")).to_contain_text("Query")

    # The example operations GraphiQL opens with are named: the Run button offers each of them.
    page.locator(".graphiql-execute-button").click()
    page.get_by_role("menuitem", name="Viewer").click()
    expect(page.locator(".graphiql-response")).to_contain_text('"kind": "ADMIN"')

    assert refused == [], refused  # nothing needed from outside this server
    assert not [url for url in requested if password in url or "password" in url.lower()]
    assert password not in page.url
    local_storage = page.evaluate("JSON.stringify(Object.entries(localStorage))")
    token = page.evaluate("sessionStorage.getItem('integrations-admin-token')")
    assert token and token not in local_storage and password not in local_storage
    # No script error and no CSP violation on the way, but one: the <style> element that GraphiQL's menus add
    # to lock the page's scrolling (react-remove-scroll) is refused by style-src 'self'. The page does not
    # scroll anyway, and the policy stays strict.
    assert [p for p in problems if not p.startswith(SCROLL_LOCK_STYLE)] == [], problems

    # The token in sessionStorage is the one the queries were made with: signing out revokes it.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_have_text("Signed out.")
    expect(page.get_by_label("Password")).to_be_visible()
    bearer = {"Authorization": f"Bearer {token}"}
    revoked = httpx.post(f"{server.base_url}/graphql", json={"query": "{ viewer { kind } }"}, headers=bearer)
    assert revoked.status_code == 401
    page.close()


def test_graphiql_page_is_served_with_a_strict_policy_and_no_cdn(server_factory: Any, database_url: str) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    page = httpx.get(f"{server.base_url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text and "https://" not in page.text
    for asset in ("boot.js", "page.css", "vendor/graphiql.min.js", "vendor/react.production.min.js"):
        assert httpx.get(f"{server.base_url}/graphiql/{asset}").status_code == 200, asset
