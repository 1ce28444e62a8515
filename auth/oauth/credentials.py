"""What the database knows about the consumer key and token of one OAuth request, read with one raw SQL join.

Consumer, token, integration, grant and the few config values the checks need come in one indexed lookup:
this runs on every signed API call, the hot path. The secrets stay encrypted in ``RequestCredentials`` and
are decrypted (through the secret box's cache) only when a signature is checked.
Unknown consumer keys and tokens are checked against a dummy secret, so that they take as long as known
ones, and keys and verifiers are compared in constant time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hmac

from auth import secret_box
from auth.clock import clock
from auth.config import STORE_CONFIG_COLUMN, SYSTEM_VALUES, ConfigSnapshot, snapshot_of
from auth.grants import granted_resources
from auth.oauth.params import TOKEN_LENGTH
from auth.oauth.tokens import TYPE_ACCESS
from auth.principal import Principal, integration_principal
from auth.tokens import hash_token
from models.sql import fetch_one
from models.values import as_bool, as_datetime

#: One indexed lookup for everything a signed request needs; always exactly one row, so that the config values
#: are there even when the consumer key is unknown.
_CREDENTIALS_SQL = (
    "SELECT c.id AS consumer_id, c.secret AS consumer_secret, c.exchange_started_at AS exchange_started_at, "
    "c.previous_secret AS previous_secret, c.previous_secret_expires_at AS previous_secret_expires_at, "
    "t.id AS token_id, t.consumer_id AS token_consumer_id, t.type AS token_type, t.secret AS token_secret, "
    "t.verifier AS token_verifier, t.revoked AS token_revoked, "
    "i.id AS integration_id, i.name AS integration_name, i.status AS integration_status, "
    "i.allow_oauth1 AS allow_oauth1, "
    "i.rate_limit_bucket_size AS bucket_size, i.rate_limit_restore_rate AS restore_rate, "
    "g.all_resources AS all_resources, g.resources AS resources, "
    f"{STORE_CONFIG_COLUMN} AS store_config "
    "FROM (SELECT 1 AS one) AS q "
    "LEFT JOIN oauth_consumer c ON c.key = ? "
    "LEFT JOIN integration i ON i.id = c.integration_id "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id "
    "LEFT JOIN oauth_token t ON t.token_hash = ?"
)


def same(a: str, b: str) -> bool:
    """Constant-time equality (hmac's, in C: oauthlib's ``safe_string_equals`` loops in Python)."""
    return hmac.compare_digest(a.encode(), b.encode())


_dummy_ciphertexts: dict[int, str] = {}


def decrypt_or_dummy(ciphertext: str | None) -> str:
    """Decrypt a stored secret, or a dummy one when there is none, so both paths cost the same."""
    box = secret_box.box()
    if ciphertext is None:
        dummy = _dummy_ciphertexts.get(id(box))
        if dummy is None:
            dummy = _dummy_ciphertexts[id(box)] = box.encrypt("0" * TOKEN_LENGTH)
        return box.decrypt(dummy)
    return box.decrypt(ciphertext)


def overlap_secret(ciphertext: str | None, expires_at: dt.datetime | None) -> str | None:
    """The consumer's previous secret while a rotation's overlap lasts (``rotateIntegrationSecret``), else None.

    Both OAuth 1.0a signatures and OAuth 2.0 client authentication accept it until ``expires_at`` by
    ``auth.clock``; from that instant on, only the current secret works.
    """
    if ciphertext is None or expires_at is None or clock.now() >= expires_at:
        return None
    return secret_box.decrypt(ciphertext)


@dataclasses.dataclass(slots=True)
class RequestCredentials:
    """What the database knows about the consumer key and token of one request (None: unknown)."""

    consumer_key: str
    consumer_id: int | None = None
    consumer_secret: str | None = None
    exchange_started_at: dt.datetime | None = None
    token_id: int | None = None
    token_consumer_id: int | None = None
    token_type: str | None = None
    token_secret: str | None = None
    token_verifier: str | None = None
    token_revoked: bool = False
    integration_id: int | None = None
    integration_name: str = ""
    integration_status: int | None = None
    #: False for an integration limited to OAuth 2.0 (``Integration.authMethods``).
    allow_oauth1: bool = True
    previous_secret: str | None = None
    previous_secret_expires_at: dt.datetime | None = None
    resources: frozenset[str] = frozenset()
    #: The integration's own bucket size and restore rate (None: the store's).
    bucket_override: tuple[int | None, int | None] = (None, None)
    #: The store's settings, read in the same statement (signature methods, expiry and clean-up periods).
    config: ConfigSnapshot = SYSTEM_VALUES

    @property
    def token_of_consumer(self) -> bool:
        return self.token_id is not None and self.consumer_id is not None and self.token_consumer_id == self.consumer_id

    def is_consumer(self, client_key: str) -> bool:
        return self.consumer_id is not None and same(client_key, self.consumer_key)

    def access_token_usable(self, client_key: str) -> bool:
        return (
            self.is_consumer(client_key)
            and self.token_of_consumer
            and self.token_type == TYPE_ACCESS
            and not self.token_revoked
        )

    def principal(self) -> Principal:
        assert self.integration_id is not None
        return integration_principal(
            self.integration_id, self.integration_name, self.resources, self.bucket_override, self.config
        )


async def fetch_credentials(consumer_key: str, token: str | None) -> RequestCredentials:
    row = await fetch_one(
        _CREDENTIALS_SQL,
        consumer_key,
        hash_token(token) if token else "",
    )
    assert row is not None
    started = row["exchange_started_at"]
    previous_expires = row["previous_secret_expires_at"]
    return RequestCredentials(
        consumer_key=consumer_key,
        consumer_id=row["consumer_id"],
        consumer_secret=row["consumer_secret"],
        exchange_started_at=as_datetime(started) if started else None,
        token_id=row["token_id"],
        token_consumer_id=row["token_consumer_id"],
        token_type=row["token_type"],
        token_secret=row["token_secret"],
        token_verifier=row["token_verifier"],
        token_revoked=as_bool(row["token_revoked"]),
        integration_id=row["integration_id"],
        integration_name=row["integration_name"] or "",
        integration_status=row["integration_status"],
        allow_oauth1=row["allow_oauth1"] is None or as_bool(row["allow_oauth1"]),
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=as_datetime(previous_expires) if previous_expires else None,
        resources=granted_resources(row["all_resources"], row["resources"]),
        bucket_override=(row["bucket_size"], row["restore_rate"]),
        config=snapshot_of(row["store_config"]),
    )
