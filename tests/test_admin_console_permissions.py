"""System > Permissions and Account Setting in a real browser (Debian's Chromium driven by Playwright):
roles on the resource tree, users with a role, locked users, the admin's own password, and a menu that
shows only what the admin's role allows.

Skipped when ``chromium`` or the ``playwright`` package is missing; CI installs both.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from tests import test_admin_console as shared
from tests.support.admin_users import (
    CREATE_ROLE,
    CREATE_USER,
    GET_ROLE,
    USER_PASSWORD,
    payload_of,
    role_input,
    user_input,
)
from tests.support.browser import console_sign_in
from tests.support.graphql import SyncGraphQLClient
from tests.test_admin_console import Console, expect, grid_row, resource_box, unlabelled_controls

# The browser, a signed-in server and a page: the console tests' own fixtures.
browser = shared.browser
console = shared.console
page = shared.page
narrow_page = shared.narrow_page

#: The database is not what these tests are about: CI runs them once, on SQLite.
pytestmark = pytest.mark.once

INVALID_PASSWORD = "You have entered an invalid password for current user."
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"
SALES = "Magento_Sales::sales"


def make_role(console: Console, name: str, *resources: str) -> dict[str, Any]:
    body = console.admin.query(CREATE_ROLE, {"input": role_input(name, resources, console.password)})
    return payload_of(body, "createAdminRole", "role")


def make_user(console: Console, username: str, role_id: str) -> dict[str, Any]:
    body = console.admin.query(CREATE_USER, {"input": user_input(username, role_id, console.password)})
    return payload_of(body, "createAdminUser", "user")


def sign_in_status(console: Console, username: str, password: str) -> bool:
    """Whether ``generateAdminToken`` signs the user in (over HTTP, as any client)."""
    body = SyncGraphQLClient(console.base_url).query(SIGN_IN, {"u": username, "p": password})
    return bool(body.get("data") and body["data"]["generateAdminToken"])


def field_row(page: Any, label: str) -> Any:
    return page.locator(".field").filter(has=page.get_by_label(label, exact=True))


# ------------------------------------------------------------------------------------------- roles


def test_role_form_creates_a_sales_only_role_on_the_tree(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="User Roles").click()
    expect(page.get_by_role("heading", name="Roles", exact=True)).to_be_visible()
    expect(grid_row(page, "Administrators").locator(".col-access")).to_have_text("All")
    page.get_by_role("link", name="Add New Role").click()
    expect(page.get_by_role("heading", name="New Role")).to_be_visible()
    expect(page.get_by_role("group", name="Current User Identity Verification")).to_be_visible()
    page.get_by_label("Role Name").fill("Sales Staff")
    assert unlabelled_controls(page) == []

    page.get_by_role("tab", name="Role Resources").click()
    expect(page.get_by_label("Resource Access")).to_have_value("CUSTOM")
    resource_box(page, SALES).check()  # the whole Sales subtree
    expect(resource_box(page, "Magento_Sales::actions_view")).to_be_checked()
    expect(resource_box(page, "Magento_Catalog::products")).not_to_be_checked()

    # Your Password is asked before anything is sent.
    page.get_by_role("button", name="Save Role").click()
    expect(page.get_by_role("tab", name="Role Info")).to_have_attribute("aria-selected", "true")
    expect(field_row(page, "Your Password").locator(".field-error")).to_have_text("This is a required field.")
    expect(page.get_by_label("Your Password")).to_be_focused()
    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save Role").click()

    expect(page.get_by_text("You saved the role.")).to_be_visible()
    row = grid_row(page, "Sales Staff")
    expect(row.locator(".col-access")).to_have_text("Custom")
    expect(row.locator(".col-users")).to_have_text("0")
    roles = console.admin.data("{ adminRoles { edges { node { id name } } } }")["adminRoles"]["edges"]
    role_id = next(e["node"]["id"] for e in roles if e["node"]["name"] == "Sales Staff")
    role = console.admin.data(GET_ROLE, {"id": role_id})["adminRole"]
    assert role["resourceAccess"] == "CUSTOM"
    assert SALES in role["resources"] and "Magento_Sales::actions_view" in role["resources"]
    assert not any(r.startswith("Magento_Catalog") for r in role["resources"])

    # Editing shows the stored grant on the tree.
    row.get_by_role("link", name="Edit role Sales Staff").click()
    expect(page.get_by_role("heading", name="Edit Role 'Sales Staff'")).to_be_visible()
    page.get_by_role("tab", name="Role Resources").click()
    expect(resource_box(page, "Magento_Sales::actions_view")).to_be_checked()


def test_wrong_your_password_is_shown_beside_the_field_and_saves_nothing(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.goto(f"{console.admin_url}#/roles/new")
    page.get_by_label("Role Name").fill("Never Saved")
    page.get_by_label("Your Password").fill("not-my-password-1")
    page.get_by_role("button", name="Save Role").click()
    expect(field_row(page, "Your Password").locator(".field-error")).to_have_text(INVALID_PASSWORD)
    expect(page.get_by_label("Your Password")).to_have_value("")
    expect(page.get_by_label("Your Password")).to_be_focused()
    expect(page.get_by_role("heading", name="New Role")).to_be_visible()  # still on the form
    roles = console.admin.data("{ adminRoles { edges { node { name } } } }")["adminRoles"]["edges"]
    assert [e["node"]["name"] for e in roles] == ["Administrators"]


# ------------------------------------------------------------------------------------------- users


def test_users_grid_creates_a_user_holding_a_role(page: Any, console: Console) -> None:
    make_role(console, "Sales Staff", SALES)
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="All Users").click()
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    expect(page.get_by_text("1 records found")).to_be_visible()
    page.get_by_role("link", name="Add New User").click()
    expect(page.get_by_role("heading", name="New User")).to_be_visible()
    page.get_by_label("User Name").fill("sally")
    page.get_by_label("First Name").fill("Sally")
    page.get_by_label("Last Name").fill("Seller")
    page.get_by_label("Email", exact=True).fill("sally@example.com")
    page.get_by_label("Password", exact=True).fill(USER_PASSWORD)
    page.get_by_label("Password Confirmation").fill("something-else-1")
    page.get_by_label("Your Password").fill(console.password)
    assert unlabelled_controls(page) == []
    page.get_by_role("button", name="Save User").click()
    expect(field_row(page, "Password Confirmation").locator(".field-error")).to_have_text(
        "Please enter the same value again."
    )
    page.get_by_label("Password Confirmation").fill(USER_PASSWORD)
    page.get_by_role("button", name="Save User").click()
    # No role chosen yet: the User Role tab opens with the message.
    expect(page.get_by_role("tab", name="User Role")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("group", name="User Role")).to_contain_text("Please select a role.")
    page.get_by_label("Sales Staff").check()
    page.get_by_role("button", name="Save User").click()

    expect(page.get_by_text("You saved the user.")).to_be_visible()
    row = grid_row(page, "sally")
    expect(row.locator(".col-role")).to_have_text("Sales Staff")
    expect(row.locator(".col-status")).to_have_text("Active")
    expect(page.get_by_text("2 records found")).to_be_visible()
    # The new admin signs in and holds what the role holds.
    sally = SyncGraphQLClient(console.base_url).sign_in("sally", USER_PASSWORD)
    viewer = sally.data("{ viewer { resources role { name } } }")["viewer"]
    assert viewer["role"] == {"name": "Sales Staff"}
    assert SALES in viewer["resources"] and "Magento_Integration::integrations" not in viewer["resources"]


def test_delete_user_asks_your_password(page: Any, console: Console) -> None:
    role = make_role(console, "Sales Staff", SALES)
    make_user(console, "leaver", role["id"])
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="All Users").click()
    grid_row(page, "leaver").get_by_role("link", name="Edit user leaver").click()
    expect(page.get_by_role("heading", name="Edit User 'leaver'")).to_be_visible()
    page.get_by_role("button", name="Delete User").click()
    dialog = page.get_by_role("dialog", name="Are you sure?")
    expect(dialog).to_contain_text("Are you sure you want to do this?")
    dialog.get_by_label("Your Password").fill("wrong-password-1")
    dialog.get_by_role("button", name="OK").click()
    expect(dialog.locator(".field-error")).to_have_text(INVALID_PASSWORD)
    assert sign_in_status(console, "leaver", USER_PASSWORD)
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="OK").click()
    expect(page.get_by_text("You deleted the user.")).to_be_visible()
    expect(grid_row(page, "leaver")).to_have_count(0)
    assert not sign_in_status(console, "leaver", USER_PASSWORD)


# ------------------------------------------------------------------------------------------- locked users


def test_locked_user_is_unlocked_in_the_console(page: Any, console: Console) -> None:
    role = make_role(console, "Sales Staff", SALES)
    make_user(console, "forgetful", role["id"])
    max_failures = console.admin.data("{ config { oauth { maxFailuresCount } } }")["config"]["oauth"]
    for _ in range(max_failures["maxFailuresCount"]):
        assert not sign_in_status(console, "forgetful", "wrong-password-1")
    assert not sign_in_status(console, "forgetful", USER_PASSWORD)  # locked: even the right password fails

    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Locked Users").click()
    expect(page.get_by_role("heading", name="Locked Users")).to_be_visible()
    row = page.locator("table.grid tbody tr").filter(has=page.locator(".name", has_text="forgetful"))
    (lock,) = console.admin.data("{ lockedAdminUsers { failuresCount } }")["lockedAdminUsers"]
    assert lock["failuresCount"] >= max_failures["maxFailuresCount"]
    expect(row.locator(".col-failures")).to_have_text(str(lock["failuresCount"]))
    row.get_by_role("button", name="Unlock forgetful").click()
    expect(page.get_by_text("Unlocked 1 user(s).")).to_be_visible()
    expect(page.locator("table.grid tbody")).to_have_text("We couldn't find any records.")
    assert sign_in_status(console, "forgetful", USER_PASSWORD)


# ------------------------------------------------------------------------------------------- account


def test_account_setting_changes_the_own_password(page: Any, console: Console) -> None:
    new_password = "new-password-42"
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Account Setting").click()
    expect(page.get_by_role("heading", name="Account Setting")).to_be_visible()
    expect(page.get_by_label("User Name")).to_have_value("admin")
    assert unlabelled_controls(page) == []
    page.get_by_label("New Password").fill(new_password)
    page.get_by_label("Password Confirmation").fill(new_password)
    page.get_by_label("Your Password").fill("not-my-password-1")
    page.get_by_role("button", name="Save Account").click()
    expect(field_row(page, "Your Password").locator(".field-error")).to_have_text(INVALID_PASSWORD)
    assert sign_in_status(console, "admin", console.password)  # nothing changed

    page.get_by_label("Your Password").fill(console.password)
    page.get_by_role("button", name="Save Account").click()
    expect(page.get_by_text("You saved the account.")).to_be_visible()
    expect(page.get_by_label("New Password")).to_have_value("")
    assert sign_in_status(console, "admin", new_password)
    assert not sign_in_status(console, "admin", console.password)
    # The tab's own session goes on.
    page.get_by_role("link", name="Integrations", exact=True).click()
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()


def test_two_factor_set_up_then_sign_in_with_a_code(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Account Setting").click()
    expect(page.get_by_text("Two-factor sign-in is off.")).to_be_visible()
    page.get_by_role("button", name="Set Up Two-Factor Sign-In").click()
    dialog = page.get_by_role("dialog", name="Two-Factor Sign-In")
    dialog.get_by_label("Your Password").fill("not-my-password-1")
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog.locator(".field-error")).to_have_text(INVALID_PASSWORD)
    dialog.get_by_label("Your Password").fill(console.password)
    dialog.get_by_role("button", name="Continue").click()
    expect(dialog).to_have_count(0)

    # The secret and the otpauth address are shown as text, for an authenticator app.
    secret = page.get_by_label("Secret Key").input_value()
    uri = page.get_by_label("Authenticator Address (otpauth)").input_value()
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    assert unlabelled_controls(page) == []
    authenticator = pyotp.TOTP(secret)
    page.get_by_label("Verification Code").fill(authenticator.at(time.time() - 3600))  # an hour old
    page.get_by_role("button", name="Confirm").click()
    code_row = field_row(page, "Verification Code")
    expect(code_row.locator(".field-error")).to_be_visible()
    page.get_by_label("Verification Code").fill(authenticator.now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("Two-factor sign-in is on.").first).to_be_visible()
    expect(page.get_by_role("button", name="Set Up Two-Factor Sign-In")).to_be_hidden()

    # From now on the password alone does not sign in; the console's form takes the next code.
    assert not sign_in_status(console, "admin", console.password)
    page.get_by_role("button", name="Sign Out").click()
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(console.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()  # no code: refused like a wrong password
    page.get_by_label("Password").fill(console.password)
    page.get_by_label("Verification Code").fill(authenticator.at(time.time() + 30))  # a code not used yet
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()


def test_integration_form_wrong_your_password_saves_nothing(page: Any, console: Console) -> None:
    console_sign_in(page, console.base_url, console.password)
    page.get_by_role("link", name="Add New Integration").click()
    page.get_by_label("Name", exact=True).fill("Never Saved")
    expect(page.get_by_role("group", name="Current User Identity Verification")).to_be_visible()
    page.get_by_label("Your Password").fill("not-my-password-1")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(field_row(page, "Your Password").locator(".field-error")).to_have_text(INVALID_PASSWORD)
    expect(page.get_by_role("heading", name="New Integration")).to_be_visible()
    assert console.admin.data("{ integrations { totalCount } }")["integrations"]["totalCount"] == 0


# ------------------------------------------------------------------------------------------- menu


def test_menu_shows_only_what_the_role_allows(page: Any, console: Console) -> None:
    role = make_role(console, "Sales Staff", SALES)
    make_user(console, "sally", role["id"])
    page.goto(console.admin_url)
    page.get_by_label("Username").fill("sally")
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    # Nothing of the menu is allowed: the admin lands on Account Setting.
    expect(page.get_by_role("heading", name="Account Setting")).to_be_visible()
    menu = page.get_by_role("navigation", name="Main menu")
    for entry in ("Integrations", "All Users", "User Roles", "Locked Users", "Magento Web API", "OAuth"):
        expect(menu.get_by_role("link", name=entry, exact=True)).to_have_count(0)
    expect(menu.get_by_text("Permissions")).to_have_count(0)
    # A page the role does not allow is not opened by its address either.
    page.goto(f"{console.admin_url}#/integrations")
    expect(page.get_by_role("heading", name="Account Setting")).to_be_visible()
    assert "#/account" in page.url

    # A role with Integrations and Locked Users sees those, and no other Permissions entry.
    partial = make_role(console, "Integrators", "Magento_Integration::integrations", "Magento_User::locks")
    make_user(console, "ivan", partial["id"])
    page.get_by_role("button", name="Sign Out").click()
    page.get_by_label("Username").fill("ivan")
    page.get_by_label("Password").fill(USER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Integrations", exact=True)).to_be_visible()
    expect(menu.get_by_role("link", name="Locked Users")).to_be_visible()
    for entry in ("All Users", "User Roles", "Magento Web API", "OAuth"):
        expect(menu.get_by_role("link", name=entry, exact=True)).to_have_count(0)


def test_permissions_screens_fit_a_narrow_window(narrow_page: Any, console: Console) -> None:
    page = narrow_page
    make_role(console, "Sales Staff", SALES)
    console_sign_in(page, console.base_url, console.password)
    for link, heading in (("All Users", "Users"), ("User Roles", "Roles"), ("Locked Users", "Locked Users")):
        page.get_by_role("link", name=link).click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), link
    page.goto(f"{console.admin_url}#/users/new")
    expect(page.get_by_role("heading", name="New User")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The tabs answer to the arrow keys; the role choice is a labelled radio group.
    page.get_by_role("tab", name="User Info").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("tab", name="User Role")).to_be_focused()
    expect(page.get_by_label("Sales Staff")).to_be_visible()
    page.get_by_role("link", name="Account Setting").click()
    expect(page.get_by_role("heading", name="Account Setting")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
