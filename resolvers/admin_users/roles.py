"""What can be done to a role? List, read, create, edit and delete User Roles.

A role's grant is stored expanded exactly like an integration's (``auth.grants.GrantSpec``): each ticked node
brings its subtree, ancestors are partial, and a resource added to the tree later is not held until the
role is saved again. Admins' principals read their role with their token on every request
(``auth.admin_tokens.authenticate_admin_token``), so an edit applies to the next request in every process.
"""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit import Action, Target, record
from audit.diff import changes, resource_diff
from auth.clock import clock
from auth.grants import GrantSpec, granted_resources
from models import AdminRole
from models.sql import execute, fetch_all, fetch_one
from models.values import as_bool
from resolvers.admin_users import guards
from resolvers.admin_users.validation import (
    ROLE_NODE,
    RoleInput,
    check_role,
    global_id,
    not_found_message,
    parse_global_id,
)
from resolvers.integrations.grants import grant_guard
from resolvers.pagination import Ordering, Page, keyset_page
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.your_password import current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

#: Magento's grid order: by name, the id breaking ties.
BY_NAME = Ordering("admin_role", name="name")
#: A role as every read shows it, with the number of users holding it.
SELECT_ROLES = (
    "SELECT id, name, all_resources, resources, partial_resources, selected, "
    "(SELECT COUNT(*) FROM admin_user WHERE admin_user.role_id = admin_role.id) AS user_count "
    "FROM admin_role"
)

IN_USE_MESSAGE = "This role is assigned to users: give them another role before deleting it."


def name_taken_message(name: str) -> str:
    return f'A role with the name "{name}" already exists.'


def _json_list(value: Any) -> list[str]:
    """A JSON list column from a raw row (text on both drivers, as no codec is registered)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value or ())


@dataclasses.dataclass(frozen=True, slots=True)
class RoleView:
    """A role as the API shows it."""

    id: int
    name: str
    all_resources: bool
    #: Held: ``["Magento_Backend::all"]`` for All, else the chosen nodes with their subtrees.
    resources: list[str]
    partial_resources: list[str]
    selected: list[str]
    user_count: int

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> RoleView:
        everything = as_bool(row["all_resources"])
        return cls(
            id=int(row["id"]),
            name=row["name"],
            all_resources=everything,
            resources=sorted(granted_resources(everything, row["resources"])),
            partial_resources=[] if everything else _json_list(row["partial_resources"]),
            selected=[] if everything else _json_list(row["selected"]),
            user_count=int(row["user_count"]),
        )

    @property
    def global_id(self) -> str:
        return global_id(ROLE_NODE, self.id)


# --------------------------------------------------------------------------------------- reads


async def role_by_id(role_id: int) -> RoleView | None:
    row = await fetch_one(f"{SELECT_ROLES} WHERE id = ?", role_id)
    return RoleView.from_row(row) if row is not None else None


async def get_role(value: str) -> RoleView | None:
    role_id = parse_global_id(value, ROLE_NODE)
    return await role_by_id(role_id) if role_id is not None else None


async def roles_by_ids(ids: list[int]) -> dict[int, RoleView]:
    if not ids:
        return {}
    rows = await fetch_all(f"{SELECT_ROLES} WHERE id IN ({', '.join('?' * len(ids))})", *ids)
    return {int(row["id"]): RoleView.from_row(row) for row in rows}


async def roles_page(context: Context, *, first: int | None, after: str | None) -> Page:
    """A page of roles by name; ``first`` defaults to a whole page."""
    max_page_size = context.settings.max_page_size
    return await keyset_page(
        BY_NAME,
        SELECT_ROLES,
        [],
        [],
        first=max_page_size if first is None else first,
        after=after,
        max_page_size=max_page_size,
    )


async def role_choices() -> list[tuple[int, str]]:
    """Every role's (id, name), by name ignoring case: what a user may be given, for whoever manages users.

    Roles are few (admins create them one by one), so the list is whole, not a page.
    """
    rows = await fetch_all("SELECT id, name FROM admin_role ORDER BY LOWER(name), name, id")
    return [(int(row["id"]), row["name"]) for row in rows]


async def own_role_id(admin_id: int | None) -> int | None:
    """The role the calling admin holds now."""
    if admin_id is None:
        return None
    row = await fetch_one("SELECT role_id FROM admin_user WHERE id = ?", admin_id)
    return int(row["role_id"]) if row is not None and row["role_id"] is not None else None


async def viewer_role(admin_id: int | None) -> tuple[int, str] | None:
    """The calling admin's role (id, name), for ``viewer.role``."""
    if admin_id is None:
        return None
    row = await fetch_one(
        "SELECT r.id, r.name FROM admin_user u JOIN admin_role r ON r.id = u.role_id WHERE u.id = ?", admin_id
    )
    return (int(row["id"]), row["name"]) if row is not None else None


# --------------------------------------------------------------------------------------- writes


def _grant_values(grant: GrantSpec) -> dict[str, Any]:
    return {
        "all_resources": grant.all_resources,
        "resources": sorted(grant.held),
        "partial_resources": sorted(grant.partial),
        "selected": list(grant.selected),
    }


def _as_json(values: dict[str, Any]) -> dict[str, Any]:
    """Column values for raw SQL: the JSON columns' lists as JSON text (as the ORM writes them)."""
    return {k: json.dumps(v, separators=(",", ":")) if isinstance(v, list) else v for k, v in values.items()}


async def _name_taken(key: str, exclude_id: int | None = None) -> bool:
    query = AdminRole.filter(name_key=key)
    return await (query.exclude(id=exclude_id) if exclude_id is not None else query).exists()


async def create_role(context: Context, data: RoleInput, current_password: str | None) -> Outcome[RoleView]:
    """Create a role holding no more than the caller holds."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    checked = check_role(data, creating=True)
    if checked.problems:
        return Outcome(problems=checked.problems)
    assert checked.grant is not None
    problems = grant_guard(context.principal, checked.grant, ("input",))
    if problems:
        return Outcome(problems=problems)
    name = checked.fields["name"]
    if await _name_taken(checked.fields["name_key"]):
        return Outcome.refused(("input", "name"), name_taken_message(name), UserErrorCode.UNIQUE)
    try:
        async with in_transaction():
            row = await AdminRole.create(**checked.fields, **_grant_values(checked.grant))
            details = {"name": name, **_grant_shown(checked.grant)}
            await record(Action.ADMIN_ROLE_CREATED, target_type=Target.ADMIN_ROLE, target_id=row.id, details=details)
    except IntegrityError:
        # Another request took the name (by key) between the check and the insert.
        return Outcome.refused(("input", "name"), name_taken_message(name), UserErrorCode.UNIQUE)
    return Outcome(await role_by_id(row.id))


async def _role_for_change(context: Context, value: str, field: tuple[str, ...]) -> Outcome[RoleView]:
    """The role to edit or delete, when it holds nothing the caller lacks."""
    role = await get_role(value)
    if role is None:
        return Outcome.refused(field, not_found_message("role", value), UserErrorCode.NOT_FOUND)
    problems = guards.manage_role_problems(context.principal, role.resources, field)
    if problems:
        return Outcome(problems=problems)
    return Outcome(role)


async def update_role(context: Context, value: str, data: RoleInput, current_password: str | None) -> Outcome[RoleView]:
    """Rename a role or re-save its grant (expanded in the current tree)."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    found = await _role_for_change(context, value, ("input", "id"))
    role = found.value
    if role is None:
        return found
    if role.id == await own_role_id(context.principal.admin_id):
        return Outcome(problems=guards.refused(("input", "id"), guards.OWN_ROLE_MESSAGE))
    checked = check_role(data, creating=False, stored_selection=role.selected)
    if checked.problems:
        return Outcome(problems=checked.problems)
    values: dict[str, Any] = dict(checked.fields)
    if checked.grant is not None:
        problems = grant_guard(context.principal, checked.grant, ("input",))
        if problems:
            return Outcome(problems=problems)
        values.update(_grant_values(checked.grant))
    name = checked.fields.get("name")
    if name is not None and await _name_taken(checked.fields["name_key"], exclude_id=role.id):
        return Outcome.refused(("input", "name"), name_taken_message(name), UserErrorCode.UNIQUE)
    values["updated_at"] = clock.now()
    narrowing = checked.grant is not None and not checked.grant.all_resources
    try:
        async with in_transaction():
            updated = await guards.update_role_row(role.id, _as_json(values), narrowing=narrowing)
            if updated:
                await _record_update(role, name, checked.grant)
    except IntegrityError:
        return Outcome.refused(("input", "name"), name_taken_message(name or role.name), UserErrorCode.UNIQUE)
    if not updated:
        return await _why_not_updated(role.id, value)
    return Outcome(await role_by_id(role.id))


def _grant_shown(grant: GrantSpec) -> dict[str, Any]:
    """A grant as events show it: All or Custom, and the resources it holds (expanded)."""
    return {"resourceAccess": "ALL" if grant.all_resources else "CUSTOM", "resources": sorted(grant.held)}


async def _record_update(role: RoleView, name: str | None, grant: GrantSpec | None) -> None:
    """The event of a role's change: its new name, and what its grant gained and lost (held resources)."""
    details: dict[str, Any] = {"name": role.name, "changes": changes({"name": role.name}, {"name": name or role.name})}
    if grant is not None:
        access = {"old": "ALL" if role.all_resources else "CUSTOM", "new": _grant_shown(grant)["resourceAccess"]}
        if access["old"] != access["new"]:
            details["changes"]["resourceAccess"] = access
        details.update(resource_diff(role.resources, grant.held))
    await record(Action.ADMIN_ROLE_UPDATED, target_type=Target.ADMIN_ROLE, target_id=role.id, details=details)


async def _why_not_updated(role_id: int, value: str) -> Outcome[RoleView]:
    if await role_by_id(role_id) is None:
        return Outcome.refused(("input", "id"), not_found_message("role", value), UserErrorCode.NOT_FOUND)
    field = ("input", "resource_access")
    return Outcome(problems=guards.refused(field, guards.LAST_ALL_ROLE_MESSAGE))


async def delete_role(context: Context, value: str, current_password: str | None) -> Outcome[str]:
    """Delete a role no user holds (the outcome is its global id)."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await _role_for_change(context, value, ("id",))
    role = found.value
    if role is None:
        return Outcome(problems=found.problems)
    if role.id == await own_role_id(context.principal.admin_id):
        return Outcome(problems=guards.refused(("id",), guards.DELETE_OWN_ROLE_MESSAGE))
    try:
        async with in_transaction():
            deleted = await execute(
                "DELETE FROM admin_role WHERE id = ? AND NOT EXISTS (SELECT 1 FROM admin_user WHERE role_id = ?)",
                role.id,
                role.id,
            )
            if deleted:
                details = {"name": role.name, "resourceAccess": "ALL" if role.all_resources else "CUSTOM"}
                await record(
                    Action.ADMIN_ROLE_DELETED, target_type=Target.ADMIN_ROLE, target_id=role.id, details=details
                )
    except IntegrityError:  # a user was given the role between the check and the delete
        deleted = 0
    if deleted:
        return Outcome(role.global_id)
    if await role_by_id(role.id) is None:
        return Outcome.refused(("id",), not_found_message("role", value), UserErrorCode.NOT_FOUND)
    return Outcome(problems=[Problem(("id",), IN_USE_MESSAGE, UserErrorCode.IN_USE)])
