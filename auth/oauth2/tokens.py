"""OAuth 2.0 access tokens: opaque, stored only as their SHA-256 hash, and the bearer lookup that reads them.

A token is ``oa2.`` followed by 43 random URL-safe characters. The dot never occurs in an admin token
(``secrets.token_urlsafe``) or an OAuth 1.0a token (``[0-9a-z]{32}``), so ``auth.middleware`` sends a token
with this prefix straight to ``bearer_lookup``, one indexed query, and no other token ever reaches it.

A token works while it has not expired (``auth.clock``), its integration is ``ACTIVE`` and still allows
``OAUTH2_CLIENT_CREDENTIALS``; it holds its scope within the integration's grant as it is at each use.
Deleting an integration deletes its tokens (foreign key cascade); reauthorizing it deletes them
(``delete_integration_tokens``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from auth.admin_tokens import InvalidTokenError
from auth.clock import clock
from auth.config import STORE_CONFIG_COLUMN, ConfigSnapshot, snapshot_of
from auth.grants import granted_resources
from auth.middleware import AuthenticationFailed
from auth.oauth2.scopes import effective_resources
from auth.principal import Principal, integration_principal
from auth.tokens import hash_token
from models import OAuth2AccessToken
from models.integration import STATUS_ACTIVE
from models.sql import fetch_one
from models.values import as_bool, as_datetime

#: What every OAuth 2.0 access token starts with (see the module docstring).
PREFIX = "oa2."
TOKEN_TYPE = "Bearer"

INTEGRATION_INACTIVE = "The integration of this access token is not active."
OAUTH2_NOT_ALLOWED = "The integration of this access token may no longer use OAuth 2.0 client credentials."


def generate_token(request: Any = None) -> str:
    """A new opaque access token (oauthlib's ``token_generator`` hook, which passes the request)."""
    return PREFIX + secrets.token_urlsafe(32)


async def store_token(integration_id: int, token: str, scope: str, resources: frozenset[str], lifetime: int) -> None:
    now = clock.now()
    await OAuth2AccessToken.create(
        integration_id=integration_id,
        token_hash=hash_token(token),
        scope=scope,
        resources=sorted(resources),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=lifetime),
    )


async def revoke_token(token: str, integration_id: int | None = None) -> int:
    """Delete a token (only the given integration's, when one is given); how many rows went."""
    query = OAuth2AccessToken.filter(token_hash=hash_token(token))
    if integration_id is not None:
        query = query.filter(integration_id=integration_id)
    return await query.delete()


async def delete_integration_tokens(integration_id: int, *, conn: BaseDBAsyncClient | None = None) -> int:
    """Every OAuth 2.0 token of the integration stops working now (reauthorization)."""
    query = OAuth2AccessToken.filter(integration_id=integration_id)
    return await (query.using_db(conn) if conn is not None else query).delete()


_TOKEN_SQL = (
    "SELECT t.integration_id AS integration_id, t.scope AS scope, t.resources AS resources, "
    "t.created_at AS created_at, t.expires_at AS expires_at, "
    "i.name AS integration_name, i.status AS integration_status, i.allow_oauth2 AS allow_oauth2, "
    "i.rate_limit_bucket_size AS bucket_size, i.rate_limit_restore_rate AS restore_rate, "
    "g.all_resources AS all_resources, g.resources AS grant_resources, c.key AS client_id, "
    f"{STORE_CONFIG_COLUMN} AS store_config "
    "FROM oauth2_access_token t JOIN integration i ON i.id = t.integration_id "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id "
    "LEFT JOIN oauth_consumer c ON c.integration_id = i.id "
    "WHERE t.token_hash = ?"
)


@dataclasses.dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token with what decides whether it works."""

    integration_id: int
    integration_name: str
    client_id: str
    scope: str
    resources: frozenset[str]
    created_at: dt.datetime
    expires_at: dt.datetime
    integration_active: bool
    allow_oauth2: bool
    #: The integration's own rate-limit bucket size and restore rate (None: the store's), read here so that
    #: throttling needs no statement of its own.
    bucket_override: tuple[int | None, int | None]
    #: The store's settings, read in the same statement (so a request on this token reads them once).
    store_config: ConfigSnapshot

    @property
    def expired(self) -> bool:
        return clock.now() >= self.expires_at

    @property
    def active(self) -> bool:
        return not self.expired and self.integration_active and self.allow_oauth2

    def claims(self) -> dict[str, Any]:
        """RFC 7662 section 2.2: what introspection says about an active token."""
        return {
            "scope": self.scope,
            "client_id": self.client_id,
            "token_type": TOKEN_TYPE,
            "exp": int(self.expires_at.timestamp()),
            "iat": int(self.created_at.timestamp()),
            "sub": self.client_id,
        }


def _resources(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return frozenset(value or ())


def _record(row: dict[str, Any], grant: frozenset[str]) -> TokenRecord:
    return TokenRecord(
        integration_id=row["integration_id"],
        integration_name=row["integration_name"],
        client_id=row["client_id"] or "",
        scope=row["scope"],
        resources=effective_resources(_resources(row["resources"]), grant),
        created_at=as_datetime(row["created_at"]),
        expires_at=as_datetime(row["expires_at"]),
        integration_active=row["integration_status"] == STATUS_ACTIVE,
        allow_oauth2=as_bool(row["allow_oauth2"]),
        bucket_override=(row["bucket_size"], row["restore_rate"]),
        store_config=snapshot_of(row["store_config"]),
    )


async def find_token(token: str) -> TokenRecord | None:
    """The stored token (None: no such token, or not one of ours)."""
    if not token.startswith(PREFIX):
        return None
    row = await fetch_one(_TOKEN_SQL, hash_token(token))
    if row is None:
        return None
    return _record(row, granted_resources(row["all_resources"], row["grant_resources"]))


async def bearer_lookup(token: str) -> Principal | None:
    """The integration behind an OAuth 2.0 access token on /graphql, holding the token's scope.

    Whatever the "integration tokens as bearer" setting says: that one is about OAuth 1.0a access tokens.
    The principal has the integration's id like any integration principal, so what applies per integration
    (data filters, limits) applies to it unchanged.
    """
    record = await find_token(token)
    if record is None:
        return None
    if record.expired:
        raise InvalidTokenError
    if not record.integration_active:
        raise AuthenticationFailed(INTEGRATION_INACTIVE)
    if not record.allow_oauth2:
        raise AuthenticationFailed(OAUTH2_NOT_ALLOWED)
    return integration_principal(
        record.integration_id, record.integration_name, record.resources, record.bucket_override, record.store_config
    )
