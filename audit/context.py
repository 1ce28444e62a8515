"""Who is acting, and from where: the request being served (its caller, client address, user agent and id),
else the server itself (a command-line command, a start-up task, retention).

The authentication layer binds each request's ASGI scope here once it knows the caller
(``auth.middleware.PrincipalMiddleware``, the OAuth token endpoints); ``audit.record`` reads it only when an
event is written, so serving a request costs one context variable and nothing more. The scope is the one
``auth.proxy.TrustedProxyMiddleware`` passed on, so its client address is already the trusted-proxy-aware
one (``X-Forwarded-For`` only from ``FORWARDED_ALLOW_IPS``).
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import MutableMapping
from typing import Any, Protocol

from audit.actions import ActorType
from observability.logs import REQUEST_ID

#: The scope of the request being served (None outside a request).
REQUEST: contextvars.ContextVar[MutableMapping[str, Any] | None] = contextvars.ContextVar("audit_request", default=None)

#: Longest user agent kept; the column's size.
MAX_USER_AGENT = 255


class Caller(Protocol):
    """What an event needs of the request's principal (``auth.principal.Principal``)."""

    @property
    def name(self) -> str: ...
    @property
    def admin_id(self) -> int | None: ...
    @property
    def integration_id(self) -> int | None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Actor:
    type: ActorType
    id: int | None = None
    name: str | None = None

    @classmethod
    def admin(cls, admin_id: int, username: str) -> Actor:
        return cls(ActorType.ADMIN, admin_id, username)

    @classmethod
    def integration(cls, integration_id: int, name: str | None) -> Actor:
        return cls(ActorType.INTEGRATION, integration_id, name)

    @classmethod
    def of(cls, caller: Caller | None) -> Actor:
        if caller is None:
            return GUEST
        if caller.admin_id is not None:
            return cls.admin(caller.admin_id, caller.name)
        if caller.integration_id is not None:
            return cls.integration(caller.integration_id, caller.name)
        return GUEST


SYSTEM = Actor(ActorType.SYSTEM, None, "system")
GUEST = Actor(ActorType.GUEST)


@dataclasses.dataclass(frozen=True, slots=True)
class Origin:
    """Who and where an event comes from."""

    actor: Actor
    client_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


def bind(scope: MutableMapping[str, Any]) -> contextvars.Token[MutableMapping[str, Any] | None]:
    """Make ``scope`` the request events are attributed to (its ``state["principal"]`` set, if any)."""
    return REQUEST.set(scope)


def unbind(token: contextvars.Token[MutableMapping[str, Any] | None]) -> None:
    REQUEST.reset(token)


def _user_agent(scope: MutableMapping[str, Any]) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"user-agent":
            return value.decode("latin-1")[:MAX_USER_AGENT] or None
    return None


def current(actor: Actor | None = None) -> Origin:
    """The origin of an event recorded now; ``actor`` when the caller is not the request's principal (a sign-in,
    an OAuth step, where the caller is known only once its credentials were checked)."""
    scope = REQUEST.get()
    if scope is None:
        return Origin(actor or SYSTEM, request_id=REQUEST_ID.get())
    client = scope.get("client")
    return Origin(
        actor or Actor.of(scope.get("state", {}).get("principal")),
        client_ip=client[0] if client else None,
        user_agent=_user_agent(scope),
        request_id=REQUEST_ID.get(),
    )
