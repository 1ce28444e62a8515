"""Who a test calls as: the admin account the ``admin`` fixture signs in, and the test integrations that
``integration(...)`` acts as.

A test integration is a bearer token ``grant:<id>,<id>`` that the app, as tests serve it, resolves to an
integration holding exactly those resources, expanded as a saved Custom grant is (or All, given
``Magento_Backend::all``). It is installed through the public seam ``create_app(bearer_lookups=...)``, so
these tests depend only on the access decision, not on how integration tokens are stored; tests of OAuth
itself use real, signed integrations (``tests.support.oauth``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

from auth.acl import TREE
from auth.principal import Principal, integration_principal
from settings import Settings
from tests.support.graphql import GraphQLClient

#: The password of the ``admin`` fixture's account.
ADMIN_PASSWORD = "admin-password-1"

GRANT_PREFIX = "grant:"

#: ``integration(*resources)``: a client acting as an integration granted those resources.
IntegrationCaller = Callable[..., GraphQLClient]


async def grant_lookup(token: str) -> Principal | None:
    """``Bearer grant:<id>,<id>``: an integration holding exactly those resources (as a Custom grant saves them)."""
    if not token.startswith(GRANT_PREFIX):
        return None
    selected = [r for r in token.removeprefix(GRANT_PREFIX).split(",") if r]
    held, _partial = TREE.expand_selection(selected)
    return integration_principal(900, "Test integration", held)


def grant_token(resources: Iterable[str]) -> str:
    return GRANT_PREFIX + ",".join(sorted(resources))


@contextlib.asynccontextmanager
async def serving(settings: Settings, *, schema: Any = None) -> AsyncIterator[Any]:
    """The app as tests serve it (the test integrations' lookup installed), with its lifespan."""
    from main import create_app

    app = create_app(settings, schema=schema, bearer_lookups=(grant_lookup,))
    async with app.router.lifespan_context(app):
        yield app


async def set_guest_access(admin: GraphQLClient, allow: bool) -> None:
    """Allow Anonymous Guest Access, through GraphQL."""
    body = await admin.query(
        "mutation($a: Boolean!) { setGuestAccess(allow: $a) { webApiSecurity { allowAnonymousGuestAccess } } }",
        {"a": allow},
    )
    assert body["data"]["setGuestAccess"]["webApiSecurity"]["allowAnonymousGuestAccess"] is allow, body
