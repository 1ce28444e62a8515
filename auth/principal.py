"""Who is calling: the principal every request carries, built by ``auth.middleware.PrincipalMiddleware``."""

from __future__ import annotations

import dataclasses
import enum

from auth.acl import ALL
from auth.config import ConfigSnapshot


class PrincipalKind(enum.Enum):
    ADMIN = "ADMIN"
    INTEGRATION = "INTEGRATION"
    GUEST = "GUEST"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    name: str
    #: Resources held: an admin's role's, an integration's grant; ``Magento_Backend::all`` for All.
    resources: frozenset[str] = frozenset()
    admin_id: int | None = None
    integration_id: int | None = None
    #: Id of the admin token row the request is made with (None for others).
    token_id: int | None = None
    #: Admins: the store requires two-factor sign-in (``requireAdminTotp``).
    totp_required: bool = False
    #: Admins: this admin has turned two-factor sign-in on. Required but off: it holds no resources.
    totp_enabled: bool = False
    #: Integrations: their own bucket size and restore rate (None each: the store's), when the authenticator
    #: read them with the credentials; None when it did not (``auth.rate_limits`` reads them by id then).
    bucket_override: tuple[int | None, int | None] | None = None
    #: The store's settings, when the authenticator read them in the same statement as the credentials (so the
    #: request reads them once); None: the request reads them itself. Not part of who the caller is.
    store_config: ConfigSnapshot | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def is_guest(self) -> bool:
        return self.kind is PrincipalKind.GUEST

    @property
    def holds_all(self) -> bool:
        return ALL in self.resources

    def missing(self, resource_ids: tuple[str, ...]) -> list[str]:
        if ALL in self.resources:
            return []
        return [r for r in resource_ids if r not in self.resources]

    def sees_as_guest(self, resource: str) -> bool:
        """This caller reaches ``resource``'s data only through guest access, so it gets the guest's filter.

        Resolvers ask this to filter rows (enabled, visible, active), never to decide access: a caller
        that lacks the resource reaches the field at all only while Allow Anonymous Guest Access is on.
        """
        return self.kind is PrincipalKind.GUEST or (ALL not in self.resources and resource not in self.resources)


GUEST = Principal(PrincipalKind.GUEST, "guest")


def admin_principal(
    admin_id: int,
    username: str,
    token_id: int | None,
    resources: frozenset[str],
    *,
    totp_required: bool = False,
    totp_enabled: bool = False,
    store_config: ConfigSnapshot | None = None,
) -> Principal:
    """An admin holding its role's resources (``Magento_Backend::all`` for a role with All)."""
    return Principal(
        PrincipalKind.ADMIN,
        username,
        resources,
        admin_id=admin_id,
        token_id=token_id,
        totp_required=totp_required,
        totp_enabled=totp_enabled,
        store_config=store_config,
    )


def integration_principal(
    integration_id: int,
    name: str,
    resources: frozenset[str],
    bucket_override: tuple[int | None, int | None] | None = None,
    store_config: ConfigSnapshot | None = None,
) -> Principal:
    return Principal(
        PrincipalKind.INTEGRATION,
        name,
        resources,
        integration_id=integration_id,
        bucket_override=bucket_override,
        store_config=store_config,
    )
