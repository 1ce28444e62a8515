"""What can be done to an admin user? List, read, create, edit, delete and sign out admin users, and change
one's own password.

Every write asks for the caller's own password first (Magento's "Your Password"), then applies the
escalation guard and the rules about oneself (``guards``). Deactivating a user, or setting another user's
password, revokes that user's tokens; a deleted user's tokens go with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit import Action, Target, record
from audit.diff import changes
from auth.admin_tokens import THROTTLE_ADMIN, revoke_admin_tokens
from auth.grants import granted_resources
from auth.passwords import hash_password, password_rule_problems
from models import AdminUser, TokenRequestLog
from models.names import name_key
from models.sql import fetch_all, fetch_one
from models.values import as_bool, as_datetime
from resolvers.admin_users import guards
from resolvers.admin_users.roles import role_by_id
from resolvers.admin_users.validation import (
    USER_NODE,
    UserInput,
    check_user,
    global_id,
    not_found_message,
    parse_global_id,
)
from resolvers.pagination import Ordering, Page, keyset_page
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.your_password import current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

#: Ordered by user name, the id breaking ties.
BY_USERNAME = Ordering("admin_user", id="admin_user.id", name="username")
#: A user as every read shows it, with its role's name and grant (never the password hash or TOTP secret).
SELECT_USERS = (
    "SELECT admin_user.id AS id, admin_user.username AS username, admin_user.email AS email, "
    "admin_user.first_name AS first_name, admin_user.last_name AS last_name, admin_user.is_active AS is_active, "
    "admin_user.totp_enabled AS totp_enabled, admin_user.created_at AS created_at, admin_user.role_id AS role_id, "
    "admin_role.name AS role_name, admin_role.all_resources AS role_all_resources, "
    "admin_role.resources AS role_resources "
    "FROM admin_user LEFT JOIN admin_role ON admin_role.id = admin_user.role_id"
)

USERNAME_TAKEN_MESSAGE = "A user with the same user name already exists."
IN_PROGRESS_MESSAGE = "The user's role was changed meanwhile: reload and try again."
PASSWORD_REUSED_MESSAGE = "Sorry, but this password has already been used. Please create another."


@dataclasses.dataclass(frozen=True, slots=True)
class UserView:
    """An admin user as the API shows it, with what its role holds (for the escalation guard)."""

    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    totp_enabled: bool
    created_at: dt.datetime
    role_id: int | None
    role_name: str | None
    #: What the user's role holds (``Magento_Backend::all`` for All; nothing without a role).
    role_resources: frozenset[str]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> UserView:
        has_role = row["role_id"] is not None
        return cls(
            id=int(row["id"]),
            username=row["username"],
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            is_active=as_bool(row["is_active"]),
            totp_enabled=as_bool(row["totp_enabled"]),
            created_at=as_datetime(row["created_at"]),
            role_id=int(row["role_id"]) if has_role else None,
            role_name=row["role_name"] if has_role else None,
            role_resources=(
                granted_resources(row["role_all_resources"], row["role_resources"]) if has_role else frozenset()
            ),
        )

    @property
    def global_id(self) -> str:
        return global_id(USER_NODE, self.id)


# --------------------------------------------------------------------------------------- reads


async def user_by_id(user_id: int) -> UserView | None:
    row = await fetch_one(f"{SELECT_USERS} WHERE admin_user.id = ?", user_id)
    return UserView.from_row(row) if row is not None else None


async def users_by_ids(ids: list[int]) -> dict[int, UserView]:
    if not ids:
        return {}
    rows = await fetch_all(f"{SELECT_USERS} WHERE admin_user.id IN ({', '.join('?' * len(ids))})", *ids)
    return {int(row["id"]): UserView.from_row(row) for row in rows}


async def get_user(value: str) -> UserView | None:
    user_id = parse_global_id(value, USER_NODE)
    return await user_by_id(user_id) if user_id is not None else None


async def users_page(context: Context, *, first: int | None, after: str | None) -> Page:
    """A page of users by user name; ``first`` defaults to a whole page."""
    max_page_size = context.settings.max_page_size
    return await keyset_page(
        BY_USERNAME,
        SELECT_USERS,
        [],
        [],
        first=max_page_size if first is None else first,
        after=after,
        max_page_size=max_page_size,
    )


async def _found(value: str, field: tuple[str, ...]) -> Outcome[UserView]:
    user = await get_user(value)
    if user is None:
        return Outcome.refused(field, not_found_message("user", value), UserErrorCode.NOT_FOUND)
    return Outcome(user)


async def _username_taken(username: str, exclude_id: int | None = None) -> bool:
    """Another user has this name, ignoring case and Unicode forms (``models.names.name_key``)."""
    query = AdminUser.filter(username_key=name_key(username))
    return await (query.exclude(id=exclude_id) if exclude_id is not None else query).exists()


# --------------------------------------------------------------------------------------- writes


async def create_user(context: Context, data: UserInput, current_password: str | None) -> Outcome[UserView]:
    """Create a user with a role that holds no more than the caller holds."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    checked = check_user(data, creating=True)
    if checked.problems:
        return Outcome(problems=checked.problems)
    assert checked.role_id is not None and checked.password is not None
    role = await role_by_id(checked.role_id)
    if role is None:
        return Outcome.refused(("input", "role_id"), not_found_message("role", data.role_id), UserErrorCode.NOT_FOUND)
    problems = guards.assign_role_problems(context.principal, role.resources, ("input", "role_id"))
    if problems:
        return Outcome(problems=problems)
    username = checked.fields["username"]
    if await _username_taken(username):
        return Outcome.refused(("input", "username"), USERNAME_TAKEN_MESSAGE, UserErrorCode.UNIQUE)
    password_hash = await hash_password(checked.password)
    try:
        async with in_transaction():
            row = await AdminUser.create(
                **checked.fields, username_key=name_key(username), password_hash=password_hash, role_id=role.id
            )
            details = {**_shown(checked.fields), "role": role.name}
            await record(Action.ADMIN_USER_CREATED, target_type=Target.ADMIN_USER, target_id=row.id, details=details)
    except IntegrityError:
        # Between the checks and the insert: another request took the name, or deleted the role.
        if await _username_taken(username):
            return Outcome.refused(("input", "username"), USERNAME_TAKEN_MESSAGE, UserErrorCode.UNIQUE)
        return Outcome.refused(("input", "role_id"), not_found_message("role", data.role_id), UserErrorCode.NOT_FOUND)
    return Outcome(await user_by_id(row.id))


async def update_user(context: Context, value: str, data: UserInput, current_password: str | None) -> Outcome[UserView]:
    """Edit a user; fields left out keep their values."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    found = await _found(value, ("input", "id"))
    user = found.value
    if user is None:
        return found
    principal = context.principal
    problems = guards.manage_user_problems(principal, user.role_resources, ("input", "id"))
    if problems:
        return Outcome(problems=problems)
    checked = check_user(data, creating=False)
    if checked.problems:
        return Outcome(problems=checked.problems)
    is_self = user.id == principal.admin_id
    values: dict[str, Any] = {k: v for k, v in checked.fields.items() if v != getattr(user, k)}
    if checked.role_id is not None and checked.role_id != user.role_id:
        problems = await _role_change_problems(context, checked.role_id, str(data.role_id), is_self=is_self)
        if problems:
            return Outcome(problems=problems)
        values["role_id"] = checked.role_id
    if is_self and values.get("is_active") is False:
        return Outcome(problems=guards.refused(("input", "is_active"), guards.DEACTIVATE_SELF_MESSAGE))
    if "username" in values:
        if await _username_taken(values["username"], exclude_id=user.id):
            return Outcome.refused(("input", "username"), USERNAME_TAKEN_MESSAGE, UserErrorCode.UNIQUE)
        values["username_key"] = name_key(values["username"])
    if checked.password is not None:
        values["password_hash"] = await hash_password(checked.password)
    if not values:
        return Outcome(user)
    try:
        async with in_transaction():
            updated = await guards.update_user_row(user.id, values, role_read=user.role_id)
            if updated:
                await _after_update(context, user, values, is_self=is_self)
    except IntegrityError:
        if "username" in values and await _username_taken(values["username"], exclude_id=user.id):
            return Outcome.refused(("input", "username"), USERNAME_TAKEN_MESSAGE, UserErrorCode.UNIQUE)
        return Outcome.refused(("input", "role_id"), not_found_message("role", data.role_id), UserErrorCode.NOT_FOUND)
    if not updated:
        return await _why_not_updated(user, value, values)
    return Outcome(await user_by_id(user.id))


#: The columns an update may change, as events name them.
_SHOWN_COLUMNS = {
    "username": "username",
    "email": "email",
    "first_name": "firstName",
    "last_name": "lastName",
    "is_active": "isActive",
}


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """The columns of ``values`` that events show (never the password hash), by their API names."""
    return {shown: values[column] for column, shown in _SHOWN_COLUMNS.items() if column in values}


async def _after_update(context: Context, user: UserView, values: dict[str, Any], *, is_self: bool) -> None:
    """In the update's transaction: the tokens a deactivation or a new password ends, and the event."""
    if values.get("is_active") is False:
        await revoke_admin_tokens(user.id, reason="deactivated")
    elif "password_hash" in values:
        # Whoever holds this user's tokens may not know the new password; the caller keeps the one in use.
        keep = context.principal.token_id if is_self else None
        await revoke_admin_tokens(user.id, keep_token_id=keep, reason="password_changed")
    old = {shown: getattr(user, column) for column, shown in _SHOWN_COLUMNS.items()}
    changed: dict[str, Any] = changes(old, _shown(values))
    if "role_id" in values:
        role = await role_by_id(values["role_id"])
        changed["role"] = {"old": user.role_name, "new": role.name if role else None}
    details: dict[str, Any] = {"username": user.username, "changes": changed}
    if "password_hash" in values:
        details["passwordChanged"] = True
    await record(Action.ADMIN_USER_UPDATED, target_type=Target.ADMIN_USER, target_id=user.id, details=details)


async def _role_change_problems(context: Context, role_id: int, value: str, *, is_self: bool) -> list[Problem]:
    if is_self:
        return guards.refused(("input", "role_id"), guards.CHANGE_OWN_ROLE_MESSAGE)
    role = await role_by_id(role_id)
    if role is None:
        return [Problem(("input", "role_id"), not_found_message("role", value), UserErrorCode.NOT_FOUND)]
    return guards.assign_role_problems(context.principal, role.resources, ("input", "role_id"))


async def _why_not_updated(user: UserView, value: str, values: dict[str, Any]) -> Outcome[UserView]:
    """The conditional update changed nothing: the user is gone, its role changed meanwhile, or it is the
    last active admin with All."""
    now = await user_by_id(user.id)
    if now is None:
        return Outcome.refused(("input", "id"), not_found_message("user", value), UserErrorCode.NOT_FOUND)
    if now.role_id != user.role_id:
        return Outcome.refused(("input", "id"), IN_PROGRESS_MESSAGE, UserErrorCode.IN_PROGRESS)
    field = "is_active" if values.get("is_active") is False else "role_id"
    return Outcome(problems=guards.refused(("input", field), guards.LAST_ADMIN_MESSAGE))


async def delete_user(context: Context, value: str, current_password: str | None) -> Outcome[str]:
    """Delete a user (the outcome is its global id); its tokens go with it."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await _found(value, ("id",))
    user = found.value
    if user is None:
        return Outcome(problems=found.problems)
    if user.id == context.principal.admin_id:
        return Outcome(problems=guards.refused(("id",), guards.DELETE_SELF_MESSAGE))
    problems = guards.manage_user_problems(context.principal, user.role_resources, ("id",))
    if problems:
        return Outcome(problems=problems)
    async with in_transaction():
        deleted = await guards.delete_user_row(user.id)
        if deleted:
            # A new user of the same name starts with no failures and no lock.
            await TokenRequestLog.filter(user_name=name_key(user.username), user_type=THROTTLE_ADMIN).delete()
            details = {"username": user.username, "role": user.role_name}
            await record(Action.ADMIN_USER_DELETED, target_type=Target.ADMIN_USER, target_id=user.id, details=details)
    if deleted:
        return Outcome(user.global_id)
    if await user_by_id(user.id) is None:
        return Outcome.refused(("id",), not_found_message("user", value), UserErrorCode.NOT_FOUND)
    return Outcome(problems=guards.refused(("id",), guards.LAST_ADMIN_MESSAGE))


async def invalidate_tokens(context: Context, value: str, current_password: str | None) -> Outcome[int]:
    """Revoke every token of a user (Magento's "Force Sign-In"); the outcome is how many were live."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await _found(value, ("user_id",))
    user = found.value
    if user is None:
        return Outcome(problems=found.problems)
    problems = guards.manage_user_problems(context.principal, user.role_resources, ("user_id",))
    if problems:
        return Outcome(problems=problems)
    return Outcome(await revoke_admin_tokens(user.id, reason="invalidated"))


async def change_own_password(context: Context, current_password: str | None, new_password: str) -> Outcome[None]:
    """The caller's own password; every other token of the caller is revoked, the one in use is kept."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    problems = [Problem(("new_password",), m, UserErrorCode.INVALID) for m in password_rule_problems(new_password)]
    if not problems and new_password == current_password:
        problems = [Problem(("new_password",), PASSWORD_REUSED_MESSAGE, UserErrorCode.INVALID)]
    admin_id = context.principal.admin_id
    if problems or admin_id is None:
        return Outcome(problems=problems)
    password_hash = await hash_password(new_password)
    async with in_transaction():
        await AdminUser.filter(id=admin_id).update(password_hash=password_hash)
        await revoke_admin_tokens(admin_id, keep_token_id=context.principal.token_id, reason="password_changed")
        await record(Action.ADMIN_PASSWORD_CHANGED, target_type=Target.ADMIN_USER, target_id=admin_id)
    return Outcome()
