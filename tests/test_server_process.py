"""Real server processes on loopback ports, and the command line."""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import httpx

from auth.passwords import generate_password, password_rule_problems
from tests.support.graphql import SyncGraphQLClient
from tests.support.servers import first_admin_password, first_password_file, run_cli

VIEWER = "{ viewer { kind } }"
GUEST_PRODUCTS = "{ products(first: 1) { pageInfo { hasNextPage } } }"


def guest_reads_products(base_url: str) -> bool:
    """Whether a guest is let through to a guest-eligible field (Allow Anonymous Guest Access)."""
    return SyncGraphQLClient(base_url).query(GUEST_PRODUCTS)["data"]["products"] is not None


def test_first_start_creates_admin_and_prints_password_once(database_url: str, server_factory: Any) -> None:
    server = server_factory({"DATABASE_URL": database_url})
    password = first_admin_password(server)
    # A service's output ends up in logs: the password is only in a file this user alone may read.
    assert password not in server.output()
    assert stat.S_IMODE(first_password_file(server).stat().st_mode) == 0o600
    assert password_rule_problems(password) == []  # one the admin could have chosen: 7+ chars, letters and digits
    admin = SyncGraphQLClient(server.base_url).sign_in("admin", password)
    assert admin.query(VIEWER)["data"]["viewer"]["kind"] == "ADMIN"
    assert httpx.get(f"{server.base_url}/healthz").json() == {"status": "ok"}
    graphiql = httpx.get(f"{server.base_url}/graphql", headers={"Accept": "text/html"})
    assert graphiql.status_code == 200 and "graphiql" in graphiql.text.lower()
    server.stop()
    again = server_factory({"DATABASE_URL": database_url})
    assert "Created the first admin account" not in again.output()


def test_generated_first_passwords_always_meet_the_password_rule() -> None:
    # One random 16-character string in fifteen has no digit; drawn 300 times, such a one would show up.
    passwords = {generate_password() for _ in range(300)}
    assert len(passwords) == 300
    assert all(password_rule_problems(p) == [] for p in passwords)


def test_config_change_is_seen_by_another_server_on_the_same_database(database_url: str, server_factory: Any) -> None:
    created = run_cli(
        "create-admin", "--username", "root", "--password", "long-enough-pw-1", env={"DATABASE_URL": database_url}
    )
    assert created.returncode == 0, created.stderr
    first = server_factory({"DATABASE_URL": database_url})
    second = server_factory({"DATABASE_URL": database_url})
    admin = SyncGraphQLClient(first.base_url).sign_in("root", "long-enough-pw-1")
    assert guest_reads_products(second.base_url) is False
    body = admin.query("mutation { setGuestAccess(allow: true) { webApiSecurity { allowAnonymousGuestAccess } } }")
    assert body["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is True
    assert guest_reads_products(second.base_url) is True
    # A token issued by one process is honoured by the other.
    assert admin.at(second.base_url).query(VIEWER)["data"]["viewer"]["kind"] == "ADMIN"


def test_export_schema_prints_sdl_with_directives(tmp_path: Path) -> None:
    result = run_cli("export-schema", env={"DATABASE_URL": f"sqlite://{tmp_path / 'x.db'}"})
    assert result.returncode == 0, result.stderr
    assert "directive @requiresResource(id: String!) repeatable on FIELD_DEFINITION" in result.stdout
    assert re.search(r"^\s+viewer: Viewer! @public$", result.stdout, re.M)
    assert "generateAdminToken(" in result.stdout


def test_migrate_and_create_admin_commands(database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    assert run_cli("migrate", env=env).returncode == 0
    assert run_cli("migrate", env=env).returncode == 0
    assert run_cli("create-admin", "--username", "ops", "--password", "short", env=env).returncode == 2
    letters_only = run_cli("create-admin", "--username", "ops", "--password", "long-enough-pw", env=env)
    assert letters_only.returncode == 2  # Magento's rule, the same as the API's
    assert letters_only.stderr.strip() == "Your password must include both numeric and alphabetic characters."
    from_env = {**env, "ADMIN_PASSWORD": "long-enough-pw-1"}
    assert run_cli("create-admin", "--username", "ops", env=from_env).returncode == 0
    duplicate = run_cli("create-admin", "--username", "ops", "--password", "long-enough-pw-1", env=env)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    assert run_cli("create-admin", "--username", "x", env=env).returncode == 2


def test_a_malformed_setting_is_named_and_ends_the_command() -> None:
    result = run_cli("export-schema", env={"MAX_ALIASES": "abc"})
    assert result.returncode == 1
    assert result.stderr.strip() == "MAX_ALIASES must be an integer, got 'abc'"
    assert result.stdout == ""


def test_help_lists_every_setting() -> None:
    from settings import SETTINGS_HELP

    result = run_cli("--help", env={})
    assert result.returncode == 0
    for name in SETTINGS_HELP:
        assert name in result.stdout
