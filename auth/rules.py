"""Access rules: how a field declares who may use it, and the one decision that applies a rule.

A field declares its rule once, as a Strawberry field extension (the pattern of Strawberry's own
``PermissionExtension``)::

    @strawberry.field(extensions=[requires(Resource.PRODUCTS, guest=True)])

That one object is the whole declaration: its ``apply()`` adds the rule's directives to the field (so the
SDL prints ``@requiresResource(id: ...)``, ``@guestAccess``, ``@public`` or ``@adminOnly``), and
``auth.enforcement`` reads the same objects to build the rule table and to put a guard on each declaring
field's resolver (which raises the denial recorded before execution instead of running the resolver), so
what is printed, what is audited and what is enforced cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import enum

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.schema_directive import Location
from strawberry.types.field import StrawberryField

from auth.principal import Principal, PrincipalKind
from auth.resources import Resource
from errors import ErrorCode


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresResource",
    repeatable=True,
    description="The caller must hold this ACL resource (Magento resource id).",
)
class RequiresResource:
    id: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="guestAccess",
    description="A guest may use this field while Allow Anonymous Guest Access is on.",
)
class GuestAccess:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="public",
    description="Anyone may use this field.",
)
class Public:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="adminOnly",
    description="Only an admin (not an integration, not a guest) may use this field.",
)
class AdminOnly:
    pass


RULE_DIRECTIVES = (RequiresResource, GuestAccess, Public, AdminOnly)


class Access(enum.Enum):
    """Who a rule admits, besides the holders of its resources."""

    HOLDERS = "holders"
    #: Also guests while Allow Anonymous Guest Access is on.
    GUESTS = "guests"
    #: Anyone at all.
    PUBLIC = "public"
    #: Admins only (holding the resources, if any), never integrations or guests.
    ADMINS = "admins"


@dataclasses.dataclass(frozen=True, slots=True)
class Rule:
    """A field's rule, at its schema coordinate (``"Type.field"``)."""

    coordinate: str
    resources: tuple[str, ...] = ()
    access: Access = Access.HOLDERS

    @property
    def public(self) -> bool:
        return self.access is Access.PUBLIC

    @property
    def guest(self) -> bool:
        return self.access is Access.GUESTS

    @property
    def admin_only(self) -> bool:
        return self.access is Access.ADMINS


@dataclasses.dataclass(frozen=True, slots=True)
class Denial:
    """Why a field is refused to this caller; becomes the GraphQL error at the field's path."""

    coordinate: str
    code: ErrorCode
    required: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def message(self) -> str:
        if self.code is ErrorCode.FORBIDDEN and not self.missing:
            return "Only an admin may use this field."
        if not self.required:
            return "The current user isn't authorized to use this field."
        return f"The consumer isn't authorized to access {', '.join(self.missing or self.required)}."

    def error(self, path: list[str | int] | None = None) -> GraphQLError:
        return GraphQLError(
            self.message,
            path=path,
            extensions={
                "code": self.code.value,
                "requiredResources": list(self.required),
                "missingResources": list(self.missing),
            },
        )


def decide(rule: Rule, principal: Principal, guest_access_allowed: bool) -> Denial | None:
    """The one access decision: None when allowed, else why not.

    While Allow Anonymous Guest Access is on, a ``@guestAccess`` field is open to every caller, as in
    Magento (its guest-eligible resources become ``anonymous``, which any caller passes): sending
    credentials never reveals less than sending none. Such a caller gets the guest's data filter
    (``Principal.sees_as_guest``).
    """
    if rule.public:
        return None
    if rule.admin_only and principal.kind is not PrincipalKind.ADMIN:
        if principal.is_guest:
            return Denial(rule.coordinate, ErrorCode.UNAUTHENTICATED, rule.resources, rule.resources)
        return Denial(rule.coordinate, ErrorCode.FORBIDDEN, rule.resources, ())
    missing = tuple(principal.missing(rule.resources)) if not principal.is_guest else rule.resources
    if not missing or (rule.guest and guest_access_allowed):
        return None
    code = ErrorCode.UNAUTHENTICATED if principal.is_guest else ErrorCode.FORBIDDEN
    return Denial(rule.coordinate, code, rule.resources, missing)


def needs_guest_switch(rule: Rule, principal: Principal) -> bool:
    """Whether deciding ``rule`` for ``principal`` depends on Allow Anonymous Guest Access (read only then)."""
    if not rule.guest:
        return False
    return principal.is_guest or bool(principal.missing(rule.resources))


class AccessRule(FieldExtension):
    """A field's access rule: adds its directives to the field; ``auth.enforcement`` guards its resolver.

    It takes no part in Strawberry's resolve chain (no ``resolve``/``resolve_async``): the guard is put on
    the built GraphQL field instead (``auth.enforcement.guard_fields``), where it costs one attribute test
    per resolved field when nothing in the operation was denied. The decision itself is made for the
    whole operation before execution.
    """

    def __init__(self, resources: tuple[Resource, ...] = (), access: Access = Access.HOLDERS) -> None:
        if access is Access.PUBLIC and resources:
            raise ValueError("a public field names no resources")
        if access in (Access.HOLDERS, Access.GUESTS) and not resources:
            raise ValueError("a guarded field names at least one resource")
        self.resources = resources
        self.access = access

    def rule(self, coordinate: str) -> Rule:
        return Rule(coordinate, tuple(str(r) for r in self.resources), self.access)

    def directives(self) -> list[object]:
        declared: list[object] = [RequiresResource(id=str(r)) for r in self.resources]
        if self.access is Access.GUESTS:
            declared.append(GuestAccess())
        elif self.access is Access.PUBLIC:
            declared.append(Public())
        elif self.access is Access.ADMINS:
            declared.append(AdminOnly())
        return declared

    def apply(self, field: StrawberryField) -> None:
        # Strawberry calls this each time a schema is built from the field; add each directive once.
        for directive in self.directives():
            if directive not in field.directives:
                field.directives.append(directive)


def requires(*resources: Resource, guest: bool = False) -> AccessRule:
    """The caller must hold every one of ``resources``; with ``guest``, guests too while guest access is on."""
    return AccessRule(resources, Access.GUESTS if guest else Access.HOLDERS)


def public() -> AccessRule:
    """Anyone may use the field (sign-in, ``viewer``, the pre-flight query)."""
    return AccessRule((), Access.PUBLIC)


def admin_only(*resources: Resource) -> AccessRule:
    """Only an admin may use the field (holding ``resources``, if given), whatever an integration holds."""
    return AccessRule(resources, Access.ADMINS)
