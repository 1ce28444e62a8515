"""Stores > Configuration > HTTP Caching in the admin console, in a real browser (Debian's Chromium driven by
Playwright) against a real server process: the saved max-age is what the next public GraphQL GET answer says.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import test_admin_console as shared
from tests.support.browser import console_sign_in
from tests.support.database import fresh_database
from tests.support.graphql import SyncGraphQLClient
from tests.support.servers import first_admin_password, running_server
from tests.test_admin_console import Console, expect, signed_in_console

#: The database is not what this test is about: CI runs it once, on SQLite.
pytestmark = pytest.mark.once

browser = shared.browser
page = shared.page


@pytest.fixture(scope="module")
def console(migrated_template: Path | None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    directory = tmp_path_factory.mktemp("console-caching")
    database_url = fresh_database(directory, migrated_template)
    with running_server({"DATABASE_URL": database_url}, directory / "server.log") as server:
        yield signed_in_console(server.base_url, first_admin_password(server))


def test_the_caching_screen_sets_the_max_age_of_public_answers(page: Any, console: Console) -> None:
    console.admin.data("mutation { setGuestAccess(allow: true) { userErrors { code } } }")
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="HTTP Caching").click()
    max_age = page.get_by_label("Max Age (seconds)")
    use_system = shared.use_system_value(page, max_age)
    expect(use_system).to_be_checked()
    expect(max_age).to_have_value("60")
    use_system.uncheck()
    max_age.fill("600")
    page.get_by_role("button", name="Save Config").click()
    expect(page.get_by_text("You saved the configuration.")).to_be_visible()

    answer = SyncGraphQLClient(console.base_url).get("{ storeConfig { locale } }")
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "public, max-age=600, stale-while-revalidate=60"
