"""Which granted resources went unused, and narrowing a grant to the used ones (``trimIntegrationGrant``).

Unused resources are reported at leaf level of the resource tree: the leaves the grant holds (every leaf for
All) with no allowed call in the period. A leaf counts as used when a call was allowed on it or on a resource
above it: holding a resource means holding its whole subtree (grants are stored expanded), so a call that
needed Catalog > Inventory > Products used the grant of everything under it, as ticking it would grant.

Trimming narrows the grant to what was used: the held resources that were used or lie under a used one (so
the leaves ``unusedResources`` listed go, and the others stay), ticked as the topmost of those, with their
ancestors partial, as ``auth.acl.ResourceTree.expand_selection`` records a selection. Only held resources are
kept, so trimming never adds one. An All grant becomes a Custom grant of the used resources and everything
under them.

Refused, with a userError each: for config-file integrations (READ_ONLY), for a period longer than the
activity kept (OUT_OF_RANGE), and when no granted resource was used in the period (NOTHING_USED), which would
leave the integration with nothing (the API tab does that plainly, if it is meant). With nothing unused,
nothing is written. The new grant is written only if the stored one is still the one read (compare-and-set on
its ``updated_at``): a concurrent edit makes trimming refuse (IN_PROGRESS) rather than undo that edit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from auth import acl
from auth.clock import clock
from auth.grants import GrantSpec
from models import Integration as IntegrationRow
from models import IntegrationGrant
from models.integration import SETUP_CONFIG
from resolvers.integrations import activity, events
from resolvers.integrations.grants import manage_guard
from resolvers.integrations.loaders import load_grant
from resolvers.integrations.service import CONFIG_EDIT_MESSAGE, find_for_mutation
from resolvers.loaders import forget_loaders
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.your_password import current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

CHANGED_MEANWHILE = "The grant was changed by another request meanwhile. Please reload the integration."


def nothing_used_message(days: int) -> str:
    return (
        f"No granted resource was used in the last {days} days: trimming would leave this integration with "
        "nothing. Change its resources on the API tab instead."
    )


def _walk(node: acl.AclResource) -> Iterator[acl.AclResource]:
    yield node
    for child in node.children:
        yield from _walk(child)


#: Every resource of the tree in the tree's order (as the console shows it), and its position.
TREE_ORDER: dict[str, int] = {node.id: n for n, node in enumerate(_walk(acl.TREE.root))}
#: Every leaf of the resource tree, in the tree's order.
LEAVES: tuple[str, ...] = tuple(node.id for node in _walk(acl.TREE.root) if not node.children)


def granted_leaves(all_resources: bool, held: Iterable[str]) -> list[str]:
    """The leaves a stored grant holds, in tree order (every leaf for All)."""
    if all_resources:
        return list(LEAVES)
    held = set(held)
    return [leaf for leaf in LEAVES if leaf in held]


def is_used(resource: str, used: frozenset[str]) -> bool:
    """Whether a call in the period used ``resource``: it or a resource above it had an allowed call."""
    return resource in used or any(ancestor in used for ancestor in acl.TREE.ancestors(resource))


def unused_leaves(all_resources: bool, held: Iterable[str], used: frozenset[str]) -> list[str]:
    return [leaf for leaf in granted_leaves(all_resources, held) if not is_used(leaf, used)]


def trimmed_grant(all_resources: bool, held: frozenset[str], used: frozenset[str]) -> GrantSpec:
    """The part of the grant that was used: each held resource that was used, or lies under a used one (as
    ``is_used`` says of leaves), and nothing else; ticked as the topmost of those, ancestors partial."""
    candidates = TREE_ORDER if all_resources else held
    kept = frozenset(r for r in candidates if r in TREE_ORDER and is_used(r, used))
    selected = tuple(
        sorted((r for r in kept if not any(a in kept for a in acl.TREE.ancestors(r))), key=TREE_ORDER.__getitem__)
    )
    partial = {a for r in kept for a in acl.TREE.ancestors(r)} - kept
    return GrantSpec(False, selected, kept, frozenset(partial))


async def unused_resources(context: Context, integration_id: int, days: int) -> list[str]:
    """``Integration.unusedResources``: granted leaves with no allowed call in the last ``days`` days."""
    days = await activity.checked_days(context, days)
    grant = await load_grant(context, integration_id)
    if grant is None:
        return []
    used = await activity.used_resources(context, integration_id, days)
    return unused_leaves(grant.all_resources, grant.resources, used)


@dataclasses.dataclass(frozen=True)
class Trim:
    integration: IntegrationRow | None = None
    #: Resources the stored grant held and no longer does (``Magento_Backend::all`` for an All grant).
    removed: tuple[str, ...] = ()


async def trim_grant(context: Context, value: str, days: int, current_password: str | None) -> Outcome[Trim]:
    """``trimIntegrationGrant``: Your Password first, then the checks, then the compare-and-set."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await find_for_mutation(value, ("id",))
    row = found.value
    if row is None:
        return Outcome(problems=found.problems)
    if row.setup_type == SETUP_CONFIG:
        return Outcome(Trim(row), [Problem(("id",), CONFIG_EDIT_MESSAGE, UserErrorCode.READ_ONLY)])
    stored = await IntegrationGrant.get_or_none(integration_id=row.id)
    problems = manage_guard(context.principal, stored, ("id",))
    if problems:
        return Outcome(Trim(row), problems)
    problem = activity.days_problem(days, (await context.config()).activity_retention_days)
    if problem is not None:
        return Outcome(Trim(row), [Problem(("days",), problem, UserErrorCode.OUT_OF_RANGE)])
    if stored is None:
        return Outcome(Trim(row))
    held = frozenset([acl.ALL] if stored.all_resources else stored.resources)
    used = await activity.used_resources(context, row.id, days)
    grant = trimmed_grant(stored.all_resources, held, used)
    if not grant.held:
        return Outcome(Trim(row), [Problem(("days",), nothing_used_message(days), UserErrorCode.NOTHING_USED)])
    if grant.held == held:
        return Outcome(Trim(row))
    removed = tuple(sorted(held - grant.held))
    try:
        async with in_transaction() as conn:
            now = clock.now()
            # The integration's row first, then its grant: the order ``updateIntegration`` locks them in.
            await IntegrationRow.filter(id=row.id).using_db(conn).update(updated_at=now)
            narrowed = (
                await IntegrationGrant.filter(id=stored.id, updated_at=stored.updated_at)
                .using_db(conn)
                .update(**_stored_values(grant), updated_at=now)
            )
            if not narrowed:
                raise _ChangedMeanwhileError
            # Recorded in this transaction: it commits or rolls back with the narrowed grant.
            await events.grant_trimmed(row, removed, days, was_all=stored.all_resources)
    except _ChangedMeanwhileError:
        return Outcome(Trim(row), [Problem(("id",), CHANGED_MEANWHILE, UserErrorCode.IN_PROGRESS)])
    finally:
        forget_loaders(context)
    return Outcome(Trim(await IntegrationRow.get_or_none(id=row.id), removed))


class _ChangedMeanwhileError(Exception):
    """The stored grant is no longer the one trimmed: the transaction rolls back."""


def _stored_values(grant: GrantSpec) -> dict[str, object]:
    """The grant's columns as ``resolvers.integrations.grants.save_grant`` writes them."""
    return {
        "all_resources": grant.all_resources,
        "resources": sorted(grant.held),
        "partial_resources": sorted(grant.partial),
        "selected": list(grant.selected),
    }
