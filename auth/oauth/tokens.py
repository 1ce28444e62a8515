"""An integration's OAuth tokens: its access token, and the token of a running exchange.

Each consumer has at most one row of each type. An exchange token is mutated in place (verifier ->
request -> access), mirroring Magento's ``Oauth\\Token`` lifecycle; the access token it replaces keeps
working until that last step, so a reauthorization whose callback or third party fails never cuts a
live connection. A unique (consumer, user type, type) index keeps two writers from both winning.

The token itself is stored twice: as a SHA-256 hash for lookups (``token_hash``) and encrypted
(``token_encrypted``) so that it can be shown to an admin again.
The token secret and the verifier are encrypted too; nothing here ever holds them in clear at rest.
Activation (manual and token exchange) and the OAuth token endpoints all go through these functions.
"""

from __future__ import annotations

import dataclasses

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from auth import secret_box
from auth.clock import clock
from auth.tokens import hash_token
from models import OAuthToken

#: ``UserContextInterface::USER_TYPE_INTEGRATION``: the user type of every integration token row.
USER_TYPE_INTEGRATION = 1

TYPE_VERIFIER = "verifier"
TYPE_REQUEST = "request"
TYPE_ACCESS = "access"
TOKEN_TYPES = (TYPE_VERIFIER, TYPE_REQUEST, TYPE_ACCESS)


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """A token as just issued, in clear: hand it to the client once, never log it."""

    type: str
    token: str = dataclasses.field(repr=False)
    secret: str = dataclasses.field(repr=False)
    verifier: str | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True)
class StoredToken:
    """A token row with its secrets decrypted (for showing credentials to an admin)."""

    id: int
    consumer_id: int
    type: str
    token: str = dataclasses.field(repr=False)
    secret: str = dataclasses.field(repr=False)
    verifier: str | None = dataclasses.field(default=None, repr=False)
    revoked: bool = False


def decrypt_token(row: OAuthToken) -> StoredToken:
    return StoredToken(
        id=row.id,
        consumer_id=row.consumer_id,  # type: ignore[attr-defined]
        type=row.type,
        token=secret_box.decrypt(row.token_encrypted),
        secret=secret_box.decrypt(row.secret),
        verifier=secret_box.decrypt(row.verifier) if row.verifier else None,
        revoked=row.revoked,
    )


async def access_token_row(consumer_id: int, *, conn: BaseDBAsyncClient | None = None) -> OAuthToken | None:
    """The consumer's access token row, if it has one."""
    query = OAuthToken.filter(consumer_id=consumer_id, user_type=USER_TYPE_INTEGRATION, type=TYPE_ACCESS)
    return await (query.using_db(conn) if conn is not None else query).first()


async def _insert(conn: BaseDBAsyncClient, consumer_id: int, token_type: str, verifier: str | None) -> IssuedToken:
    token = secret_box.generate_token()
    secret = secret_box.generate_token()
    await OAuthToken.create(
        using_db=conn,
        consumer_id=consumer_id,
        user_type=USER_TYPE_INTEGRATION,
        type=token_type,
        token_hash=hash_token(token),
        token_encrypted=secret_box.encrypt(token),
        secret=secret_box.encrypt(secret),
        verifier=secret_box.encrypt(verifier) if verifier is not None else None,
        callback_url="oob",
        revoked=False,
        created_at=clock.now(),
    )
    return IssuedToken(type=token_type, token=token, secret=secret, verifier=verifier)


def _exchange_rows(consumer_id: int, conn: BaseDBAsyncClient) -> QuerySet[OAuthToken]:
    return OAuthToken.filter(
        consumer_id=consumer_id, user_type=USER_TYPE_INTEGRATION, type__in=(TYPE_VERIFIER, TYPE_REQUEST)
    ).using_db(conn)


async def replace_access_token(
    consumer_id: int, previous_id: int | None, *, conn: BaseDBAsyncClient
) -> IssuedToken | None:
    """A new access token in place of ``previous_id`` (the row the caller read; None: it had none).

    None when another writer replaced that row first. A second writer that finds no row to replace
    either fails on the unique index (``IntegrityError``): only one of concurrent writers wins. Any running
    exchange ends too. Must run inside the caller's transaction (``conn``).
    """
    await _exchange_rows(consumer_id, conn).delete()
    if previous_id is not None and not await OAuthToken.filter(id=previous_id).using_db(conn).delete():
        return None
    return await _insert(conn, consumer_id, TYPE_ACCESS, None)


async def start_exchange_token(consumer_id: int, verifier: str) -> IssuedToken:
    """The verifier token of a new exchange; a running exchange's token is replaced, the access token kept."""
    async with in_transaction() as conn:
        await _exchange_rows(consumer_id, conn).delete()
        return await _insert(conn, consumer_id, TYPE_VERIFIER, verifier)


async def drop_exchange_token(consumer_id: int) -> int:
    """End a running exchange (its callback failed); the access token, if any, keeps working."""
    async with in_transaction() as conn:
        return await _exchange_rows(consumer_id, conn).delete()


async def delete_token_rows(consumer_id: int, *, conn: BaseDBAsyncClient | None = None) -> int:
    """Remove every token of the consumer (Magento's ``deleteIntegrationToken``)."""
    query = OAuthToken.filter(consumer_id=consumer_id, user_type=USER_TYPE_INTEGRATION)
    return await (query.using_db(conn) if conn is not None else query).delete()
