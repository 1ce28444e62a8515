"""What an integration's audit events say: the integration as created, what an edit changed (fields old and
new, the grant's resources added and removed), and which credentials were shown.

Each function is called inside the transaction of the write it records (``audit.record``). URLs are shown
with any password masked; credentials are named, never shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from audit import Action, Target, record
from audit.diff import changes, resource_diff, safe_url
from auth.grants import GrantSpec
from models import Integration as IntegrationRow
from models import IntegrationGrant
from models.integration import SETUP_CONFIG
from resolvers.integrations.grants import held_resources
from resolvers.integrations.validation import auth_methods_of

#: Integration columns as events name them (the API's names).
_FIELDS = {
    "name": "name",
    "email": "email",
    "endpoint": "callbackUrl",
    "identity_link_url": "identityLinkUrl",
    "rate_limit_bucket_size": "rateLimitBucketSize",
    "rate_limit_restore_rate": "rateLimitRestoreRate",
}
#: The credentials each way of showing them shows.
OAUTH1_CREDENTIALS = ("consumerKey", "consumerSecret", "accessToken", "accessTokenSecret")
CLIENT_CREDENTIALS = ("consumerKey", "consumerSecret")


def _shown(columns: Mapping[str, Any]) -> dict[str, Any]:
    """The columns of ``columns`` that events show, by their API names (URLs without passwords)."""
    shown = {name: columns[column] for column, name in _FIELDS.items() if column in columns}
    for url in ("callbackUrl", "identityLinkUrl"):
        if url in shown:
            shown[url] = safe_url(shown[url])
    if "allow_oauth1" in columns or "allow_oauth2" in columns:
        shown["authMethods"] = auth_methods_of(bool(columns.get("allow_oauth1")), bool(columns.get("allow_oauth2")))
    return shown


def _columns(row: IntegrationRow) -> dict[str, Any]:
    return {column: getattr(row, column) for column in (*_FIELDS, "allow_oauth1", "allow_oauth2")}


def _access(all_resources: bool) -> str:
    return "ALL" if all_resources else "CUSTOM"


async def created(row: IntegrationRow, grant: GrantSpec, *, replaced_id: int | None) -> None:
    """``integration.created``, or ``integration.reset_by_config_file`` when it replaces ``replaced_id``."""
    details = {
        **_shown(_columns(row)),
        "setupType": "CONFIG" if row.setup_type == SETUP_CONFIG else "MANUAL",
        "resourceAccess": _access(grant.all_resources),
        "resources": sorted(grant.held),
    }
    action = Action.INTEGRATION_CREATED
    if replaced_id is not None:
        action = Action.INTEGRATION_RESET_BY_CONFIG_FILE
        details["replacedId"] = replaced_id
    await record(action, target_type=Target.INTEGRATION, target_id=row.id, details=details)


async def updated(
    row: IntegrationRow, fields: Mapping[str, Any], stored: IntegrationGrant | None, grant: GrantSpec | None
) -> None:
    """``integration.updated`` for changed fields, ``integration.grant_changed`` for a grant that changed."""
    old, new = _shown(_columns(row)), _shown({**_columns(row), **fields})
    changed = changes(old, new)
    if changed:
        details = {"name": row.name, "changes": changed}
        await record(Action.INTEGRATION_UPDATED, target_type=Target.INTEGRATION, target_id=row.id, details=details)
    if grant is None:
        return
    before = held_resources(stored)
    diff = resource_diff(before, grant.held)
    old_access = _access(stored is not None and stored.all_resources)
    if diff["added"] or diff["removed"] or old_access != _access(grant.all_resources):
        details = {
            "name": new.get("name", row.name),
            "resourceAccess": {"old": old_access, "new": _access(grant.all_resources)},
            **diff,
        }
        await record(
            Action.INTEGRATION_GRANT_CHANGED, target_type=Target.INTEGRATION, target_id=row.id, details=details
        )


async def grant_trimmed(row: IntegrationRow, removed: Iterable[str], days: int, *, was_all: bool) -> None:
    """``integration.grant_trimmed``: the resources a trim took away (unused for ``days`` days)."""
    details = {
        "name": row.name,
        "days": days,
        "resourceAccess": {"old": _access(was_all), "new": "CUSTOM"},
        "removed": sorted(removed),
    }
    await record(Action.INTEGRATION_GRANT_TRIMMED, target_type=Target.INTEGRATION, target_id=row.id, details=details)


async def deleted(row: IntegrationRow) -> None:
    details = {"name": row.name, "setupType": "CONFIG" if row.setup_type == SETUP_CONFIG else "MANUAL"}
    await record(Action.INTEGRATION_DELETED, target_type=Target.INTEGRATION, target_id=row.id, details=details)


async def activated(row: IntegrationRow, method: str, *, reauthorize: bool) -> None:
    """``integration.activated`` or ``integration.reauthorized``; ``method``: manual, oauth2, token_exchange."""
    action = Action.INTEGRATION_REAUTHORIZED if reauthorize else Action.INTEGRATION_ACTIVATED
    await record(action, target_type=Target.INTEGRATION, target_id=row.id, details={"name": row.name, "method": method})


async def credentials_shown(integration_id: int, name: str, credentials: Iterable[str], via: str) -> None:
    """An admin was shown these credentials (by name) of the integration, through ``via`` (a field's name)."""
    details = {"name": name, "credentials": list(credentials), "via": via}
    await record(
        Action.INTEGRATION_CREDENTIALS_SHOWN, target_type=Target.INTEGRATION, target_id=integration_id, details=details
    )
