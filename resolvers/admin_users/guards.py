"""May this caller make this change? The escalation guard, the rules about oneself, and the last-admin rule.

- Escalation guard (as integrations' ``grant_guard``): nobody creates or edits a role holding a resource they
  lack, gives a user such a role, or edits, deletes or signs out a user whose role holds more than they do
  (``OUT_OF_SCOPE_PERMISSION``).
- Oneself: nobody edits or deletes their own role, changes their own role, deactivates or deletes themselves
  (``NOT_ALLOWED``): a slip would lock them out, and an edit of one's own role is an escalation.
- The last-admin rule: some active admin holding All always remains. The change is one conditional
  statement whose ``WHERE`` requires another active admin with All to remain, so two requests (through any
  number of processes) cannot each remove "the other one". SQLite runs writes one at a time; on
  PostgreSQL, whose statements see the data as it was when they started, the statement runs after locking
  the roles that hold All (``FOR UPDATE``), so it sees what a concurrent change committed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from auth.grants import out_of_scope
from auth.principal import Principal
from models.sql import execute, fetch_all
from resolvers.problems import Problem, UserErrorCode

OWN_ROLE_MESSAGE = "You can't edit your own role."
DELETE_OWN_ROLE_MESSAGE = "You cannot delete self-assigned roles."
CHANGE_OWN_ROLE_MESSAGE = "You can't change your own role."
DEACTIVATE_SELF_MESSAGE = "You can't deactivate your own account."
DELETE_SELF_MESSAGE = "You cannot delete your own account."
LAST_ADMIN_MESSAGE = (
    "This is the last active admin with All resources: another active admin with All must remain, "
    "or nobody could manage the store."
)
LAST_ALL_ROLE_MESSAGE = (
    "This is the last role with All resources that an active admin holds: another must remain, "
    "or nobody could manage the store."
)


# ------------------------------------------------------------------------------ escalation guard


def _scope_problem(principal: Principal, held: Iterable[str], field: tuple[str, ...], what: str) -> list[Problem]:
    missing = out_of_scope(principal, held)
    if not missing:
        return []
    message = f"{what} resources you don't hold: {', '.join(missing)}."
    return [Problem(field, message, UserErrorCode.OUT_OF_SCOPE_PERMISSION)]


def manage_role_problems(principal: Principal, held: Iterable[str], field: tuple[str, ...]) -> list[Problem]:
    """Editing or deleting a role that holds more than the caller."""
    return _scope_problem(principal, held, field, "You can't manage a role that holds")


def manage_user_problems(principal: Principal, held: Iterable[str], field: tuple[str, ...]) -> list[Problem]:
    """Editing, deleting or signing out a user whose role holds more than the caller."""
    return _scope_problem(principal, held, field, "You can't manage a user whose role holds")


def assign_role_problems(principal: Principal, held: Iterable[str], field: tuple[str, ...]) -> list[Problem]:
    """Giving a user a role that holds more than the caller."""
    return _scope_problem(principal, held, field, "You can't give a user a role that holds")


def refused(field: tuple[str, ...], message: str) -> list[Problem]:
    return [Problem(field, message, UserErrorCode.NOT_ALLOWED)]


# ------------------------------------------------------------------------------ the last-admin rule

#: The roles that hold All, locked so that changes the rule guards run one at a time (PostgreSQL).
_LOCK_ALL_ROLES = "SELECT id FROM admin_role WHERE all_resources = ? ORDER BY id FOR UPDATE"
#: The ``admin_user`` row being changed is not an active admin holding All (parameters: False, True).
_NOT_AN_ALL_ADMIN = (
    "(admin_user.is_active = ? OR admin_user.role_id IS NULL "
    "OR admin_user.role_id NOT IN (SELECT id FROM admin_role WHERE all_resources = ?))"
)
#: Another active admin holding All remains (parameters: the user's id, True, True).
_ANOTHER_ALL_ADMIN = (
    "EXISTS (SELECT 1 FROM admin_user other JOIN admin_role r ON r.id = other.role_id "
    "WHERE other.id <> ? AND other.is_active = ? AND r.all_resources = ?)"
)
#: The role being changed is one that active admins hold with All, and no other such role remains.
_LAST_ALL_ROLE = (
    "admin_role.all_resources = ? "
    "AND EXISTS (SELECT 1 FROM admin_user WHERE admin_user.role_id = admin_role.id AND admin_user.is_active = ?) "
    "AND NOT EXISTS (SELECT 1 FROM admin_user other JOIN admin_role r ON r.id = other.role_id "
    "WHERE r.id <> admin_role.id AND other.is_active = ? AND r.all_resources = ?)"
)


@contextlib.asynccontextmanager
async def _serialised() -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction in which a change the last-admin rule guards sees every such change committed before it."""
    async with in_transaction() as conn:
        if conn.capabilities.dialect == "postgres":
            await fetch_all(_LOCK_ALL_ROLES, True, conn=conn)
        yield conn


def _assignments(values: dict[str, Any]) -> tuple[str, list[Any]]:
    """``SET`` text and its parameters; the column names are the code's own, never input."""
    return ", ".join(f"{column} = ?" for column in values), list(values.values())


async def delete_user_row(user_id: int) -> int:
    """Delete a user unless it is the last active admin holding All (its tokens go with it, by cascade)."""
    sql = f"DELETE FROM admin_user WHERE id = ? AND ({_NOT_AN_ALL_ADMIN} OR {_ANOTHER_ALL_ADMIN})"
    async with _serialised() as conn:
        return await execute(sql, user_id, False, True, user_id, True, True, conn=conn)


async def update_user_row(user_id: int, values: dict[str, Any], *, role_read: int | None) -> int:
    """Update a user, unless its role changed since it was read (``role_read``, the escalation guard read
    it) or the change would leave no active admin holding All: a deactivation, or a move to another role
    that does not hold All, of the last one."""
    assignments, params = _assignments(values)
    sql = f"UPDATE admin_user SET {assignments} WHERE id = ? AND COALESCE(role_id, 0) = ?"
    params += [user_id, role_read or 0]
    if values.get("is_active") is False:
        sql += f" AND ({_NOT_AN_ALL_ADMIN} OR {_ANOTHER_ALL_ADMIN})"
        params += [False, True, user_id, True, True]
    elif "role_id" in values:
        new_role_holds_all = "? IN (SELECT id FROM admin_role WHERE all_resources = ?)"
        sql += f" AND ({_NOT_AN_ALL_ADMIN} OR {new_role_holds_all} OR {_ANOTHER_ALL_ADMIN})"
        params += [False, True, values["role_id"], True, user_id, True, True]
    else:
        return await execute(sql, *params)
    async with _serialised() as conn:
        return await execute(sql, *params, conn=conn)


async def update_role_row(role_id: int, values: dict[str, Any], *, narrowing: bool) -> int:
    """Update a role; when ``narrowing`` (All to Custom), not the last role with All that active admins hold."""
    assignments, params = _assignments(values)
    sql = f"UPDATE admin_role SET {assignments} WHERE id = ?"
    params.append(role_id)
    if not narrowing:
        return await execute(sql, *params)
    sql += f" AND NOT ({_LAST_ALL_ROLE})"
    params += [True, True, True, True]
    async with _serialised() as conn:
        return await execute(sql, *params, conn=conn)
