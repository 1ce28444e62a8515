"""What an OAuth 2.0 token may reach: the intersection of the integration's grant and the requested scope.

A scope is a space-separated list of ACL resource ids (``Magento_Catalog::products``...). As in a Custom grant,
a requested node brings its whole subtree. Each requested id must be in the tree and held by the grant, else
the request is ``invalid_scope``: a client learns at once that it asked for more than it may have. With no
scope the token holds the whole grant. At each use the token's resources are intersected with the grant as it
is then, so narrowing an integration's grant narrows its live tokens too.
"""

from __future__ import annotations

from collections.abc import Iterable

from auth.acl import ALL, TREE


def token_resources(requested: Iterable[str], grant: frozenset[str]) -> frozenset[str] | None:
    """The resources a token for ``requested`` holds, or None when one of them is unknown or not granted."""
    held: set[str] = set()
    for resource in requested:
        if resource == ALL:
            if ALL not in grant:
                return None
            held.add(ALL)
            continue
        if resource not in TREE or (ALL not in grant and resource not in grant):
            return None
        held.update(TREE.subtree(resource))
    return frozenset(held)


def effective_resources(token: frozenset[str], grant: frozenset[str]) -> frozenset[str]:
    """What a token holds now: its own resources within the integration's current grant."""
    if ALL in token:
        return grant
    if ALL in grant:
        return token
    return token & grant
