"""Encryption keys: a passphrase is salted per store, a store from before salting still reads, and
``rotate-encryption-key`` leaves no ciphertext the former key opens (checked on a dump of every table)."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet, InvalidToken

from auth import secret_box
from auth.key_rotation import ENCRYPTED_COLUMNS
from models.database import open_database
from settings import Settings
from tests.support.database import fresh_database, query
from tests.support.graphql import SyncGraphQLClient
from tests.support.integrations import AUTHORIZE, create_on_server, db_id
from tests.support.oauth import CallbackServer, signer
from tests.support.principals import ADMIN_PASSWORD, serving
from tests.support.servers import run_cli
from tests.support.webhooks import CREATE_SUBSCRIPTION, ROTATE_SECRET, subscription_input

PASSPHRASE = "correct horse battery staple"
KEY_A = Fernet.generate_key().decode()
PASSPHRASE_B = "a new passphrase for rotation B"
ENROL = "mutation($p: String) { enrollAdminTotp(currentPassword: $p) { secret userErrors { code } } }"
PRODUCTS = "{ products(first: 1) { edges { node { sku } } } }"


@contextlib.asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[secret_box.SecretBox]:
    async with open_database(settings):
        yield await secret_box.configure(settings)


def dump(database_url: str) -> dict[tuple[str, str, Any], str]:
    """Every text value of every table, by (table, column, row id): what a copy of the database would show."""
    if database_url.startswith("postgres"):
        sql = (
            "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'character varying') AND table_name <> 'tortoise_migrations'"
        )
        columns = [(row["t"], row["c"]) for row in query(database_url, sql)]
    else:
        tables = query(database_url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
        columns = [
            (table["name"], column["name"])
            for table in tables
            if table["name"] != "tortoise_migrations"
            for column in query(database_url, f"PRAGMA table_info('{table['name']}')")
        ]
    values: dict[tuple[str, str, Any], str] = {}
    for table, column in columns:
        for row in query(database_url, f'SELECT id AS k, "{column}" AS v FROM "{table}"'):
            if isinstance(row["v"], str):
                values[table, column, row["k"]] = row["v"]
    return values


def opens_with(key: bytes | str, value: str) -> bool:
    try:
        Fernet(key).decrypt(value.encode())
    except (InvalidToken, ValueError):
        return False
    return True


def stored_salt(database_url: str) -> bytes:
    rows = query(database_url, "SELECT value FROM core_config_data WHERE path = $1", secret_box.SALT_PATH)
    assert len(rows) == 1
    return base64.b64decode(rows[0]["value"])


# ------------------------------------------------------------------------------------------ settings


@pytest.mark.once
@pytest.mark.parametrize("value", ["short", "fifteen chars!!", "a" * 43])
def test_a_short_passphrase_is_a_clear_start_up_error(value: str, tmp_path: Path) -> None:
    problem = "ENCRYPTION_KEY must be a Fernet key"
    if len(value) >= 16:
        assert Settings.from_env({"ENCRYPTION_KEY": value}).encryption_key == value
        return
    with pytest.raises(ValueError, match=problem):
        Settings.from_env({"ENCRYPTION_KEY": value})
    result = run_cli("migrate", env={"DATABASE_URL": f"sqlite://{tmp_path / 'db.sqlite3'}", "ENCRYPTION_KEY": value})
    assert result.returncode == 1
    assert problem in result.stderr and "at least 16 characters" in result.stderr
    assert value not in result.stderr + result.stdout
    assert not (tmp_path / "db.sqlite3").exists()


@pytest.mark.once
def test_keys_never_show_in_the_settings_repr() -> None:
    settings = Settings.from_env({"ENCRYPTION_KEY": PASSPHRASE, "ENCRYPTION_OLD_KEYS": f"{KEY_A}, old one ,"})
    assert settings.encryption_old_keys == (KEY_A, "old one")
    assert PASSPHRASE not in repr(settings) and KEY_A not in repr(settings)


# ------------------------------------------------------------------------------------------ salt


async def test_a_passphrase_is_salted_per_store_and_the_salt_survives_restarts(
    settings: Settings, tmp_path: Path, migrated_template: Path | None
) -> None:
    ours = dataclasses.replace(settings, encryption_key=PASSPHRASE)
    async with opened(ours) as box:
        ciphertext = box.encrypt("kept")
        assert box.ring.primary != secret_box.legacy_key(PASSPHRASE)
    salt = stored_salt(settings.database_url)
    assert len(salt) == secret_box.SALT_BYTES
    async with opened(ours) as again:  # a restart: same salt, same key
        assert again.ring.primary == box.ring.primary
        assert again.decrypt(ciphertext) == "kept"
    assert stored_salt(settings.database_url) == salt

    # Another store (a SQLite file of its own) with the same passphrase gets another salt, so another key.
    other_dir = tmp_path / "other"
    other_url = (
        fresh_database(other_dir, migrated_template) if migrated_template else f"sqlite://{other_dir / 'db.sqlite3'}"
    )
    other = Settings(database_url=other_url, encryption_key=PASSPHRASE)
    async with opened(other) as other_box:
        assert other_box.ring.primary != box.ring.primary
        with pytest.raises(secret_box.SecretError):
            other_box.decrypt(ciphertext)


async def test_workers_starting_at_once_agree_on_one_salt(settings: Settings) -> None:
    import asyncio

    async with open_database(settings):
        salts = await asyncio.gather(*(secret_box.passphrase_salt() for _ in range(8)))
    assert len(set(salts)) == 1
    assert stored_salt(settings.database_url) == salts[0]


# ------------------------------------------------------------------------------------------ upgrade


async def test_a_store_from_before_salting_still_reads_and_rotates(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Earlier versions derived the key from the passphrase with one unsalted SHA-256.
    legacy = Fernet(secret_box.legacy_key(PASSPHRASE)).encrypt(b"consumer secret").decode()
    after = dataclasses.replace(settings, encryption_key=PASSPHRASE)
    async with opened(after) as box:
        await make_consumer(legacy)
        assert box.decrypt(legacy) == "consumer secret"
        assert box.key_of(legacy) == f"ENCRYPTION_KEY {secret_box.LEGACY_SUFFIX}"
        assert secret_box.decrypt(box.encrypt("new")) == "new"
    with caplog.at_level(logging.WARNING, logger="integrations.keys"):
        async with serving(after):
            pass
    logged = [record.getMessage() for record in caplog.records if record.name == "integrations.keys"]
    assert len(logged) == 1 and "1 stored secret(s) are encrypted with an old key" in logged[0], logged
    assert "rotate-encryption-key" in logged[0] and PASSPHRASE not in logged[0]

    env = {"DATABASE_URL": settings.database_url, "ENCRYPTION_KEY": PASSPHRASE}
    result = run_cli("rotate-encryption-key", env=env)
    assert result.returncode == 0, result.stderr
    assert "oauth_consumer.secret: 1 re-encrypted, 0 already current" in result.stdout
    stored = query(settings.database_url, "SELECT secret FROM oauth_consumer")[0]["secret"]
    assert stored != legacy and not opens_with(secret_box.legacy_key(PASSPHRASE), stored)
    key = secret_box.scrypt_key(PASSPHRASE, stored_salt(settings.database_url))
    assert Fernet(key).decrypt(stored.encode()) == b"consumer secret"


async def make_consumer(ciphertext: str) -> None:
    from models import Integration, OAuthConsumer

    integration = await Integration.create(name="Legacy", name_key="legacy")
    await OAuthConsumer.create(integration=integration, name="Legacy", key="k" * 32, secret=ciphertext)


# ------------------------------------------------------------------------------------------ rotation


ROTATE = """mutation($id: ID!, $overlap: Int!, $p: String) {
  rotateIntegrationSecret(id: $id, overlapSeconds: $overlap, currentPassword: $p) { credentials { consumerSecret } }
}"""


def signed_products(server: Any, credentials: dict[str, Any]) -> list[Any]:
    response = requests.post(
        f"{server.base_url}/graphql", json={"query": PRODUCTS}, auth=signer(credentials), timeout=30
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["products"]["edges"]


def admin_on(server: Any) -> SyncGraphQLClient:
    return SyncGraphQLClient(server.base_url, timeout=30).sign_in("admin", ADMIN_PASSWORD)


def test_rotation_leaves_no_ciphertext_the_old_key_opens(
    database_url: str, server_factory: Any, callback: CallbackServer
) -> None:
    base = {"DATABASE_URL": database_url, "ALLOW_PRIVATE_CALLBACKS": "1"}
    with_a = {**base, "ENCRYPTION_KEY": KEY_A}
    assert run_cli("create-admin", "--username", "admin", "--password", ADMIN_PASSWORD, env=with_a).returncode == 0
    assert run_cli("seed-demo", "--products", "3", env=with_a).returncode == 0

    # Key A: a manual integration with its four credentials, an exchange under way (verifier), a TOTP secret.
    server = server_factory(with_a)
    admin = admin_on(server)
    manual = create_on_server(admin, name="Manual", resourceAccess="ALL")
    credentials = admin.data(AUTHORIZE, {"id": manual["id"], "currentPassword": ADMIN_PASSWORD})[
        "authorizeIntegration"
    ]["credentials"]
    exchange = create_on_server(
        admin, name="Exchange", callbackUrl=callback.url(), identityLinkUrl="https://app.example/link"
    )
    started = admin.data(AUTHORIZE, {"id": exchange["id"], "currentPassword": ADMIN_PASSWORD})
    assert started["authorizeIntegration"]["userErrors"] == []
    totp_secret = admin.data(ENROL, {"p": ADMIN_PASSWORD})["enrollAdminTotp"]["secret"]
    assert signed_products(server, credentials)
    # A rotated secret: the previous one is kept, encrypted, for the overlap.
    rotated = admin.data(ROTATE, {"id": manual["id"], "overlap": 86400, "p": ADMIN_PASSWORD})
    credentials = {**credentials, "consumerSecret": rotated["rotateIntegrationSecret"]["credentials"]["consumerSecret"]}
    assert signed_products(server, credentials)
    # A webhook subscription's signing secret, rotated with an overlap: both are stored encrypted.
    hook = admin.data(CREATE_SUBSCRIPTION, {"input": subscription_input(manual["id"], "https://hooks.example/in")})
    hook_id = hook["createWebhookSubscription"]["subscription"]["id"]
    rotated_hook = admin.data(ROTATE_SECRET, {"id": hook_id, "overlap": 3600, "currentPassword": ADMIN_PASSWORD})
    assert rotated_hook["rotateWebhookSecret"]["userErrors"] == []
    server.stop()

    before = dump(database_url)
    under_a = {place: value for place, value in before.items() if opens_with(KEY_A, value)}
    encrypted = {(table, column) for table, columns in ENCRYPTED_COLUMNS for column in columns}
    assert {(table, column) for table, column, _row in under_a} == encrypted  # every column, and nothing else

    # Key B, A kept to decrypt: everything still works before the rotation.
    with_b_and_a = {**base, "ENCRYPTION_KEY": PASSPHRASE_B, "ENCRYPTION_OLD_KEYS": KEY_A}
    server = server_factory(with_b_and_a)
    assert signed_products(server, credentials)
    document = "query($id: ID!) { integration(id: $id) { credentials { consumerSecret } } }"
    shown = admin_on(server).data(document, {"id": manual["id"]})
    assert shown["integration"]["credentials"]["consumerSecret"] == credentials["consumerSecret"]
    assert "are encrypted with an old key" in server.output()
    server.stop()

    # A value no configured key opens stops the rotation before anything is written.
    stray = Fernet(Fernet.generate_key()).encrypt(b"unknown").decode()
    row = query(database_url, "SELECT id, secret FROM oauth_consumer WHERE integration_id = $1", db_id(manual))[0]
    consumer_id, original = row["id"], row["secret"]
    query(database_url, "UPDATE oauth_consumer SET secret = $1 WHERE id = $2", stray, consumer_id)
    untouched = dump(database_url)
    refused = run_cli("rotate-encryption-key", env=with_b_and_a)
    assert refused.returncode == 1
    assert (
        f"oauth_consumer.secret of row id {consumer_id}" in refused.stderr and "Nothing was changed" in refused.stderr
    )
    assert stray not in refused.stderr + refused.stdout
    assert credentials["consumerSecret"] not in refused.stderr + refused.stdout
    assert dump(database_url) == untouched
    query(database_url, "UPDATE oauth_consumer SET secret = $1 WHERE id = $2", original, consumer_id)

    rotated = run_cli("rotate-encryption-key", env=with_b_and_a)
    assert rotated.returncode == 0, rotated.stderr
    assert f"Re-encrypted {len(under_a)} secret(s) under ENCRYPTION_KEY; 0 were already under it." in rotated.stdout
    assert "oauth_token.verifier: 1 re-encrypted" in rotated.stdout

    after = dump(database_url)
    [event] = query(database_url, "SELECT actor_type, details FROM audit_event WHERE action = 'encryption_key.rotated'")
    assert event["actor_type"] == "SYSTEM"
    assert json.loads(event["details"])["reencrypted"] == len(under_a)  # counts only: no key, no value
    assert not [place for place, value in after.items() if opens_with(KEY_A, value)]
    assert all(after[place] != value for place, value in under_a.items())
    key_b = secret_box.scrypt_key(PASSPHRASE_B, stored_salt(database_url))
    assert all(opens_with(key_b, after[place]) for place in under_a)
    assert (
        Fernet(key_b)
        .decrypt(query(database_url, "SELECT totp_secret FROM admin_user")[0]["totp_secret"].encode())
        .decode()
        == totp_secret
    )

    again = run_cli("rotate-encryption-key", env=with_b_and_a)  # idempotent: nothing left to do
    assert again.returncode == 0, again.stderr
    assert f"Re-encrypted 0 secret(s) under ENCRYPTION_KEY; {len(under_a)} were already under it." in again.stdout
    assert dump(database_url) == after

    # A dropped: the store still works.
    server = server_factory({**base, "ENCRYPTION_KEY": PASSPHRASE_B})
    assert signed_products(server, credentials)
    assert "old key" not in server.output()
