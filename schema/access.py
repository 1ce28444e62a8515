"""Who am I, what can be granted, and what a document needs."""

from __future__ import annotations

import enum

import strawberry

from resolvers import access as resolve
from schema.directives import Resource, public, requires


@strawberry.enum
class PrincipalKind(enum.Enum):
    ADMIN = "ADMIN"
    INTEGRATION = "INTEGRATION"
    GUEST = "GUEST"


@strawberry.type(description="The caller of this request.")
class Viewer:
    kind: PrincipalKind
    name: str
    resources: list[str] = strawberry.field(description="Resources held; `Magento_Backend::all` means every resource.")
    guest_access_allowed: bool = strawberry.field(
        description="Whether Allow Anonymous Guest Access is on (what guests may read)."
    )


@strawberry.type(description="A node of Magento's ACL resource tree.")
class AclResource:
    id: str
    title: str
    sort_order: int
    guest_eligible: bool = strawberry.field(description="Opened to guests by Allow Anonymous Guest Access.")
    children: list[AclResource]


@strawberry.type
class AccessQuery:
    @strawberry.field(extensions=[public()], description="Who is calling and which resources it holds.")
    async def viewer(self, info: strawberry.Info) -> Viewer:
        principal = info.context.principal
        return Viewer(
            kind=PrincipalKind(principal.kind.value),
            name=principal.name,
            resources=sorted(principal.resources),
            guest_access_allowed=await info.context.guest_access_allowed(),
        )

    @strawberry.field(
        extensions=[requires(Resource.INTEGRATIONS)],
        description="The children of `Magento_Backend::admin`, as the Custom resource picker shows them.",
    )
    def resource_tree(self) -> list[AclResource] | None:
        return list(resolve.resource_tree())  # type: ignore[arg-type]

    @strawberry.field(
        extensions=[public()],
        description="The resources a document needs, from the same analysis that enforces them.",
    )
    def required_resources(self, info: strawberry.Info, query: str, operation_name: str | None = None) -> list[str]:
        return resolve.required_resources(info.context, info.schema.access_policy, query, operation_name)
