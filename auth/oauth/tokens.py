"""The integration's OAuth token row: one per consumer, mutated in place (verifier -> request -> access).

This mirrors Magento's ``Oauth\\Token`` lifecycle. The token itself is stored twice: as a SHA-256 hash for
lookups (``token_hash``) and encrypted (``token_encrypted``) so that it can be shown to an admin again.
The token secret and the verifier are encrypted too; nothing here ever holds them in clear at rest.
Activation (manual and token exchange) and the OAuth token endpoints all go through these functions.
"""

from __future__ import annotations

import dataclasses

from tortoise.backends.base.client import BaseDBAsyncClient
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


async def get_token_row(consumer_id: int, *, conn: BaseDBAsyncClient | None = None) -> OAuthToken | None:
    """The consumer's integration token row, whatever its type."""
    query = OAuthToken.filter(consumer_id=consumer_id, user_type=USER_TYPE_INTEGRATION)
    return await (query.using_db(conn) if conn is not None else query).first()


async def _put(
    conn: BaseDBAsyncClient, consumer_id: int, token_type: str, verifier: str | None, callback_url: str
) -> IssuedToken:
    token = secret_box.generate_token()
    secret = secret_box.generate_token()
    row = await get_token_row(consumer_id, conn=conn)
    fields = {
        "type": token_type,
        "token_hash": hash_token(token),
        "token_encrypted": secret_box.encrypt(token),
        "secret": secret_box.encrypt(secret),
        "callback_url": callback_url,
        "revoked": False,
        "created_at": clock.now(),
    }
    if verifier is not None:
        fields["verifier"] = secret_box.encrypt(verifier)
    if row is None:
        await OAuthToken.create(
            using_db=conn, consumer_id=consumer_id, user_type=USER_TYPE_INTEGRATION, **{"verifier": None, **fields}
        )
    else:
        await OAuthToken.filter(id=row.id).using_db(conn).update(**fields)
        if verifier is None and row.verifier:
            verifier = secret_box.decrypt(row.verifier)
    return IssuedToken(type=token_type, token=token, secret=secret, verifier=verifier)


async def put_token_row(
    consumer_id: int,
    token_type: str,
    *,
    verifier: str | None = None,
    callback_url: str = "oob",
    conn: BaseDBAsyncClient | None = None,
) -> IssuedToken:
    """Create the consumer's token row, or turn the existing one into ``token_type`` in place.

    A fresh token and secret are generated every time, so whatever the row held before stops working at
    once. ``verifier`` replaces the stored verifier when given; otherwise the stored one is kept (as
    Magento keeps it when a verifier row becomes a request token). Pass ``conn`` to join a transaction.
    """
    if token_type not in TOKEN_TYPES:
        raise ValueError(f"unknown token type {token_type!r}")
    if conn is not None:
        return await _put(conn, consumer_id, token_type, verifier, callback_url)
    async with in_transaction() as tx:
        return await _put(tx, consumer_id, token_type, verifier, callback_url)


async def issue_access_token(consumer_id: int, *, conn: BaseDBAsyncClient | None = None) -> IssuedToken:
    """A new access token and secret for the consumer; any previous token row is replaced."""
    return await put_token_row(consumer_id, TYPE_ACCESS, conn=conn)


async def delete_token_row(consumer_id: int, *, conn: BaseDBAsyncClient | None = None) -> int:
    """Remove the consumer's integration token (Magento's ``deleteIntegrationToken``)."""
    query = OAuthToken.filter(consumer_id=consumer_id, user_type=USER_TYPE_INTEGRATION)
    return await (query.using_db(conn) if conn is not None else query).delete()
