"""The access-rule directives. Declared here on fields; enforced from the same declaration by auth/."""

from __future__ import annotations

import strawberry
from strawberry.schema_directive import Location


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresResource",
    repeatable=True,
    description="The caller must hold this ACL resource (Magento resource id).",
)
class RequiresResource:
    id: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="guestAccess",
    description="A guest may use this field while Allow Anonymous Guest Access is on.",
)
class GuestAccess:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="public",
    description="Anyone may use this field.",
)
class Public:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="adminOnly",
    description="Only an admin (not an integration, not a guest) may use this field.",
)
class AdminOnly:
    pass


def requires(*resource_ids: str, guest: bool = False) -> list[object]:
    """Directives for a field that needs every resource in ``resource_ids`` (and, optionally, guests)."""
    directives: list[object] = [RequiresResource(id=r) for r in resource_ids]
    if guest:
        directives.append(GuestAccess())
    return directives


PUBLIC: list[object] = [Public()]
ADMIN_ONLY: list[object] = [AdminOnly()]
