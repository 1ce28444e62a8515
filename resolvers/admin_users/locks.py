"""Who is locked out, and unlocking (System > Permissions > Locked Users).

A lock is the sign-in throttle's row for the admin's name (Magento's ``oauth_token_request_log``), set after
too many failed sign-ins or wrong "Your Password" entries. Unlocking deletes the row, which also starts the
count of failures again; as in Magento, it asks for no password.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from auth.admin_tokens import THROTTLE_ADMIN, unlock_admin
from auth.clock import clock
from models.sql import fetch_all
from models.values import as_datetime
from resolvers.admin_users.users import UserView, get_user
from resolvers.admin_users.validation import USER_NODE, global_id, not_found_message
from resolvers.problems import Outcome, UserErrorCode


@dataclasses.dataclass(frozen=True, slots=True)
class LockView:
    user_id: int
    username: str
    lock_expires_at: dt.datetime
    failures_count: int

    @property
    def user_global_id(self) -> str:
        return global_id(USER_NODE, self.user_id)


async def locked_users() -> list[LockView]:
    """Admins whose lock has not run out, by user name (locks of names that are no admin are not shown)."""
    rows = await fetch_all(
        "SELECT u.id, u.username, l.lock_expires_at, l.failures_count "
        "FROM oauth_token_request_log l JOIN admin_user u ON u.username_key = l.user_name "
        "WHERE l.user_type = ? AND l.lock_expires_at > ? ORDER BY u.username",
        THROTTLE_ADMIN,
        clock.now(),
    )
    return [
        LockView(int(r["id"]), r["username"], as_datetime(r["lock_expires_at"]), int(r["failures_count"])) for r in rows
    ]


async def unlock_user(value: str) -> Outcome[UserView]:
    """Clear a user's lock and failure count (nothing to do when it is not locked)."""
    user = await get_user(value)
    if user is None:
        return Outcome.refused(("id",), not_found_message("user", value), UserErrorCode.NOT_FOUND)
    await unlock_admin(user.username)
    return Outcome(user)
