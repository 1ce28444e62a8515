"""What may an integration use, and who may change that? Its API grant, stored expanded, and the guards.

A Custom grant is stored expanded (``auth.acl.ResourceTree.expand_selection``): each ticked node brings its
whole subtree, and its ancestors are recorded as partially selected. A resource added to the tree later is
therefore not granted until the grant is saved again (Magento issue 37620 is the bug this avoids).

The escalation guard: a caller may only grant resources it holds, and may only edit, delete or (re)authorize
an integration holding nothing it does not hold. The server itself (config-file integrations) passes None.
"""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from auth import acl
from auth.clock import clock
from auth.grants import GrantSpec, out_of_scope
from auth.principal import Principal
from models import Integration as IntegrationRow
from models import IntegrationGrant
from resolvers.problems import Problem, UserErrorCode


async def save_grant(integration_id: int, grant: GrantSpec, conn: BaseDBAsyncClient) -> None:
    values = {
        "all_resources": grant.all_resources,
        "resources": sorted(grant.held),
        "partial_resources": sorted(grant.partial),
        "selected": list(grant.selected),
        "updated_at": clock.now(),
    }
    updated = await IntegrationGrant.filter(integration_id=integration_id).using_db(conn).update(**values)
    if not updated:
        await IntegrationGrant.create(using_db=conn, integration_id=integration_id, **values)


def held_resources(grant: IntegrationGrant | None) -> list[str]:
    """What a stored grant holds (``["Magento_Backend::all"]`` for All)."""
    if grant is None:
        return []
    if grant.all_resources:
        return [acl.ALL]
    return list(grant.resources)


def manage_guard(principal: Principal | None, grant: IntegrationGrant | None, field: tuple[str, ...]) -> list[Problem]:
    """Refuse to let a caller edit, delete or (re)authorize an integration that holds more than it does."""
    if principal is None:
        return []
    missing = out_of_scope(principal, held_resources(grant))
    if not missing:
        return []
    message = f"You can't manage an integration that holds resources you don't hold: {', '.join(missing)}."
    return [Problem(field, message, UserErrorCode.OUT_OF_SCOPE_PERMISSION)]


def grant_guard(principal: Principal | None, grant: GrantSpec, path: tuple[str, ...]) -> list[Problem]:
    """Refuse to let a caller grant resources it does not hold."""
    if principal is None:
        return []
    missing = out_of_scope(principal, grant.held)
    if not missing:
        return []
    field = "resource_access" if grant.all_resources else "resources"
    message = f"You can't grant resources you don't hold: {', '.join(missing)}."
    return [Problem((*path, field), message, UserErrorCode.OUT_OF_SCOPE_PERMISSION)]


async def check_manage_permission(
    principal: Principal | None, row: IntegrationRow, field: tuple[str, ...]
) -> list[Problem]:
    """``manage_guard`` for an integration whose grant is not loaded yet (read only when it matters)."""
    if principal is None or principal.holds_all:
        return []
    grant = await IntegrationGrant.get_or_none(integration_id=row.id)
    return manage_guard(principal, grant, field)
