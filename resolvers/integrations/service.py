"""What can be done to an integration? Create, update, delete, find and list them.

Behaviour follows Magento's ``IntegrationService`` (reference §1.1, §8): one OAuth consumer named
``Integration<id>`` per integration, created in the same transaction; names unique; edits never touch
status or tokens; deleting removes consumer, token, nonces and grant (foreign keys cascade).
Integrations declared in the config file are read-only here (``config_file`` owns them). An admin's writes
go through ``admin_create``, ``admin_update`` and ``admin_delete``, which ask for Your Password first; the
integrations file writes as the server, with no password.
"""

from __future__ import annotations

import binascii
from typing import TYPE_CHECKING, Any

from strawberry.relay import GlobalID
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from auth import secret_box
from auth.clock import clock
from auth.principal import Principal
from models import Integration as IntegrationRow
from models import IntegrationDeclaration, IntegrationGrant, OAuthConsumer
from models.integration import SETUP_CONFIG, SETUP_MANUAL, STATUS_INACTIVE
from models.names import name_key
from models.sql import like_pattern
from resolvers.integrations import events
from resolvers.integrations.grants import check_manage_permission, grant_guard, manage_guard, save_grant
from resolvers.integrations.validation import IntegrationInput, validate_input
from resolvers.pagination import Ordering, Page, keyset_page
from resolvers.problems import Outcome, UserErrorCode
from resolvers.webhooks import outbox
from resolvers.your_password import current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

#: GraphQL type name of integrations, the type part of their global ids.
NODE_TYPE = "Integration"

#: What the integration type shows, as the list reads it.
COLUMNS = (
    "id",
    "name",
    "name_key",
    "email",
    "endpoint",
    "identity_link_url",
    "status",
    "setup_type",
    "allow_oauth1",
    "allow_oauth2",
    "rate_limit_bucket_size",
    "rate_limit_restore_rate",
    "created_at",
    "updated_at",
)
#: Magento's grid order: by name (unique), the id breaking ties.
BY_NAME = Ordering("integration", name="name")
#: The columns the grid sorts on (``ID``, ``NAME``, ``EMAIL``, ``STATUS``), each either way; the id breaks ties.
#: Each ordering names its own cursors, so a cursor only continues the order it was made in.
ORDERINGS: dict[tuple[str, bool], Ordering] = {
    ("NAME", False): BY_NAME,
    ("NAME", True): Ordering("integration-name-desc", name="name", descending=True),
    ("ID", False): Ordering("integration-id"),
    ("ID", True): Ordering("integration-id-desc", descending=True),
    ("EMAIL", False): Ordering("integration-email", name="email", empty=True),
    ("EMAIL", True): Ordering("integration-email-desc", name="email", empty=True, descending=True),
    ("STATUS", False): Ordering("integration-status", name="status", numeric=True),
    ("STATUS", True): Ordering("integration-status-desc", name="status", numeric=True, descending=True),
}

#: SQL for :func:`is_secure` being false: the callback or identity link URL is plain ``http:``.
INSECURE = "(LOWER(COALESCE(endpoint, '')) LIKE 'http:%' OR LOWER(COALESCE(identity_link_url, '')) LIKE 'http:%')"

CONFIG_EDIT_MESSAGE = "Cannot edit integrations created via config file."


def name_exists_message(name: str) -> str:
    return f'The integration with name "{name}" exists.'


def not_found_message(integration_id: str) -> str:
    return f'The integration with ID "{integration_id}" doesn\'t exist.'


def config_delete_message(name: str) -> str:
    return f"Uninstall the extension to remove integration '{name}'."


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


async def find_for_mutation(value: str, field: tuple[str, ...]) -> Outcome[IntegrationRow]:
    row = await get_integration(value)
    if row is None:
        return Outcome.refused(field, not_found_message(value), UserErrorCode.NOT_FOUND)
    return Outcome(row)


# --------------------------------------------------------------------------------------- reads


def as_row(integration: IntegrationRow) -> dict[str, Any]:
    """An integration as the list reads it, so one conversion serves single integrations and pages."""
    return {column: getattr(integration, column) for column in COLUMNS}


async def integrations_page(
    context: Context,
    *,
    status: int | None,
    search: str | None,
    first: int | None,
    after: str | None,
    name: str | None = None,
    email: str | None = None,
    is_secure: bool | None = None,
    sort: str = "NAME",
    descending: bool = False,
) -> Page:
    """A page of integrations in the grid's order (by name unless ``sort`` says otherwise); ``first``
    defaults to a whole page. ``search`` matches name or email; ``name`` and ``email`` are the grid's
    column filters (each "contains", ignoring case); ``is_secure`` keeps those with (False: without) a plain
    ``http:`` URL, as :func:`is_secure` says."""
    where: list[str] = []
    params: list[Any] = []
    if status is not None:
        where.append("status = ?")
        params.append(status)
    term = (search or "").strip()
    if term:
        where.append("(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(email) LIKE ? ESCAPE '\\')")
        params += [like_pattern(term)] * 2
    for column, text in (("name", name), ("email", email)):
        if (text or "").strip():
            where.append(f"LOWER({column}) LIKE ? ESCAPE '\\'")
            params.append(like_pattern((text or "").strip()))
    if is_secure is not None:
        where.append(INSECURE if not is_secure else f"NOT {INSECURE}")
    max_page_size = context.settings.max_page_size
    return await keyset_page(
        ORDERINGS[(sort, descending)],
        f"SELECT {', '.join(COLUMNS)} FROM integration",
        where,
        params,
        first=max_page_size if first is None else first,
        after=after,
        max_page_size=max_page_size,
    )


def is_token_exchange(callback_url: str | None, identity_link_url: str | None) -> bool:
    """Magento runs the OAuth handshake only when both the callback and identity link URLs are set."""
    return bool(callback_url) and bool(identity_link_url)


def is_secure(callback_url: str | None, identity_link_url: str | None) -> bool:
    """False when either URL is plain ``http:`` (Magento's "Integration not secure" mark)."""
    return not any((url or "").lower().startswith("http:") for url in (callback_url, identity_link_url))


# --------------------------------------------------------------------------------------- writes


async def name_taken(name: str, exclude_id: int | None = None) -> bool:
    """Names are unique by their key (case, Unicode form and surrounding space do not make a new name)."""
    query = IntegrationRow.filter(name_key=name_key(name))
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    return await query.exists()


def declared_name_message(name: str) -> str:
    return f'The name "{name}" is declared in the integrations file; choose another name.'


async def declared_in_file(name: str) -> bool:
    """Whether the integrations file declares this name (reserved for it, even when not applied)."""
    return await IntegrationDeclaration.filter(name_key=name_key(name)).exists()


async def _name_problem(name: str, field: tuple[str, ...], *, exclude_id: int | None, for_file: bool) -> Outcome[Any]:
    """A refusal when the name is taken (or, outside the file, reserved by it); else an empty outcome."""
    if await name_taken(name, exclude_id=exclude_id):
        return Outcome.refused(field, name_exists_message(name), UserErrorCode.UNIQUE)
    if not for_file and await declared_in_file(name):
        return Outcome.refused(field, declared_name_message(name), UserErrorCode.UNIQUE)
    return Outcome()


async def create_integration(
    data: IntegrationInput,
    *,
    principal: Principal | None,
    setup_type: int = SETUP_MANUAL,
    status: int = STATUS_INACTIVE,
    config_hash: str | None = None,
    path: tuple[str, ...] = ("input",),
    replace_id: int | None = None,
) -> Outcome[IntegrationRow]:
    """Create an integration with its consumer and grant, in one transaction.

    ``principal`` is the caller (None for the server itself, e.g. config-file integrations): it may
    only grant resources it holds. ``replace_id`` deletes that integration in the same transaction
    (config-file integrations are re-created when their declaration changes); if it is already gone,
    someone else replaced it first and nothing is created.
    """
    checked = validate_input(data, creating=True, path=path)
    if checked.problems:
        return Outcome(problems=checked.problems)
    assert checked.grant is not None
    problems = grant_guard(principal, checked.grant, path)
    if problems:
        return Outcome(problems=problems)
    name = checked.fields["name"]
    taken = await _name_problem(name, (*path, "name"), exclude_id=replace_id, for_file=setup_type == SETUP_CONFIG)
    if taken.problems:
        return taken
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
            await events.created(row, checked.grant, replaced_id=replace_id)
    except _AlreadyReplacedError:
        message = f"The integration '{name}' was replaced meanwhile."
        return Outcome.refused((*path, "name"), message, UserErrorCode.NOT_FOUND)
    except IntegrityError:
        # Another request created the same name (by key) between the check and the insert.
        if await name_taken(name, exclude_id=replace_id):
            return Outcome.refused((*path, "name"), name_exists_message(name), UserErrorCode.UNIQUE)
        raise
    return Outcome(row)


class _AlreadyReplacedError(Exception):
    """The integration to replace was deleted by a concurrent replacement."""


async def update_integration(
    value: str, data: IntegrationInput, *, principal: Principal | None
) -> Outcome[IntegrationRow]:
    """Edit fields and, when resources are given, re-save the grant. Status and tokens are untouched."""
    found = await find_for_mutation(value, ("input", "id"))
    row = found.value
    if row is None:
        return found
    if row.setup_type == SETUP_CONFIG:
        return Outcome.refused(("input", "id"), CONFIG_EDIT_MESSAGE, UserErrorCode.READ_ONLY)
    stored = await IntegrationGrant.get_or_none(integration_id=row.id)
    problems = manage_guard(principal, stored, ("input", "id"))
    if problems:
        return Outcome(problems=problems)
    selection = list(stored.selected) if stored is not None and not stored.all_resources else []
    checked = validate_input(data, creating=False, stored_selection=selection)
    if checked.problems:
        return Outcome(problems=checked.problems)
    if checked.grant is not None:
        problems = grant_guard(principal, checked.grant, ("input",))
        if problems:
            return Outcome(problems=problems)
    name = checked.fields.get("name")
    if name is not None and name_key(name) != row.name_key:
        taken = await _name_problem(name, ("input", "name"), exclude_id=row.id, for_file=False)
        if taken.problems:
            return taken
    try:
        async with outbox.transaction() as pending:
            conn = pending.conn
            updated = (
                await IntegrationRow.filter(id=row.id).using_db(conn).update(**checked.fields, updated_at=clock.now())
            )
            if updated and checked.grant is not None:
                await save_grant(row.id, checked.grant, conn)
            if updated:
                await events.updated(row, checked.fields, stored, checked.grant)
                reason = outbox.GRANT_CHANGED if checked.grant is not None else outbox.UPDATED
                await outbox.integration_updated(pending, row.id, reason)
    except IntegrityError:
        if name is not None and await name_taken(name, exclude_id=row.id):
            return Outcome.refused(("input", "name"), name_exists_message(name), UserErrorCode.UNIQUE)
        raise
    if not updated:
        return Outcome.refused(("input", "id"), not_found_message(value), UserErrorCode.NOT_FOUND)
    return Outcome(await IntegrationRow.get_or_none(id=row.id))


async def delete_integration(value: str, *, principal: Principal | None) -> Outcome[str]:
    """Delete an integration (the outcome is its global id); its consumer, token, nonces and grant go with it."""
    found = await find_for_mutation(value, ("id",))
    row = found.value
    if row is None:
        return Outcome(problems=found.problems)
    if row.setup_type == SETUP_CONFIG and await IntegrationDeclaration.exists(name_key=row.name_key):
        # Still declared in the file; one removed from it is kept until an admin deletes it (here).
        return Outcome.refused(("id",), config_delete_message(row.name), UserErrorCode.READ_ONLY)
    problems = await check_manage_permission(principal, row, ("id",))
    if problems:
        return Outcome(problems=problems)
    async with in_transaction() as conn:
        deleted = await delete_integration_row(row.id, conn=conn)
        if deleted:
            await events.deleted(row)
    if not deleted:
        return Outcome.refused(("id",), not_found_message(value), UserErrorCode.NOT_FOUND)
    return Outcome(global_id(row.id))


async def delete_integration_row(integration_id: int, *, conn: BaseDBAsyncClient | None = None) -> int:
    """Remove an integration and (by cascade) everything hanging off it; no checks."""
    query = IntegrationRow.filter(id=integration_id)
    return await (query.using_db(conn) if conn is not None else query).delete()


# --------------------------------------------------------------------------------------- an admin's writes


async def admin_create(
    context: Context, data: IntegrationInput, current_password: str | None
) -> Outcome[IntegrationRow]:
    """``createIntegration``: Your Password first (a wrong one alone is reported, nothing is written)."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    return await create_integration(data, principal=context.principal)


async def admin_update(
    context: Context, value: str, data: IntegrationInput, current_password: str | None
) -> Outcome[IntegrationRow]:
    """``updateIntegration``: Your Password first."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    return await update_integration(value, data, principal=context.principal)


async def admin_delete(context: Context, value: str, current_password: str | None) -> Outcome[str]:
    """``deleteIntegration``: Your Password first."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    return await delete_integration(value, principal=context.principal)
