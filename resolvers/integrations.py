"""The integration service: validation, create, update, delete, reads and per-request loaders.

Behaviour follows Magento's ``IntegrationService`` (reference §1.1, §8): one OAuth consumer named
``Integration<id>`` per integration, created in the same transaction; names unique; edits never touch
status or tokens; deleting removes consumer, token, nonces and grant (foreign keys cascade). API grants
are stored expanded (``auth.acl.ResourceTree.expand_selection``), so a resource added to the tree later
is not granted until the grant is saved again.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from strawberry import UNSET
from strawberry.dataloader import DataLoader
from strawberry.relay import GlobalID
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from auth import acl, secret_box
from auth.clock import clock
from auth.grants import out_of_scope
from auth.oauth import tokens as oauth_tokens
from auth.principal import Principal
from models import Integration as IntegrationRow
from models import IntegrationGrant, OAuthConsumer, OAuthToken
from models.integration import SETUP_CONFIG, SETUP_MANUAL, STATUS_INACTIVE

if TYPE_CHECKING:
    from schema.context import Context

#: GraphQL type name of integrations, the type part of their global ids.
NODE_TYPE = "Integration"
RESOURCE_ACCESS_ALL = "ALL"
RESOURCE_ACCESS_CUSTOM = "CUSTOM"
MAX_TEXT = 255
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")

REQUIRED_MESSAGE = "This is a required field."
EMAIL_MESSAGE = "Please enter a valid email address (Ex: johndoe@domain.com)."
URL_MESSAGE = "Please enter a valid absolute URL. Protocol is required (http:// or https://)."
CONFIG_EDIT_MESSAGE = "Cannot edit integrations created via config file."


def name_exists_message(name: str) -> str:
    return f'The integration with name "{name}" exists.'


def not_found_message(integration_id: str) -> str:
    return f'The integration with ID "{integration_id}" doesn\'t exist.'


def config_delete_message(name: str) -> str:
    return f"Uninstall the extension to remove integration '{name}'."


# --------------------------------------------------------------------------------------- problems


@dataclasses.dataclass(frozen=True)
class Problem:
    """A user error as resolvers report it; the schema turns it into ``UserError`` (``code`` names a
    ``schema.core.UserErrorCode`` member). Resolvers stay free of schema imports."""

    field: list[str] | None
    message: str
    code: str


def problem(field: str | list[str] | None, message: str, code: str) -> Problem:
    return Problem([field] if isinstance(field, str) else field, message, code)


# --------------------------------------------------------------------------------------- input


@dataclasses.dataclass
class IntegrationInput:
    """What create and update accept; ``UNSET`` means "not given" (update keeps the stored value)."""

    name: Any = UNSET
    email: Any = UNSET
    callback_url: Any = UNSET
    identity_link_url: Any = UNSET
    #: ``"ALL"`` or ``"CUSTOM"``.
    resource_access: Any = UNSET
    resources: Any = UNSET


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


def _given(value: Any) -> bool:
    return value is not UNSET


def _text(value: Any) -> str | None:
    """Strip a text input; empty becomes None."""
    if value is None or value is UNSET:
        return None
    value = str(value).strip()
    return value or None


def valid_url(value: str) -> bool:
    """An absolute http(s) URL with a host, as callback and identity link URLs must be."""
    if len(value) > MAX_TEXT or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(host)


def valid_email(value: str) -> bool:
    return len(value) <= MAX_EMAIL and _EMAIL.match(value) is not None


@dataclasses.dataclass
class ValidatedInput:
    #: Integration columns to write.
    fields: dict[str, Any]
    #: The grant to store, or None to keep the stored one (updates that do not mention resources).
    grant: GrantSpec | None
    errors: list[Problem]


def validate_input(
    data: IntegrationInput,
    *,
    creating: bool,
    path: tuple[str, ...] = ("input",),
    stored_selection: Sequence[str] = (),
) -> ValidatedInput:
    """Check every field and collect all problems at once (nothing is written when there are any)."""
    errors: list[Problem] = []
    fields: dict[str, Any] = {}

    def refuse(field: str, message: str, code: str) -> None:
        errors.append(problem([*path, field], message, code))

    if creating or _given(data.name):
        name = _text(data.name)
        if name is None:
            refuse("name", REQUIRED_MESSAGE, "REQUIRED")
        elif len(name) > MAX_TEXT:
            refuse("name", f"The name must not be longer than {MAX_TEXT} characters.", "INVALID")
        else:
            fields["name"] = name
    if creating or _given(data.email):
        email = _text(data.email)
        if email is not None and not valid_email(email):
            refuse("email", EMAIL_MESSAGE, "INVALID_EMAIL")
        else:
            fields["email"] = email or ""
    for attr, column, graphql_name in (
        ("callback_url", "endpoint", "callbackUrl"),
        ("identity_link_url", "identity_link_url", "identityLinkUrl"),
    ):
        raw = getattr(data, attr)
        if creating or _given(raw):
            url = _text(raw)
            if url is not None and not valid_url(url):
                refuse(graphql_name, URL_MESSAGE, "INVALID_URL")
            else:
                fields[column] = url

    grant: GrantSpec | None = None
    access = data.resource_access if _given(data.resource_access) else None
    resources = data.resources if _given(data.resources) else None
    if access is None and resources is not None:
        access = RESOURCE_ACCESS_CUSTOM
    if access is None and creating:
        access = RESOURCE_ACCESS_CUSTOM
    if access == RESOURCE_ACCESS_ALL:
        grant = GrantSpec.all()
    elif access == RESOURCE_ACCESS_CUSTOM:
        selection = list(resources) if resources is not None else list(stored_selection)
        unknown = list(dict.fromkeys(acl.TREE.unknown(selection)))
        if unknown:
            refuse(
                "resources",
                f"Unknown resource ids: {', '.join(unknown)}.",
                "UNKNOWN_RESOURCE",
            )
        else:
            grant = GrantSpec.custom(selection)
    return ValidatedInput(fields, grant, errors)


# --------------------------------------------------------------------------------------- ids


def global_id(integration_id: int) -> str:
    return str(GlobalID(NODE_TYPE, str(integration_id)))


def parse_global_id(value: str) -> int | None:
    """The database id behind an integration's global id, or None when it is not one."""
    try:
        gid = GlobalID.from_id(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if gid.type_name != NODE_TYPE or not gid.node_id.isdigit():
        return None
    number = int(gid.node_id)
    return number if 0 < number < 2**31 else None


async def get_integration(value: str) -> IntegrationRow | None:
    integration_id = parse_global_id(value)
    if integration_id is None:
        return None
    return await IntegrationRow.get_or_none(id=integration_id)


async def find_for_mutation(value: str, field: list[str]) -> tuple[IntegrationRow | None, list[Problem]]:
    row = await get_integration(value)
    if row is None:
        return None, [problem(field, not_found_message(value), "NOT_FOUND")]
    return row, []


# --------------------------------------------------------------------------------------- grants


async def save_grant(integration_id: int, grant: GrantSpec, conn: BaseDBAsyncClient) -> None:
    values = {
        "all_resources": grant.all_resources,
        "resources": sorted(grant.held),
        "partial_resources": sorted(grant.partial),
        "selected": list(grant.selected),
        "updated_at": clock.now(),
    }
    updated = await IntegrationGrant.filter(integration_id=integration_id).using_db(conn).update(**values)
    if not updated:
        await IntegrationGrant.create(using_db=conn, integration_id=integration_id, **values)


def held_resources(grant: IntegrationGrant | None) -> list[str]:
    """What a stored grant holds (``["Magento_Backend::all"]`` for All)."""
    if grant is None:
        return []
    if grant.all_resources:
        return [acl.ALL]
    return list(grant.resources)


def _manage_guard(principal: Principal | None, grant: IntegrationGrant | None, field: list[str]) -> list[Problem]:
    """Refuse to let a caller edit, delete or (re)authorize an integration that holds more than it does."""
    if principal is None:
        return []
    missing = out_of_scope(principal, held_resources(grant))
    if not missing:
        return []
    return [
        problem(
            field,
            f"You can't manage an integration that holds resources you don't hold: {', '.join(missing)}.",
            "OUT_OF_SCOPE_PERMISSION",
        )
    ]


def _grant_guard(principal: Principal | None, grant: GrantSpec, path: tuple[str, ...]) -> list[Problem]:
    if principal is None:
        return []
    missing = out_of_scope(principal, grant.held)
    if not missing:
        return []
    field = "resourceAccess" if grant.all_resources else "resources"
    return [
        problem(
            [*path, field],
            f"You can't grant resources you don't hold: {', '.join(missing)}.",
            "OUT_OF_SCOPE_PERMISSION",
        )
    ]


async def check_manage_permission(principal: Principal | None, row: IntegrationRow, field: list[str]) -> list[Problem]:
    if principal is None or principal.holds_all:
        return []
    grant = await IntegrationGrant.get_or_none(integration_id=row.id)
    return _manage_guard(principal, grant, field)


# --------------------------------------------------------------------------------------- writes


async def name_taken(name: str, exclude_id: int | None = None) -> bool:
    """Names are unique regardless of case, as on Magento's (case-insensitive) MySQL column."""
    query = IntegrationRow.filter(name__iexact=name)
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    return await query.exists()


async def create_integration(
    data: IntegrationInput,
    *,
    principal: Principal | None,
    setup_type: int = SETUP_MANUAL,
    status: int = STATUS_INACTIVE,
    config_hash: str | None = None,
    path: tuple[str, ...] = ("input",),
    replace_id: int | None = None,
) -> tuple[IntegrationRow | None, list[Problem]]:
    """Create an integration with its consumer and grant, in one transaction.

    ``principal`` is the caller (None for the server itself, e.g. config-file integrations): it may
    only grant resources it holds. ``replace_id`` deletes that integration in the same transaction
    (config-file integrations are re-created when their declaration changes); if it is already gone,
    someone else replaced it first and nothing is created.
    """
    checked = validate_input(data, creating=True, path=path)
    if checked.errors:
        return None, checked.errors
    assert checked.grant is not None
    errors = _grant_guard(principal, checked.grant, path)
    if errors:
        return None, errors
    name = checked.fields["name"]
    duplicate = [problem([*path, "name"], name_exists_message(name), "UNIQUE")]
    if await name_taken(name, exclude_id=replace_id):
        return None, duplicate
    try:
        async with in_transaction() as conn:
            if replace_id is not None and not await delete_integration_row(replace_id, conn=conn):
                raise _AlreadyReplacedError
            row = await IntegrationRow.create(
                using_db=conn, setup_type=setup_type, status=status, config_hash=config_hash, **checked.fields
            )
            await OAuthConsumer.create(
                using_db=conn,
                integration_id=row.id,
                name=f"Integration{row.id}",
                key=secret_box.generate_token(),
                secret=secret_box.encrypt(secret_box.generate_token()),
            )
            await save_grant(row.id, checked.grant, conn)
    except _AlreadyReplacedError:
        return None, [problem([*path, "name"], f"The integration '{name}' was replaced meanwhile.", "NOT_FOUND")]
    except IntegrityError:
        # Another request created the same name between the check and the insert.
        if await name_taken(name, exclude_id=replace_id):
            return None, duplicate
        raise
    return row, []


class _AlreadyReplacedError(Exception):
    """The integration to replace was deleted by a concurrent replacement."""


async def update_integration(
    value: str, data: IntegrationInput, *, principal: Principal | None
) -> tuple[IntegrationRow | None, list[Problem]]:
    """Edit fields and, when resources are given, re-save the grant. Status and tokens are untouched."""
    row, errors = await find_for_mutation(value, ["input", "id"])
    if row is None:
        return None, errors
    if row.setup_type == SETUP_CONFIG:
        return None, [problem(["input", "id"], CONFIG_EDIT_MESSAGE, "READ_ONLY")]
    stored = await IntegrationGrant.get_or_none(integration_id=row.id)
    errors = _manage_guard(principal, stored, ["input", "id"])
    if errors:
        return None, errors
    selection = list(stored.selected) if stored is not None and not stored.all_resources else []
    checked = validate_input(data, creating=False, stored_selection=selection)
    if checked.errors:
        return None, checked.errors
    if checked.grant is not None:
        errors = _grant_guard(principal, checked.grant, ("input",))
        if errors:
            return None, errors
    name = checked.fields.get("name")
    duplicate = [problem(["input", "name"], name_exists_message(name or ""), "UNIQUE")]
    if name is not None and await name_taken(name, exclude_id=row.id):
        return None, duplicate
    try:
        async with in_transaction() as conn:
            updated = (
                await IntegrationRow.filter(id=row.id).using_db(conn).update(**checked.fields, updated_at=clock.now())
            )
            if updated and checked.grant is not None:
                await save_grant(row.id, checked.grant, conn)
    except IntegrityError:
        if name is not None and await name_taken(name, exclude_id=row.id):
            return None, duplicate
        raise
    if not updated:
        return None, [problem(["input", "id"], not_found_message(value), "NOT_FOUND")]
    return await IntegrationRow.get_or_none(id=row.id), []


async def delete_integration(value: str, *, principal: Principal | None) -> tuple[str | None, list[Problem]]:
    """Delete an integration; its consumer, token, nonces and grant go with it (foreign keys cascade)."""
    row, errors = await find_for_mutation(value, ["id"])
    if row is None:
        return None, errors
    if row.setup_type == SETUP_CONFIG:
        return None, [problem(["id"], config_delete_message(row.name), "READ_ONLY")]
    errors = await check_manage_permission(principal, row, ["id"])
    if errors:
        return None, errors
    deleted = await IntegrationRow.filter(id=row.id).delete()
    if not deleted:
        return None, [problem(["id"], not_found_message(value), "NOT_FOUND")]
    return global_id(row.id), []


async def delete_integration_row(integration_id: int, *, conn: BaseDBAsyncClient | None = None) -> int:
    """Remove an integration and (by cascade) everything hanging off it; no checks."""
    query = IntegrationRow.filter(id=integration_id)
    return await (query.using_db(conn) if conn is not None else query).delete()


# --------------------------------------------------------------------------------------- reads


@dataclasses.dataclass(frozen=True)
class Page:
    rows: list[IntegrationRow]
    has_next_page: bool
    has_previous_page: bool


class BadCursorError(ValueError):
    """An ``after`` cursor this server did not hand out."""


CURSOR_PREFIX = "integration-name:"


def cursor_for(row: IntegrationRow) -> str:
    return base64.b64encode(f"{CURSOR_PREFIX}{row.name}".encode()).decode()


def _name_after(cursor: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursorError(cursor) from None
    if not decoded.startswith(CURSOR_PREFIX):
        raise BadCursorError(cursor)
    return decoded.removeprefix(CURSOR_PREFIX)


async def list_integrations(
    *, first: int | None, after: str | None, status: int | None, search: str | None, max_page_size: int
) -> Page:
    """One page ordered by name (keyset on the unique name, so pages stay stable under inserts)."""
    size = max_page_size if first is None else max(0, min(first, max_page_size))
    query = IntegrationRow.all()
    if status is not None:
        query = query.filter(status=status)
    term = (search or "").strip()
    if term:
        query = query.filter(Q(name__icontains=term) | Q(email__icontains=term))
    if after:
        query = query.filter(name__gt=_name_after(after))
    rows = await query.order_by("name").limit(size + 1)
    return Page(rows=rows[:size], has_next_page=len(rows) > size, has_previous_page=bool(after))


# --------------------------------------------------------------------------------------- loaders


@dataclasses.dataclass(frozen=True)
class Credentials:
    """OAuth credentials as an admin sees them; the access token fields are None until activation."""

    consumer_key: str
    consumer_secret: str = dataclasses.field(repr=False)
    access_token: str | None = dataclasses.field(default=None, repr=False)
    access_token_secret: str | None = dataclasses.field(default=None, repr=False)


async def _load_grants(ids: list[int]) -> list[IntegrationGrant | None]:
    found = {g.integration_id: g for g in await IntegrationGrant.filter(integration_id__in=ids)}  # type: ignore[attr-defined]
    return [found.get(i) for i in ids]


async def _load_consumers(ids: list[int]) -> list[OAuthConsumer | None]:
    found = {c.integration_id: c for c in await OAuthConsumer.filter(integration_id__in=ids)}  # type: ignore[attr-defined]
    return [found.get(i) for i in ids]


async def _load_tokens(consumer_ids: list[int]) -> list[OAuthToken | None]:
    rows = await OAuthToken.filter(consumer_id__in=consumer_ids, user_type=oauth_tokens.USER_TYPE_INTEGRATION)
    found = {t.consumer_id: t for t in rows}  # type: ignore[attr-defined]
    return [found.get(i) for i in consumer_ids]


_LOADERS = {
    "integration.grant": _load_grants,
    "integration.consumer": _load_consumers,
    "integration.token": _load_tokens,
}


def loader(context: Context, name: str) -> DataLoader[int, Any]:
    """The request's DataLoader ``name`` (one of ``_LOADERS``), created on first use."""
    found = context.loaders.get(name)
    if found is None:
        found = context.loaders[name] = DataLoader(load_fn=_LOADERS[name])
    return found


def forget_loaders(context: Context) -> None:
    """After a write, so the rest of the request reads fresh rows."""
    for name in _LOADERS:
        context.loaders.pop(name, None)


async def load_grant(context: Context, integration_id: int) -> IntegrationGrant | None:
    return await loader(context, "integration.grant").load(integration_id)


async def load_credentials(context: Context, integration_id: int) -> Credentials | None:
    consumer: OAuthConsumer | None = await loader(context, "integration.consumer").load(integration_id)
    if consumer is None:
        return None
    token: OAuthToken | None = await loader(context, "integration.token").load(consumer.id)
    return credentials_from(consumer, token)


def credentials_from(consumer: OAuthConsumer, token: OAuthToken | None) -> Credentials:
    access = oauth_tokens.decrypt_token(token) if token is not None and token.type == oauth_tokens.TYPE_ACCESS else None
    return Credentials(
        consumer_key=consumer.key,
        consumer_secret=secret_box.decrypt(consumer.secret),
        access_token=access.token if access else None,
        access_token_secret=access.secret if access else None,
    )


def is_token_exchange(row: IntegrationRow) -> bool:
    """Magento runs the OAuth handshake only when both the callback and identity link URLs are set."""
    return bool(row.endpoint) and bool(row.identity_link_url)


def is_secure(row: IntegrationRow) -> bool:
    """False when either URL is plain ``http:`` (Magento's "Integration not secure" mark)."""
    return not any((url or "").lower().startswith("http:") for url in (row.endpoint, row.identity_link_url))
