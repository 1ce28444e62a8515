"""Admin sign-in: bearer tokens stored hashed, with Magento's lock-out after repeated failures, and the
admin's own credentials asked again before sensitive writes ("Your Password").

An admin who turned on two-factor sign-in (``auth.totp``) also gives a code; a missing or wrong one is the
same refusal as a wrong password and counts the same. Every sign-in attempt is counted before anything is
checked (``_count_attempt``), so no more than the allowed number of guesses ever reaches the checks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import logging
import secrets

from auth import secret_box, totp
from auth.clock import clock
from auth.config import STORE_CONFIG_COLUMN, ConfigSnapshot, snapshot_of
from auth.grants import granted_resources
from auth.passwords import hash_password, verify_password
from auth.principal import Principal, admin_principal
from auth.tokens import hash_token
from errors import Refusal
from models import AdminRole, AdminToken, AdminUser, TokenRequestLog
from models.names import name_key
from models.sql import execute, fetch_one
from models.values import as_datetime
from observability import events

logger = logging.getLogger("auth.admin_tokens")

#: Magento's own user-type number for admins in ``oauth_token_request_log`` (RequestThrottler).
THROTTLE_ADMIN = 3

SIGN_IN_FAILED = (
    "The account sign-in was incorrect or your account is disabled temporarily. Please wait and try again later."
)


class SignInError(Refusal):
    """A refused sign-in; every reason gives Magento's one message, so none can be told apart. ``reason``
    is for the security log only (``observability.events.admin_sign_in_failed``)."""

    def __init__(self, reason: str, message: str = SIGN_IN_FAILED) -> None:
        super().__init__(message)
        self.reason = reason


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
        name_key=name_key(ADMINISTRATORS), defaults={"name": ADMINISTRATORS, "all_resources": True}
    )
    return role


async def create_admin(username: str, password: str) -> AdminUser:
    """An admin holding "Administrators" (All): the first admin, or one created from the command line."""
    role = await administrators_role()
    password_hash = await hash_password(password)
    return await AdminUser.create(
        username=username, username_key=name_key(username), password_hash=password_hash, role=role
    )


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
    locked = await TokenRequestLog.filter(user_name=username, user_type=THROTTLE_ADMIN, lock_expires_at=None).update(
        lock_expires_at=until
    )
    if locked:  # not when another worker's attempt locked it first
        events.admin_locked(username, until.isoformat())


async def _forget_stale_attempts(config: ConfigSnapshot, now: dt.datetime) -> None:
    """Magento's ``outdated_authentication_failures_cleanup``, run with every failure (which costs an Argon2
    verification anyway): names no longer locked, or not tried within the lock-out time, are forgotten, so
    made-up names cannot pile up."""
    await TokenRequestLog.filter(lock_expires_at__lte=now).delete()
    stale = now - dt.timedelta(seconds=config.lock_timeout_seconds)
    await TokenRequestLog.filter(lock_expires_at=None, last_attempt_at__lt=stale).delete()


#: Expired admin tokens deleted by each sign-in, oldest first: bounded work per request. A sign-in adds one
#: token, so a backlog of expired ones shrinks by this many less one per sign-in, and the table holds the
#: tokens issued within one token lifetime (sign-ins are throttled per address) plus what is left of a backlog.
EXPIRED_TOKENS_PER_SIGN_IN = 100


async def _forget_expired_tokens(now: dt.datetime) -> None:
    """Delete up to ``EXPIRED_TOKENS_PER_SIGN_IN`` expired admin tokens (an expired token is refused anyway)."""
    expired = (
        await AdminToken.filter(expires_at__lte=now)
        .order_by("expires_at")
        .limit(EXPIRED_TOKENS_PER_SIGN_IN)
        .values_list("id", flat=True)
    )
    if expired:
        await AdminToken.filter(id__in=list(expired)).delete()


async def second_factor_accepted(user: AdminUser, code: str | None) -> bool:
    """True when the admin has no two-factor sign-in, or ``code`` is its current code, not used before."""
    if not user.totp_enabled:
        return True
    if user.totp_secret is None:
        return False
    try:
        secret = secret_box.decrypt(user.totp_secret)
    except secret_box.SecretError:
        logger.warning("The two-factor secret of admin %s cannot be decrypted with the configured key", user.id)
        return False
    step = totp.matching_step(secret, code)
    return step is not None and await totp.accept_step(user.id, user.totp_secret, step)


async def issue_admin_token(
    username: str, password: str, config: ConfigSnapshot, otp: str | None = None
) -> AdminTokenIssued:
    """Count the attempt, check the password and, for an admin with two-factor sign-in, the code ``otp``
    (unless over the limit), and issue a token.

    Every refusal gives Magento's one message, and an unknown name costs the same as a wrong password. A
    code is checked only after the password, so a code is never used up by someone without the password.
    """
    username = name_key(username)  # as Magento's database compares names: "Admin" is "admin"
    if not username or not password:
        raise SignInError("missing_credentials")
    now = clock.now()
    attempt = await _count_attempt(username, now)
    limited = config.max_failures > 0
    if attempt.locked or (limited and attempt.number > config.max_failures):
        if not attempt.locked:
            await _lock(username, config, now)
        raise SignInError("locked")
    user = await AdminUser.get_or_none(username_key=username)
    valid = await verify_password(user.password_hash if user else None, password)
    reason: str | None = None
    if user is None:
        reason = "unknown_user"
    elif not valid:
        reason = "wrong_password"
    elif not user.is_active:
        reason = "disabled"
    elif not await second_factor_accepted(user, otp):
        reason = "wrong_code"
    if user is None or reason is not None:
        if limited and attempt.number >= config.max_failures:
            await _lock(username, config, now)
        await _forget_stale_attempts(config, now)
        raise SignInError(reason or "unknown_user")
    await TokenRequestLog.filter(user_name=username, user_type=THROTTLE_ADMIN).delete()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(hours=config.admin_token_lifetime_hours)
    await AdminToken.create(admin=user, token_hash=hash_token(token), created_at=now, expires_at=expires_at)
    await _forget_expired_tokens(now)
    return AdminTokenIssued(token, expires_at)


async def revoke_admin_tokens(admin_id: int, keep_token_id: int | None = None) -> int:
    """Revoke every token of an admin (but ``keep_token_id``, the one in use after a password change)."""
    sql = "UPDATE admin_token SET revoked = ? WHERE admin_id = ? AND revoked = ?"
    params: list[object] = [True, admin_id, False]
    if keep_token_id is not None:
        sql += " AND id <> ?"
        params.append(keep_token_id)
    return await execute(sql, *params)


async def unlock_admin(username: str) -> bool:
    """Clear the sign-in lock (and the failure count) of an admin; True when it was locked."""
    rows = TokenRequestLog.filter(user_name=name_key(username), user_type=THROTTLE_ADMIN)
    locked = await rows.filter(lock_expires_at__gt=clock.now()).exists()
    await rows.delete()
    return locked


async def reset_admin_password(username: str, password: str, *, disable_totp: bool = False) -> bool:
    """An operator's way back in: a new password, every token revoked, the lock cleared, and (if asked) two-factor
    sign-in turned off, for a lost authenticator. False when there is no such admin."""
    password_hash = await hash_password(password)
    changes: dict[str, object] = {"password_hash": password_hash}
    if disable_totp:
        changes.update(totp_enabled=False, totp_secret=None, totp_last_step=None)
    user = await AdminUser.get_or_none(username_key=name_key(username))
    if user is None or not await AdminUser.filter(id=user.id).update(**changes):
        return False
    await revoke_admin_tokens(user.id)
    await unlock_admin(user.username)
    return True


#: Magento's message for a wrong "Your Password" (``Integration/Controller/Adminhtml/Integration/Save.php``).
INVALID_CURRENT_PASSWORD = "You have entered an invalid password for current user."


class Confirmation(enum.Enum):
    """What checking an admin's own credentials found."""

    CONFIRMED = "confirmed"
    WRONG_PASSWORD = "wrong password"
    WRONG_CODE = "wrong code"


async def verify_current_password(admin_id: int, password: str | None, config: ConfigSnapshot) -> bool:
    """Magento's "Your Password" on a sensitive write: is ``password`` this admin's own?"""
    return await confirm_own_credentials(admin_id, password, config) is Confirmation.CONFIRMED


async def confirm_own_credentials(
    admin_id: int, password: str | None, config: ConfigSnapshot, *, code: str | None = None, check_code: bool = False
) -> Confirmation:
    """The admin's own password and, with ``check_code``, its two-factor code too, as one attempt.

    A wrong one counts toward the admin's lock-out exactly like a failed sign-in (the same atomic count,
    taken before the check, cleared only when everything asked for is right), so a code cannot be guessed
    more often than a password. When it locks the account, every token of the admin is revoked: whoever
    holds the token does not know the password. A failed sign-in never revokes tokens, or anyone could
    sign an admin out by guessing at the name.
    """
    user = await AdminUser.get_or_none(id=admin_id)
    if user is None or not password:
        return Confirmation.WRONG_PASSWORD
    now = clock.now()
    throttle_name = name_key(user.username)
    attempt = await _count_attempt(throttle_name, now)
    limited = config.max_failures > 0
    if attempt.locked or (limited and attempt.number > config.max_failures):
        if not attempt.locked:
            await _lock(throttle_name, config, now)
        await revoke_admin_tokens(user.id)
        return Confirmation.WRONG_PASSWORD
    if not (user.is_active and await verify_password(user.password_hash, password)):
        found = Confirmation.WRONG_PASSWORD
    elif check_code and not await second_factor_accepted(user, code):
        found = Confirmation.WRONG_CODE
    else:
        await TokenRequestLog.filter(user_name=throttle_name, user_type=THROTTLE_ADMIN).delete()
        return Confirmation.CONFIRMED
    if limited and attempt.number >= config.max_failures:
        await _lock(throttle_name, config, now)
        await revoke_admin_tokens(user.id)
    return found


async def authenticate_admin_token(token: str) -> Principal | None:
    """The admin behind a bearer token; None when no admin token has this value.

    Raises ``InvalidTokenError`` for a known token that is expired or revoked, or whose admin is disabled.
    While the store requires two-factor sign-in, an admin who has not turned it on holds no resources.
    """
    row = await fetch_one(
        "SELECT t.id, t.admin_id, t.expires_at, t.revoked, u.username, u.is_active, u.totp_enabled, "
        "r.all_resources, r.resources, "
        f"{STORE_CONFIG_COLUMN} AS store_config "
        "FROM admin_token t JOIN admin_user u ON u.id = t.admin_id LEFT JOIN admin_role r ON r.id = u.role_id "
        "WHERE t.token_hash = ?",
        hash_token(token),
    )
    if row is None:
        return None
    if row["revoked"] or not row["is_active"] or as_datetime(row["expires_at"]) <= clock.now():
        raise InvalidTokenError
    # The role and the store's settings (its two-factor rule among them) are read with the token on every
    # request, so a change applies to the next request anywhere.
    config = snapshot_of(row["store_config"])
    required = config.require_admin_totp
    enabled = bool(row["totp_enabled"])
    resources = granted_resources(row["all_resources"], row["resources"]) if enabled or not required else frozenset()
    return admin_principal(
        row["admin_id"],
        row["username"],
        row["id"],
        resources,
        totp_required=required,
        totp_enabled=enabled,
        store_config=config,
    )
