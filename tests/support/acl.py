"""ACL trees that differ from the server's: what a module adding its own resources would leave."""

from __future__ import annotations

import dataclasses

from auth.acl import AclResource, ResourceTree


def with_resource(tree: ResourceTree, parent_id: str, resource: AclResource) -> ResourceTree:
    """A copy of ``tree`` with ``resource`` added under ``parent_id`` (as a module's acl.xml would)."""

    def add(node: AclResource) -> AclResource:
        children = tuple(add(c) for c in node.children)
        if node.id == parent_id:
            children = tuple(sorted((*children, resource), key=lambda c: c.sort_order))
        return dataclasses.replace(node, children=children)

    return ResourceTree(add(tree.root))
