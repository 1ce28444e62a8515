"""Admin sign-in: bearer tokens stored hashed, with Magento's lock-out after repeated failures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

from auth.clock import clock
from auth.config import ConfigSnapshot
from auth.grants import granted_resources
from auth.passwords import hash_password, verify_password
from auth.principal import Principal, admin_principal
from auth.tokens import hash_token
from errors import Refusal
from models import AdminRole, AdminToken, AdminUser, TokenRequestLog
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


#: The built-in role (All) of the first admin and of admins created from the command line.
ADMINISTRATORS = "Administrators"


async def administrators_role() -> AdminRole:
    """The role "Administrators" (All), created when missing (it is built in, and the first admin holds it)."""
    role, _created = await AdminRole.get_or_create(
        name_key=ADMINISTRATORS.casefold(), defaults={"name": ADMINISTRATORS, "all_resources": True}
    )
    return role


async def create_admin(username: str, password: str) -> AdminUser:
    """An admin holding "Administrators" (All): the first admin, or one created from the command line."""
    role = await administrators_role()
    return await AdminUser.create(username=username, password_hash=await hash_password(password), role=role)


_COUNT_ATTEMPT_SQL = (
    "INSERT INTO oauth_token_request_log (user_name, user_type, failures_count, last_attempt_at) "
    "VALUES (?, ?, 1, ?) "
    "ON CONFLICT (user_name, user_type) DO UPDATE SET "
    "failures_count = oauth_token_request_log.failures_count + 1, last_attempt_at = excluded.last_attempt_at "
    "RETURNING id, failures_count, lock_expires_at"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Attempt:
    """This sign-in attempt's place in its name's count since the last success (1 is the first)."""

    number: int
    locked: bool


async def _count_attempt(username: str, now: dt.datetime) -> Attempt:
    """Count the attempt before its password is checked, in one atomic upsert that also reads the count.

    Concurrent guesses through any number of workers each get their own number, so no more than the
    allowed number of them ever reaches the password check. A lock that has run out starts a new count
    (once: the reset is conditional on the lock it read, and an attempt that loses that race counts again).
    """
    while True:
        row = await fetch_one(_COUNT_ATTEMPT_SQL, username, THROTTLE_ADMIN, now)
        assert row is not None
        lock = as_datetime(row["lock_expires_at"]) if row["lock_expires_at"] else None
        if lock is None or lock > now:
            return Attempt(int(row["failures_count"]), locked=lock is not None)
        rows = TokenRequestLog.filter(id=row["id"], lock_expires_at=lock)
        if await rows.update(failures_count=1, lock_expires_at=None):
            return Attempt(1, locked=False)


async def _lock(username: str, config: ConfigSnapshot, now: dt.datetime) -> None:
    until = now + dt.timedelta(seconds=config.lock_timeout_seconds)
    await TokenRequestLog.filter(user_name=username, user_type=THROTTLE_ADMIN, lock_expires_at=None).update(
        lock_expires_at=until
    )


async def _forget_stale_attempts(config: ConfigSnapshot, now: dt.datetime) -> None:
    """Magento's ``outdated_authentication_failures_cleanup``, run with every failure (which costs an Argon2
    verification anyway): names no longer locked, or not tried within the lock-out time, are forgotten, so
    made-up names cannot pile up."""
    await TokenRequestLog.filter(lock_expires_at__lte=now).delete()
    stale = now - dt.timedelta(seconds=config.lock_timeout_seconds)
    await TokenRequestLog.filter(lock_expires_at=None, last_attempt_at__lt=stale).delete()


async def issue_admin_token(username: str, password: str, config: ConfigSnapshot) -> AdminTokenIssued:
    """Count the attempt, check the password (unless over the limit) and issue a token.

    Every refusal gives Magento's one message, and an unknown name costs the same as a wrong password.
    """
    username = username.strip()
    if not username or not password:
        raise SignInError
    now = clock.now()
    attempt = await _count_attempt(username, now)
    limited = config.max_failures > 0
    if attempt.locked or (limited and attempt.number > config.max_failures):
        if not attempt.locked:
            await _lock(username, config, now)
        raise SignInError
    user = await AdminUser.get_or_none(username=username)
    valid = await verify_password(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        if limited and attempt.number >= config.max_failures:
            await _lock(username, config, now)
        await _forget_stale_attempts(config, now)
        raise SignInError
    await TokenRequestLog.filter(user_name=username, user_type=THROTTLE_ADMIN).delete()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=config.admin_token_lifetime_hours)
    await AdminToken.create(admin=user, token_hash=hash_token(token), created_at=now, expires_at=expires_at)
    return AdminTokenIssued(token, expires_at)


async def revoke_admin_token(token_id: int) -> bool:
    return bool(await execute("UPDATE admin_token SET revoked = ? WHERE id = ?", True, token_id))


async def revoke_admin_tokens(admin_id: int, keep_token_id: int | None = None) -> int:
    """Revoke every token of an admin (but ``keep_token_id``, the one in use after a password change)."""
    sql = "UPDATE admin_token SET revoked = ? WHERE admin_id = ? AND revoked = ?"
    params: list[object] = [True, admin_id, False]
    if keep_token_id is not None:
        sql += " AND id <> ?"
        params.append(keep_token_id)
    return await execute(sql, *params)


#: Magento's message for a wrong "Your Password" (``Integration/Controller/Adminhtml/Integration/Save.php``).
INVALID_CURRENT_PASSWORD = "You have entered an invalid password for current user."


async def verify_current_password(admin_id: int, password: str | None, config: ConfigSnapshot) -> bool:
    """Magento's "Your Password" on a sensitive write: is ``password`` this admin's own?

    A wrong one counts toward the admin's lock-out exactly like a failed sign-in (the same atomic count,
    taken before the check). When it locks the account, every token of the admin is revoked: whoever holds
    the token does not know the password. A failed sign-in never revokes tokens, or anyone could sign an
    admin out by guessing at the name.
    """
    user = await AdminUser.get_or_none(id=admin_id)
    if user is None or not password:
        return False
    now = clock.now()
    attempt = await _count_attempt(user.username, now)
    limited = config.max_failures > 0
    if attempt.locked or (limited and attempt.number > config.max_failures):
        if not attempt.locked:
            await _lock(user.username, config, now)
        await revoke_admin_tokens(user.id)
        return False
    if user.is_active and await verify_password(user.password_hash, password):
        await TokenRequestLog.filter(user_name=user.username, user_type=THROTTLE_ADMIN).delete()
        return True
    if limited and attempt.number >= config.max_failures:
        await _lock(user.username, config, now)
        await revoke_admin_tokens(user.id)
    return False


async def authenticate_admin_token(token: str) -> Principal | None:
    """The admin behind a bearer token; None when no admin token has this value.

    Raises ``InvalidTokenError`` for a known token that is expired or revoked, or whose admin is disabled.
    """
    row = await fetch_one(
        "SELECT t.id, t.admin_id, t.expires_at, t.revoked, u.username, u.is_active, "
        "r.all_resources, r.resources "
        "FROM admin_token t JOIN admin_user u ON u.id = t.admin_id LEFT JOIN admin_role r ON r.id = u.role_id "
        "WHERE t.token_hash = ?",
        hash_token(token),
    )
    if row is None:
        return None
    if row["revoked"] or not row["is_active"] or as_datetime(row["expires_at"]) <= clock.now():
        raise InvalidTokenError
    # The role is read with the token on every request, so a role edit applies to the next request anywhere.
    resources = granted_resources(row["all_resources"], row["resources"])
    return admin_principal(row["admin_id"], row["username"], row["id"], resources)
