"""The access-rule declarations fields use, re-exported from auth/ (which enforces them).

Fields declare their rule with ``extensions=[requires(Resource.PRODUCTS, guest=True)]``, ``public()`` or
``admin_only()``; see ``auth.rules`` for what each one prints and enforces.
"""

from __future__ import annotations

from auth.resources import Resource
from auth.rules import AdminOnly, GuestAccess, Public, RequiresResource, admin_only, public, requires

__all__ = [
    "AdminOnly",
    "GuestAccess",
    "Public",
    "RequiresResource",
    "Resource",
    "admin_only",
    "public",
    "requires",
]
