"""The escalation guard: a caller may only hand out (or manage) resources it holds itself.

Saleor calls this ``OUT_OF_SCOPE_PERMISSION``. Admins hold ``Magento_Backend::all`` and pass every
check; it matters for integrations that hold ``Magento_Integration::integrations``, which could otherwise
create an All-access integration, or take over the credentials of one, and so widen their own access.
"""

from __future__ import annotations

from collections.abc import Iterable

from auth.principal import Principal


def out_of_scope(principal: Principal, held_resources: Iterable[str]) -> list[str]:
    """The resources of a (stored, expanded) grant that ``principal`` does not hold, sorted.

    ``held_resources`` is the held set of a grant: ``{"Magento_Backend::all"}`` for All, else the chosen
    nodes with their subtrees. Partially selected ancestors grant nothing and are not passed here.
    """
    if principal.holds_all:
        return []
    return sorted({r for r in held_resources if r not in principal.resources})
