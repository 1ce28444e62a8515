"""Who am I, what can be granted, and what a document needs."""

from __future__ import annotations

import strawberry

from auth import principal as auth_principal
from auth.enforcement import Requirements, policy_of
from auth.rules import Access
from resolvers import access as resolve
from resolvers import audit
from resolvers.admin_users.roles import viewer_role
from resolvers.pagination import page_limit
from schema.admin_users import AdminRoleSummary
from schema.audit import SignInEvent
from schema.directives import Resource, admin_only, public, requires

PrincipalKind = strawberry.enum(auth_principal.PrincipalKind, name="PrincipalKind")


@strawberry.type(description="The caller of this request: its own facts only.")
class Viewer:
    kind: auth_principal.PrincipalKind
    name: str
    resources: list[str] = strawberry.field(description="Resources held; `Magento_Backend::all` means every resource.")
    totp_required: bool = strawberry.field(
        description="Admins: the store requires two-factor sign-in (`config.adminSecurity.requireAdminTotp`). While "
        "it does and `totpEnabled` is false, the admin holds no resources until it turns two-factor sign-in on "
        "(`enrollAdminTotp`, then `confirmAdminTotp`). False for others."
    )
    totp_enabled: bool = strawberry.field(
        description="Admins: two-factor sign-in is on for this account (sign-in needs a code). False for others."
    )

    @strawberry.field(description="An admin's role (null for integrations and guests).")
    async def role(self, info: strawberry.Info) -> AdminRoleSummary | None:
        return AdminRoleSummary.maybe(await viewer_role(info.context.principal.admin_id))

    @strawberry.field(
        extensions=[admin_only()],
        description="Admins: your own latest sign-ins (succeeded, failed, and the failures that locked the account), "
        "newest first, from the audit trail; `first` at most the maximum page size.",
    )
    async def sign_in_history(self, info: strawberry.Info, first: int = 10) -> list[SignInEvent] | None:
        limit = page_limit(first, info.context.settings.max_page_size)
        admin_id = info.context.principal.admin_id
        rows = await audit.sign_in_history(admin_id, limit) if admin_id is not None else []
        return [SignInEvent.from_row(row) for row in rows]

    @strawberry.field(
        extensions=[requires(Resource.CONFIG_WEBAPI)],
        description="Whether Allow Anonymous Guest Access is on: a store setting, so only for those who may read "
        "`config.webApiSecurity`.",
    )
    async def guest_access_allowed(self, info: strawberry.Info) -> bool | None:
        return await info.context.guest_access_allowed()


@strawberry.type(description="A node of Magento's ACL resource tree.")
class AclResource:
    id: str
    title: str
    sort_order: int
    guest_eligible: bool = strawberry.field(description="Opened to guests by Allow Anonymous Guest Access.")
    children: list[AclResource]


FieldAccessKind = strawberry.enum(
    Access, name="FieldAccessKind", description="Who a field's rule admits besides the holders of its resources."
)


@strawberry.type(description="The access rule of one field, at its schema coordinate.")
class FieldRule:
    coordinate: str = strawberry.field(description='"Type.field".')
    resources: list[str]
    access: Access = strawberry.field(
        description="HOLDERS: holders of the resources. GUESTS: also guests while Allow Anonymous Guest "
        "Access is on. PUBLIC: anyone. ADMINS: admins only (holding the resources), never integrations."
    )


@strawberry.type(description="What an operation needs, from the analysis that enforces it.")
class RequiredAccess:
    resources: list[str] = strawberry.field(description="Every resource a selected field requires.")
    admin_only: bool = strawberry.field(description="Some selected field is for admins only.")
    guest_accessible: bool = strawberry.field(
        description="A guest could run it while Allow Anonymous Guest Access is on."
    )
    fields: list[FieldRule] = strawberry.field(description="The rule of each guarded field selected.")

    @classmethod
    def of(cls, requirements: Requirements) -> RequiredAccess:
        return cls(
            resources=list(requirements.resources),
            admin_only=requirements.admin_only,
            guest_accessible=requirements.guest_accessible,
            fields=[
                FieldRule(coordinate=r.coordinate, resources=list(r.resources), access=r.access)
                for r in requirements.rules
            ],
        )


@strawberry.type
class AccessQuery:
    @strawberry.field(extensions=[public()], description="Who is calling and which resources it holds.")
    async def viewer(self, info: strawberry.Info) -> Viewer:
        principal = info.context.principal
        return Viewer(
            kind=principal.kind,
            name=principal.name,
            resources=sorted(principal.resources),
            totp_required=principal.totp_required,
            totp_enabled=principal.totp_enabled,
        )

    @strawberry.field(
        extensions=[admin_only()],
        description="The children of `Magento_Backend::admin`, as the Custom resource picker shows them.",
    )
    def resource_tree(self) -> list[AclResource] | None:
        return list(resolve.resource_tree())  # type: ignore[arg-type]

    @strawberry.field(
        extensions=[public()],
        description="The resources the operation that would run needs (nested fields included), from the "
        "same analysis that enforces them. Fields for admins only need an admin whatever is held: "
        "`requiredAccess` says so.",
    )
    def required_resources(self, info: strawberry.Info, query: str, operation_name: str | None = None) -> list[str]:
        return list(resolve.requirements(info.context, policy_of(info.schema), query, operation_name).resources)

    @strawberry.field(
        extensions=[public()],
        description="Everything the operation that would run needs: resources, whether it is for admins "
        "only, whether guests may run it, and the rule of each guarded field it selects.",
    )
    def required_access(self, info: strawberry.Info, query: str, operation_name: str | None = None) -> RequiredAccess:
        return RequiredAccess.of(resolve.requirements(info.context, policy_of(info.schema), query, operation_name))
