"""System > Permissions: admin users, User Roles, Locked Users, and the caller's own password.

Roles are grants on the same ACL tree as integrations (All or Custom, stored expanded). Every field is for
admins only, holding the resource of its screen, whatever an integration holds. A user's role and the
viewer's role are shown as ``AdminRoleSummary`` (id and name): reading a role's grant is ``adminRole``'s, for
those who hold User Roles. Likewise a lock shows ``AdminUserSummary``, and the full ``AdminUser`` of a
payload needs All Users (so an admin who holds only Locked Users selects ``userErrors`` when unlocking).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import strawberry
from strawberry import relay

from resolvers.admin_users import locks, roles, users
from resolvers.admin_users.validation import ROLE_NODE, RoleInput, UserInput, global_id
from resolvers.pagination import Row
from resolvers.problems import Outcome
from schema.core import UserError, user_errors
from schema.directives import Resource, admin_only
from schema.integrations import ResourceAccess
from schema.pagination import Connection, connection

PASSWORD_DESCRIPTION = (
    'Your own password ("Your Password"), asked again for every change here. A wrong one is reported '
    "alone (INVALID_PASSWORD), nothing is written, and it counts toward your lock-out."
)


@strawberry.type(description="A role's id (the `AdminRole` global id) and name.")
class AdminRoleSummary:
    id: strawberry.ID
    name: str

    @classmethod
    def maybe(cls, role: tuple[int, str] | None) -> AdminRoleSummary | None:
        if role is None:
            return None
        return cls(id=strawberry.ID(global_id(ROLE_NODE, role[0])), name=role[1])


@strawberry.type(description="A role a user may be given: its id (the `AdminRole` global id) and name.")
class AdminRoleChoice:
    id: strawberry.ID
    name: str

    @classmethod
    def of(cls, role: tuple[int, str]) -> AdminRoleChoice:
        return cls(id=strawberry.ID(global_id(ROLE_NODE, role[0])), name=role[1])


@strawberry.type(description="A User Role: a named grant on the ACL resource tree, held by admin users.")
class AdminRole(relay.Node):
    id: relay.NodeID[int]
    name: str
    resource_access: ResourceAccess
    resources: list[str] = strawberry.field(
        description="Resources held, as stored when the role was saved: `Magento_Backend::all` for All, else the "
        "chosen nodes with their whole subtrees."
    )
    selected_resources: list[str] = strawberry.field(description="The nodes ticked in the Custom tree (empty for All).")
    partial_resources: list[str] = strawberry.field(
        description="Ancestors of chosen nodes, shown partially checked; they grant nothing."
    )
    user_count: int = strawberry.field(description="How many users hold the role (it cannot be deleted while any do).")

    @classmethod
    def of(cls, role: roles.RoleView) -> AdminRole:
        return cls(
            id=role.id,
            name=role.name,
            resource_access=ResourceAccess.ALL if role.all_resources else ResourceAccess.CUSTOM,
            resources=role.resources,
            selected_resources=role.selected,
            partial_resources=role.partial_resources,
            user_count=role.user_count,
        )

    @classmethod
    def maybe(cls, role: roles.RoleView | None) -> AdminRole | None:
        return cls.of(role) if role is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AdminRole | None]:
        ids = [int(i) for i in node_ids]
        found = await roles.roles_by_ids(ids)
        return [cls.maybe(found.get(i)) for i in ids]


@strawberry.type(description="An admin user (never its password hash or two-factor secret).")
class AdminUser(relay.Node):
    id: relay.NodeID[int]
    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool = strawberry.field(description="An inactive user cannot sign in, and its tokens are revoked.")
    role: AdminRoleSummary | None
    totp_enabled: bool = strawberry.field(description="Two-factor sign-in is set up.")
    created_at: dt.datetime

    @classmethod
    def of(cls, user: users.UserView) -> AdminUser:
        role = (user.role_id, user.role_name) if user.role_id is not None and user.role_name is not None else None
        return cls(
            id=user.id,
            username=user.username,
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            is_active=user.is_active,
            role=AdminRoleSummary.maybe(role),
            totp_enabled=user.totp_enabled,
            created_at=user.created_at,
        )

    @classmethod
    def maybe(cls, user: users.UserView | None) -> AdminUser | None:
        return cls.of(user) if user is not None else None

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: strawberry.Info, node_ids: Iterable[str], required: bool = False
    ) -> list[AdminUser | None]:
        ids = [int(i) for i in node_ids]
        found = await users.users_by_ids(ids)
        return [cls.maybe(found.get(i)) for i in ids]


@strawberry.type(description="A user's id (the `AdminUser` global id) and user name.")
class AdminUserSummary:
    id: strawberry.ID
    username: str


@strawberry.type(description="An admin locked out by failed sign-ins or wrong passwords, until `lockExpiresAt`.")
class LockedAdminUser:
    user: AdminUserSummary
    lock_expires_at: dt.datetime
    failures_count: int = strawberry.field(description="Failed attempts counted since the last success.")

    @classmethod
    def of(cls, lock: locks.LockView) -> LockedAdminUser:
        return cls(
            user=AdminUserSummary(id=strawberry.ID(lock.user_global_id), username=lock.username),
            lock_expires_at=lock.lock_expires_at,
            failures_count=lock.failures_count,
        )


# --------------------------------------------------------------------------------------- inputs


@strawberry.input
class CreateAdminRoleInput:
    name: str
    resource_access: ResourceAccess | None = strawberry.field(
        default=strawberry.UNSET, description="Default CUSTOM (with `resources`, else nothing)."
    )
    resources: list[str] | None = strawberry.field(
        default=strawberry.UNSET,
        description="For CUSTOM: resource ids as ticked; each brings its subtree, ancestors become partial.",
    )
    current_password: str | None = strawberry.field(default=strawberry.UNSET, description=PASSWORD_DESCRIPTION)


@strawberry.input(description="Fields left out keep their values; resources are re-saved only when given.")
class UpdateAdminRoleInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    resource_access: ResourceAccess | None = strawberry.UNSET
    resources: list[str] | None = strawberry.UNSET
    current_password: str | None = strawberry.field(default=strawberry.UNSET, description=PASSWORD_DESCRIPTION)


@strawberry.input
class CreateAdminUserInput:
    username: str
    email: str
    first_name: str
    last_name: str
    password: str = strawberry.field(description="At least 7 characters, both letters and digits.")
    role_id: strawberry.ID = strawberry.field(description="The `AdminRole` to hold.")
    is_active: bool = True
    current_password: str | None = strawberry.field(default=strawberry.UNSET, description=PASSWORD_DESCRIPTION)


@strawberry.input(description="Fields left out keep their values.")
class UpdateAdminUserInput:
    id: strawberry.ID
    username: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    password: str | None = strawberry.field(
        default=strawberry.UNSET, description="A new password; the user's tokens are revoked (yours but this one)."
    )
    role_id: strawberry.ID | None = strawberry.UNSET
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="False: the user cannot sign in, and its tokens are revoked."
    )
    current_password: str | None = strawberry.field(default=strawberry.UNSET, description=PASSWORD_DESCRIPTION)


def _role_input(data: CreateAdminRoleInput | UpdateAdminRoleInput) -> RoleInput:
    access: Any = data.resource_access
    if isinstance(access, ResourceAccess):
        access = access.value
    return RoleInput(name=data.name, resource_access=access, resources=data.resources)


def _user_input(data: CreateAdminUserInput | UpdateAdminUserInput) -> UserInput:
    return UserInput(
        username=data.username,
        email=data.email,
        first_name=data.first_name,
        last_name=data.last_name,
        password=data.password,
        role_id=data.role_id,
        is_active=data.is_active,
    )


# --------------------------------------------------------------------------------------- payloads


@strawberry.type
class AdminRolePayload:
    role: AdminRole | None
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[roles.RoleView]) -> AdminRolePayload:
        return cls(role=AdminRole.maybe(outcome.value), user_errors=user_errors(outcome.problems))


@strawberry.type
class DeleteAdminRolePayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class AdminUserPayload:
    user: AdminUser | None = strawberry.field(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="The user as saved; it is All Users' data, so unlocking without that resource selects "
        "only `userErrors`.",
    )
    user_errors: list[UserError]

    @classmethod
    def of(cls, outcome: Outcome[users.UserView]) -> AdminUserPayload:
        return cls(user=AdminUser.maybe(outcome.value), user_errors=user_errors(outcome.problems))


@strawberry.type
class DeleteAdminUserPayload:
    deleted_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class ChangeAdminPasswordPayload:
    user_errors: list[UserError]


@strawberry.type
class InvalidateAdminTokensPayload:
    revoked_count: int | None = strawberry.field(description="Tokens that were live and are now revoked.")
    user_errors: list[UserError]


def _deleted(outcome: Outcome[str]) -> tuple[strawberry.ID | None, list[UserError]]:
    return (strawberry.ID(outcome.value) if outcome.value is not None else None), user_errors(outcome.problems)


def _role(row: Row) -> AdminRole:
    return AdminRole.of(roles.RoleView.from_row(row))


def _user(row: Row) -> AdminUser:
    return AdminUser.of(users.UserView.from_row(row))


# --------------------------------------------------------------------------------------- root fields


@strawberry.type
class AdminUsersQuery:
    @strawberry.field(
        extensions=[admin_only(Resource.ADMIN_ROLES)],
        description="User Roles by name. Relay pagination: `first` (default: the server's maximum page size, "
        "MAX_PAGE_SIZE) items after the cursor `after`.",
    )
    async def admin_roles(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[AdminRole] | None:
        return connection(await roles.roles_page(info.context, first=first, after=after), _role)

    @strawberry.field(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="Every role a user may be given (id and name, by name), for the user form's User Role tab: "
        "readable with All Users alone, as in Magento, where managing users does not need User Roles. Choosing "
        "a role the caller's own role does not cover is still refused on save (OUT_OF_SCOPE_PERMISSION).",
    )
    async def admin_role_choices(self) -> list[AdminRoleChoice] | None:
        return [AdminRoleChoice.of(role) for role in await roles.role_choices()]

    @strawberry.field(extensions=[admin_only(Resource.ADMIN_ROLES)], description="A role by its (global) id, or null.")
    async def admin_role(self, id: strawberry.ID) -> AdminRole | None:
        return AdminRole.maybe(await roles.get_role(id))

    @strawberry.field(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="Admin users by user name. Relay pagination: `first` (default: the server's maximum page "
        "size, MAX_PAGE_SIZE) items after the cursor `after`.",
    )
    async def admin_users(
        self, info: strawberry.Info, first: int | None = None, after: str | None = None
    ) -> Connection[AdminUser] | None:
        return connection(await users.users_page(info.context, first=first, after=after), _user)

    @strawberry.field(extensions=[admin_only(Resource.ADMIN_USERS)], description="A user by its (global) id, or null.")
    async def admin_user(self, id: strawberry.ID) -> AdminUser | None:
        return AdminUser.maybe(await users.get_user(id))

    @strawberry.field(
        extensions=[admin_only(Resource.LOCKED_USERS)],
        description="Admins locked out until their lock runs out (or `unlockAdminUser`), by user name.",
    )
    async def locked_admin_users(self) -> list[LockedAdminUser] | None:
        return [LockedAdminUser.of(lock) for lock in await locks.locked_users()]


@strawberry.type
class AdminUsersMutation:
    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_ROLES)],
        description="Create a role. It may hold only resources you hold.",
    )
    async def create_admin_role(self, info: strawberry.Info, input: CreateAdminRoleInput) -> AdminRolePayload:
        return AdminRolePayload.of(await roles.create_role(info.context, _role_input(input), input.current_password))

    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_ROLES)],
        description="Rename a role or re-save its resources; its users hold the new ones from their next request. "
        "Not your own role, not one holding resources you lack, and not the last role with All that active "
        "admins hold.",
    )
    async def update_admin_role(self, info: strawberry.Info, input: UpdateAdminRoleInput) -> AdminRolePayload:
        outcome = await roles.update_role(info.context, input.id, _role_input(input), input.current_password)
        return AdminRolePayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_ROLES)],
        description="Delete a role that no user holds (IN_USE otherwise).",
    )
    async def delete_admin_role(
        self, info: strawberry.Info, id: strawberry.ID, current_password: str | None = None
    ) -> DeleteAdminRolePayload:
        deleted_id, problems = _deleted(await roles.delete_role(info.context, id, current_password))
        return DeleteAdminRolePayload(deleted_id=deleted_id, user_errors=problems)

    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="Create a user. Its role may hold only resources you hold.",
    )
    async def create_admin_user(self, info: strawberry.Info, input: CreateAdminUserInput) -> AdminUserPayload:
        return AdminUserPayload.of(await users.create_user(info.context, _user_input(input), input.current_password))

    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="Edit a user whose role holds nothing you lack. Not your own role or activity, and not "
        "the last active admin with All out of it.",
    )
    async def update_admin_user(self, info: strawberry.Info, input: UpdateAdminUserInput) -> AdminUserPayload:
        outcome = await users.update_user(info.context, input.id, _user_input(input), input.current_password)
        return AdminUserPayload.of(outcome)

    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="Delete a user whose role holds nothing you lack; not yourself, not the last active admin "
        "with All. Its tokens stop working at once.",
    )
    async def delete_admin_user(
        self, info: strawberry.Info, id: strawberry.ID, current_password: str | None = None
    ) -> DeleteAdminUserPayload:
        deleted_id, problems = _deleted(await users.delete_user(info.context, id, current_password))
        return DeleteAdminUserPayload(deleted_id=deleted_id, user_errors=problems)

    @strawberry.mutation(
        extensions=[admin_only(Resource.ADMIN_USERS)],
        description="Sign a user out everywhere: every token of the user is revoked.",
    )
    async def invalidate_admin_tokens(
        self, info: strawberry.Info, user_id: strawberry.ID, current_password: str | None = None
    ) -> InvalidateAdminTokensPayload:
        outcome = await users.invalidate_tokens(info.context, user_id, current_password)
        return InvalidateAdminTokensPayload(revoked_count=outcome.value, user_errors=user_errors(outcome.problems))

    @strawberry.mutation(
        extensions=[admin_only(Resource.LOCKED_USERS)],
        description="Unlock a user locked out by failed attempts (its failure count starts again).",
    )
    async def unlock_admin_user(self, id: strawberry.ID) -> AdminUserPayload:
        return AdminUserPayload.of(await locks.unlock_user(id))

    @strawberry.mutation(
        extensions=[admin_only()],
        description="Change your own password. Every other token of yours is revoked; the one in use is kept.",
    )
    async def change_admin_password(
        self, info: strawberry.Info, current_password: str | None, new_password: str
    ) -> ChangeAdminPasswordPayload:
        outcome = await users.change_own_password(info.context, current_password, new_password)
        return ChangeAdminPasswordPayload(user_errors=user_errors(outcome.problems))
