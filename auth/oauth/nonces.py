"""Replay protection: a nonce is recorded only once its request has verified, unique per consumer in the database.

Recording after the signature check means a forged request cannot use up a client's nonces; the unique index
means a replay is refused even when it reaches another worker process. Old nonces and expired request tokens
are deleted as Magento does it: with a 1-in-``cleanup_probability`` chance on each save.
"""

from __future__ import annotations

import datetime as dt
import random

from tortoise.exceptions import IntegrityError

from auth.clock import clock
from auth.oauth.credentials import RequestCredentials
from auth.oauth.params import TIMESTAMP_LIFETIME, OAuthParams
from auth.oauth.problems import nonce_used
from auth.oauth.tokens import TYPE_REQUEST
from models import OAuthNonce, OAuthToken
from models.sql import dialect, execute

_NONCE_INSERT = "INSERT INTO oauth_nonce (consumer_id, nonce, timestamp) VALUES (?, ?, ?)"
#: PostgreSQL: the insert commits without waiting for its WAL flush. ``set_config(..., true)`` is the function form of
#: ``SET LOCAL``: it holds for this statement's own transaction only, in one round trip instead of four
#: (BEGIN, SET LOCAL, INSERT, COMMIT). A nonce lost in a database crash only reopens a window that the
#: timestamp check closes within 600 s.
_NONCE_INSERT_POSTGRES = (
    "WITH relaxed AS (SELECT set_config('synchronous_commit', 'off', true)) "
    "INSERT INTO oauth_nonce (consumer_id, nonce, timestamp) SELECT ?, ?, ? FROM relaxed"
)


async def record_nonce(creds: RequestCredentials, params: OAuthParams) -> None:
    """Store the nonce once the request is otherwise valid; a duplicate (any worker) is a replay."""
    assert creds.consumer_id is not None
    nonce = params.get("oauth_nonce") or ""
    timestamp = int(params.get("oauth_timestamp") or 0)
    sql = _NONCE_INSERT_POSTGRES if dialect() == "postgres" else _NONCE_INSERT
    try:
        await execute(sql, creds.consumer_id, nonce, timestamp)
    except IntegrityError:
        raise nonce_used(creds.consumer_id) from None
    if _cleanup_due(creds.config.cleanup_probability):
        await delete_old_nonces(creds.config.cleanup_expiration_minutes)


def _cleanup_due(probability: int) -> bool:
    """Magento's cleanup: a 1-in-X chance on each save (0 turns it off)."""
    return probability > 0 and random.randrange(probability) == 0


async def delete_old_nonces(expiration_minutes: int) -> int:
    """Remove nonces older than the cleanup period, never ones whose timestamp could still be accepted."""
    keep_seconds = max(expiration_minutes * 60, 2 * TIMESTAMP_LIFETIME)
    cutoff = int(clock.time()) - keep_seconds
    return await OAuthNonce.filter(timestamp__lte=cutoff).delete()


async def delete_expired_request_tokens(expiration_minutes: int) -> int:
    cutoff = clock.now() - dt.timedelta(minutes=expiration_minutes)
    return await OAuthToken.filter(type=TYPE_REQUEST, created_at__lte=cutoff).delete()


async def maybe_delete_expired_request_tokens(creds: RequestCredentials) -> None:
    if _cleanup_due(creds.config.cleanup_probability):
        await delete_expired_request_tokens(creds.config.cleanup_expiration_minutes)
