"""Grants on the ACL tree (integrations and admin roles alike) and the escalation guard.

The escalation guard: a caller may only hand out (or manage) resources it holds itself.

Saleor calls this ``OUT_OF_SCOPE_PERMISSION``. Admins hold ``Magento_Backend::all`` and pass every
check; it matters for integrations that hold ``Magento_Integration::integrations``, which could otherwise
create an All-access integration, or take over the credentials of one, and so widen their own access.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence
from typing import Any

from auth import acl
from auth.principal import Principal
from models.values import as_bool


def out_of_scope(principal: Principal, held_resources: Iterable[str]) -> list[str]:
    """The resources of a (stored, expanded) grant that ``principal`` does not hold, sorted.

    ``held_resources`` is the held set of a grant: ``{"Magento_Backend::all"}`` for All, else the chosen
    nodes with their subtrees. Partially selected ancestors grant nothing and are not passed here.
    """
    if principal.holds_all:
        return []
    return sorted({r for r in held_resources if r not in principal.resources})


@dataclasses.dataclass(frozen=True)
class GrantSpec:
    """A grant ready to store: what the admin ticked and what that expands to in the current tree."""

    all_resources: bool
    selected: tuple[str, ...]
    held: frozenset[str]
    partial: frozenset[str]

    @classmethod
    def all(cls) -> GrantSpec:
        return cls(True, (), frozenset({acl.ALL}), frozenset())

    @classmethod
    def custom(cls, selected: Sequence[str]) -> GrantSpec:
        """Expand a Custom selection (ids must be known: check with ``acl.TREE.unknown`` first)."""
        chosen = tuple(dict.fromkeys(selected))
        if acl.ALL in chosen:
            return cls.all()
        held, partial = acl.TREE.expand_selection(chosen)
        return cls(False, chosen, held, partial)


def granted_resources(all_resources: Any, resources: Any) -> frozenset[str]:
    """What a stored grant (an integration's or a role's) holds, from its raw row values."""
    if as_bool(all_resources):
        return frozenset({acl.ALL})
    if isinstance(resources, str):
        resources = json.loads(resources or "[]")
    return frozenset(resources or ())
