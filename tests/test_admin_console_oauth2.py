"""OAuth 2.0 client credentials, secret rotation and rate limits in the admin console, in a real browser
(Debian's Chromium driven by Playwright) against one real server process for the module.

What the console shows is checked by using it: the client id and secret from the tokens dialog obtain tokens at
the token endpoint it names, and after a rotation both secrets do until the overlap ends.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import test_admin_console as shared
from tests.support.browser import console_sign_in
from tests.support.database import fresh_database
from tests.support.integrations import AUTHORIZE
from tests.support.servers import first_admin_password, running_server
from tests.test_admin_console import Console, expect, grid_row, signed_in_console, unlabelled_controls

#: The database is not what these tests are about: CI runs them once, on SQLite.
pytestmark = pytest.mark.once

browser = shared.browser
page = shared.page

AUTH_REQUIRED = "Choose at least one authentication method."
INVALID_PASSWORD = "You have entered an invalid password for current user."
OAUTH2 = "OAuth 2.0 client credentials"
AUTH_FIELDS = "authMethods secretRotatedAt previousSecretExpiresAt rateLimitBucketSize rateLimitRestoreRate"
DETAILS = f"""query($id: ID!) {{ integration(id: $id) {{ id status {AUTH_FIELDS}
  credentials {{ consumerKey consumerSecret accessToken }} }} }}"""
BY_NAME = "query($name: String!) { integrations(first: 5, name: $name) { edges { node { id name } } } }"


@pytest.fixture(scope="module")
def console(migrated_template: Path | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """One server for the module (each test makes integrations of its own)."""
    directory = tmp_path_factory.mktemp("console-oauth2")
    database_url = fresh_database(directory, migrated_template)
    with running_server({"DATABASE_URL": database_url}, directory / "server.log") as server:
        yield signed_in_console(server.base_url, first_admin_password(server))


def details(console: Console, integration_id: str) -> dict[str, Any]:
    found = console.admin.data(DETAILS, {"id": integration_id})["integration"]
    assert found is not None
    return found


def named(console: Console, name: str) -> list[dict[str, Any]]:
    return [edge["node"] for edge in console.admin.data(BY_NAME, {"name": name})["integrations"]["edges"]]


def fetch_token(console: Console, client_id: str, client_secret: str) -> httpx.Response:
    """``POST /oauth2/token`` as a third party would (client_secret_basic)."""
    return httpx.post(
        f"{console.base_url}/oauth2/token",
        auth=(client_id, client_secret),
        data={"grant_type": "client_credentials"},
        timeout=30,
    )


def viewer_kind(console: Console, access_token: str) -> str:
    response = httpx.post(
        f"{console.base_url}/graphql",
        json={"query": "{ viewer { kind } }"},
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["viewer"]["kind"])


def auth_error(page: Any) -> Any:
    return page.locator(".auth-methods .field-error")


def test_oauth2_only_integration_from_the_form_shows_credentials_that_obtain_tokens(
    page: Any, console: Console
) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Add New Integration").click()
    oauth1 = page.get_by_label("OAuth 1.0a (Magento)")
    oauth2 = page.get_by_label(OAUTH2)
    expect(oauth1).to_be_checked()  # Magento's method is the default
    expect(oauth2).not_to_be_checked()
    assert unlabelled_controls(page) == []
    page.get_by_label("Name", exact=True).fill("Token Client")
    page.get_by_label("Your Password").fill(console.password)

    # No method at all is refused at the field, before anything is sent.
    oauth1.uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(auth_error(page)).to_have_text(AUTH_REQUIRED)
    expect(oauth1).to_be_focused()
    assert named(console, "Token Client") == []

    oauth2.check()
    page.get_by_role("tab", name="API").click()
    page.get_by_label("Resource Access").select_option("ALL")
    page.get_by_role("button", name="Save & Activate").click()
    page.get_by_role("dialog", name="Token Client").get_by_role("button", name="Allow").click()

    tokens = page.get_by_role("dialog", name="Integration Tokens for Extensions")
    expect(tokens.get_by_role("heading", name=OAUTH2)).to_be_visible()
    expect(tokens.get_by_label("Access Token", exact=True)).to_have_count(0)  # no OAuth 1.0a token
    client_id = tokens.get_by_label("Client ID").input_value()
    client_secret = tokens.get_by_label("Client Secret").input_value()
    token_endpoint = tokens.get_by_label("Token Endpoint").input_value()
    assert token_endpoint == f"{console.base_url}/oauth2/token"
    tokens.get_by_role("button", name="Done").click()
    expect(grid_row(page, "Token Client").locator(".col-status")).to_have_text("Active")

    (created,) = named(console, "Token Client")
    stored = details(console, created["id"])
    assert stored["authMethods"] == ["OAUTH2_CLIENT_CREDENTIALS"] and stored["status"] == "ACTIVE"
    assert stored["credentials"]["consumerKey"] == client_id

    # The values shown are the ones that work.
    issued = httpx.post(
        token_endpoint, auth=(client_id, client_secret), data={"grant_type": "client_credentials"}, timeout=30
    )
    assert issued.status_code == 200, issued.text
    assert issued.json()["token_type"] == "Bearer"
    assert viewer_kind(console, issued.json()["access_token"]) == "INTEGRATION"

    # The edit page shows the same client credentials and keeps the method ticked.
    grid_row(page, "Token Client").get_by_role("link", name="Edit Token Client").click()
    expect(page.get_by_label(OAUTH2)).to_be_checked()
    expect(page.get_by_label("OAuth 1.0a (Magento)")).not_to_be_checked()
    expect(page.get_by_label("Client Secret")).to_have_value(client_secret)
    expect(page.get_by_label("Token Endpoint")).to_have_value(token_endpoint)


def test_rotate_secret_shows_the_new_one_once_and_both_work_during_the_overlap(page: Any, console: Console) -> None:
    created = console.create_integration(name="Rotating App", authMethods=["OAUTH1", "OAUTH2_CLIENT_CREDENTIALS"])
    console_sign_in(page, console.base_url, console.password)
    grid_row(page, "Rotating App").get_by_role("link", name="Edit Rotating App").click()
    expect(page.get_by_role("heading", name='Edit "Rotating App" Integration')).to_be_visible()
    expect(page.get_by_role("button", name="Rotate secret")).to_have_count(0)  # not active yet

    activated = console.admin.query(AUTHORIZE, {"id": created["id"], "currentPassword": console.password})
    assert activated["data"]["authorizeIntegration"]["userErrors"] == []
    old = details(console, created["id"])["credentials"]
    page.reload()
    expect(page.get_by_role("heading", name="OAuth 1.0a (Magento)")).to_be_visible()  # both methods: both groups
    expect(page.get_by_label("Access Token", exact=True)).to_have_value(old["accessToken"])
    expect(page.get_by_text("Previous secret valid until")).to_have_count(0)
    page.get_by_role("button", name="Rotate secret").click()

    dialog = page.get_by_role("dialog", name="Rotate Secret")
    overlap = dialog.get_by_label("Overlap (hours)")
    expect(overlap).to_have_value("24")
    overlap.fill("721")  # over 30 days
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Rotate").click()
    expect(dialog.locator(".field").filter(has=page.get_by_label("Overlap (hours)"))).to_contain_text("from 0 to 720")
    overlap.fill("2")
    dialog.get_by_label("Your Password").fill("not-my-password")
    dialog.get_by_role("button", name="Rotate").click()
    expect(dialog).to_contain_text(INVALID_PASSWORD)
    assert details(console, created["id"])["credentials"]["consumerSecret"] == old["consumerSecret"]

    dialog.get_by_label("Your Password").fill(console.password)
    before = dt.datetime.now(dt.UTC)
    dialog.get_by_role("button", name="Rotate").click()
    shown = page.get_by_role("dialog", name="New Secret")
    new_secret = shown.get_by_label("Client Secret").input_value()
    assert shown.get_by_label("Consumer Secret").input_value() == new_secret
    assert shown.get_by_label("Client ID").input_value() == old["consumerKey"]
    expect(shown.get_by_label("Access Token", exact=True)).to_have_count(0)  # unchanged, not shown again
    assert new_secret and new_secret != old["consumerSecret"]
    shown.get_by_role("button", name="Done").click()
    expect(shown).to_have_count(0)

    expect(page.get_by_text("Previous secret valid until")).to_be_visible()
    expect(page.get_by_label("Client Secret")).to_have_value(new_secret)
    stored = details(console, created["id"])
    assert stored["credentials"]["consumerSecret"] == new_secret
    assert stored["credentials"]["accessToken"] == old["accessToken"]
    expires = dt.datetime.fromisoformat(stored["previousSecretExpiresAt"])
    assert dt.timedelta(hours=2) - dt.timedelta(minutes=1) < expires - before < dt.timedelta(hours=2, minutes=1)

    # During the overlap both secrets obtain tokens; a made-up one does not.
    for secret in (old["consumerSecret"], new_secret):
        issued = fetch_token(console, old["consumerKey"], secret)
        assert issued.status_code == 200, issued.text
        assert viewer_kind(console, issued.json()["access_token"]) == "INTEGRATION"
    assert fetch_token(console, old["consumerKey"], "x" * 32).status_code == 401


def test_rate_limits_screen_and_integration_override_save(page: Any, console: Console) -> None:
    created = console.create_integration(name="Busy Feed")
    console_sign_in(page, console.base_url, console.password)

    # Stores > Configuration > Rate Limits
    page.get_by_role("link", name="Rate Limits").click()
    bucket = page.get_by_label("Integration Bucket Size")
    use_system = shared.use_system_value(page, bucket)
    expect(use_system).to_be_checked()
    use_system.uncheck()
    bucket.fill("5000")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()
    limits = console.admin.data("{ config { rateLimits { integrationBucketSize usesSystemValue } } }")
    assert limits["config"]["rateLimits"]["integrationBucketSize"] == 5000
    assert "integrationBucketSize" not in limits["config"]["rateLimits"]["usesSystemValue"]

    # The integration's own bucket: a bad value comes back from the server beside its field.
    page.goto(f"{console.admin_url}#/integrations")
    grid_row(page, "Busy Feed").get_by_role("link", name="Edit Busy Feed").click()
    size = page.get_by_label("Bucket Size (points)")
    rate = page.get_by_label("Restore Rate (points per second)")
    expect(size).to_have_value("")
    size.fill("lots")
    rate.fill("100")
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".field").filter(has=size).locator(".field-error")).to_be_visible()
    assert details(console, created["id"])["rateLimitBucketSize"] is None

    size.fill("3000")
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The integration 'Busy Feed' has been saved.")).to_be_visible()
    stored = details(console, created["id"])
    assert (stored["rateLimitBucketSize"], stored["rateLimitRestoreRate"]) == (3000, 100)
    assert stored["authMethods"] == ["OAUTH1"]  # untouched

    # Emptied again: back to the store's setting.
    grid_row(page, "Busy Feed").get_by_role("link", name="Edit Busy Feed").click()
    expect(size).to_have_value("3000")
    size.fill("")
    rate.fill("")
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("The integration 'Busy Feed' has been saved.")).to_be_visible()
    stored = details(console, created["id"])
    assert (stored["rateLimitBucketSize"], stored["rateLimitRestoreRate"]) == (None, None)
