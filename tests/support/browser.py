"""Driving the admin console in Debian's Chromium with Playwright (tests and the screenshot script).

Playwright is told to use the system ``chromium``; its own browser download is never used.
"""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

DESKTOP = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    return shutil.which("chromium")


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def console_sign_in(page: Any, base_url: str, password: str, username: str = "admin") -> None:
    """Sign in through the console's own form, as a person would."""
    page.goto(f"{base_url}/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Integrations", exact=True).wait_for()
