"""Admin sign-in: bearer tokens stored hashed, with Magento's lock-out after repeated failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from auth.clock import clock
from auth.config import ConfigSnapshot
from auth.passwords import hash_password, verify_password
from auth.principal import Principal, admin_principal
from auth.tokens import hash_token
from errors import Refusal
from models import AdminToken, AdminUser, TokenRequestLog
from models.sql import execute, fetch_one
from models.values import as_datetime

#: Magento's own user-type number for admins in ``oauth_token_request_log`` (RequestThrottler).
THROTTLE_ADMIN = 3

SIGN_IN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)


class SignInError(Refusal):
    """A refused sign-in; every reason gives Magento's one message, so none can be told apart."""

    def __init__(self, message: str = SIGN_IN_FAILED) -> None:
        super().__init__(message)


class InvalidTokenError(Exception):
    """A bearer credential that is present but unknown, expired or revoked.

    Not a ``Refusal``: it carries no message of its own, the bearer authenticator words the refusal.
    """


@dataclasses.dataclass(frozen=True)
class AdminTokenIssued:
    token: str
    expires_at: dt.datetime


async def create_admin(username: str, password: str) -> AdminUser:
    return await AdminUser.create(username=username, password_hash=await hash_password(password))


async def _is_locked(username: str, now: dt.datetime) -> bool:
    log = await TokenRequestLog.get_or_none(user_name=username, user_type=THROTTLE_ADMIN)
    return bool(log and log.lock_expires_at and log.lock_expires_at > now)


async def _record_failure(username: str, config: ConfigSnapshot, now: dt.datetime) -> None:
    """Count one failure, locking the name at the limit. The count is incremented in SQL, not read,
    changed and written back: concurrent attempts through several workers must each be counted."""
    async with in_transaction() as conn:
        await TokenRequestLog.get_or_create(user_name=username, user_type=THROTTLE_ADMIN, using_db=conn)
        rows = TokenRequestLog.filter(user_name=username, user_type=THROTTLE_ADMIN).using_db(conn)
        # An expired lock starts a new count.
        await rows.filter(lock_expires_at__lte=now).update(failures_count=0, lock_expires_at=None)
        await rows.update(failures_count=F("failures_count") + 1)
        log = await rows.get()
        if config.max_failures > 0 and log.failures_count >= config.max_failures and log.lock_expires_at is None:
            await rows.update(lock_expires_at=now + dt.timedelta(seconds=config.lock_timeout_seconds))


async def issue_admin_token(username: str, password: str, config: ConfigSnapshot) -> AdminTokenIssued:
    """Check the password (unless locked out) and issue a token; every failure looks the same."""
    username = username.strip()
    if not username or not password:
        raise SignInError
    now = clock.now()
    if await _is_locked(username, now):
        raise SignInError
    user = await AdminUser.get_or_none(username=username)
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        await _record_failure(username, config, now)
        raise SignInError
    await TokenRequestLog.filter(user_name=username, user_type=THROTTLE_ADMIN).delete()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=config.admin_token_lifetime_hours)
    await AdminToken.create(admin=user, token_hash=hash_token(token), created_at=now, expires_at=expires_at)
    return AdminTokenIssued(token, expires_at)


async def revoke_admin_token(token_id: int) -> bool:
    return bool(await execute("UPDATE admin_token SET revoked = ? WHERE id = ?", True, token_id))


async def authenticate_admin_token(token: str) -> Principal | None:
    """The admin behind a bearer token; None when no admin token has this value.

    Raises ``InvalidTokenError`` for a known token that is expired or revoked, or whose admin is disabled.
    """
    row = await fetch_one(
        "SELECT t.id, t.admin_id, t.expires_at, t.revoked, u.username, u.is_active "
        "FROM admin_token t JOIN admin_user u ON u.id = t.admin_id WHERE t.token_hash = ?",
        hash_token(token),
    )
    if row is None:
        return None
    if row["revoked"] or not row["is_active"] or as_datetime(row["expires_at"]) <= clock.now():
        raise InvalidTokenError
    return admin_principal(row["admin_id"], row["username"], row["id"])
