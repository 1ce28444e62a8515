"""What a webhook subscription's audit events say: its integration, events and target (a URL's password masked),
what an update changed, the overlap of a secret rotation, and why the worker disabled it. Never the secret,
never the document's text beyond a change of it.

Each function is called inside the transaction of the change it records (``audit.record``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from audit import Action, Target, record
from audit.context import SYSTEM
from audit.diff import changes, safe_url


def _shown(integration_id: int, events: Sequence[str], target_url: str | None, is_active: bool) -> dict[str, Any]:
    return {
        "integrationId": integration_id,
        "events": sorted(events),
        "targetUrl": safe_url(target_url),
        "isActive": is_active,
    }


async def created(
    subscription_id: int, integration_id: int, events: Sequence[str], target_url: str, is_active: bool
) -> None:
    details = _shown(integration_id, events, target_url, is_active)
    await record(
        Action.WEBHOOK_SUBSCRIPTION_CREATED,
        target_type=Target.WEBHOOK_SUBSCRIPTION,
        target_id=subscription_id,
        details=details,
    )


async def updated(subscription_id: int, integration_id: int, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """``webhook.subscription_updated`` with the fields that changed (a changed document is named, not shown)."""
    before = _shown(integration_id, old["events"], old["target_url"], old["is_active"])
    after = _shown(integration_id, new["events"], new["target_url"], new["is_active"])
    changed = changes(before, after)
    if old["query"] != new["query"]:
        changed["query"] = {"old": "(previous document)", "new": "(new document)"}
    if not changed:
        return
    details = {"integrationId": integration_id, "changes": changed}
    await record(
        Action.WEBHOOK_SUBSCRIPTION_UPDATED,
        target_type=Target.WEBHOOK_SUBSCRIPTION,
        target_id=subscription_id,
        details=details,
    )


async def deleted(subscription_id: int, integration_id: int, target_url: str) -> None:
    details = {"integrationId": integration_id, "targetUrl": safe_url(target_url)}
    await record(
        Action.WEBHOOK_SUBSCRIPTION_DELETED,
        target_type=Target.WEBHOOK_SUBSCRIPTION,
        target_id=subscription_id,
        details=details,
    )


async def secret_rotated(subscription_id: int, integration_id: int, overlap_seconds: int) -> None:
    details = {"integrationId": integration_id, "overlapSeconds": overlap_seconds}
    await record(
        Action.WEBHOOK_SECRET_ROTATED,
        target_type=Target.WEBHOOK_SUBSCRIPTION,
        target_id=subscription_id,
        details=details,
    )


async def disabled(subscription_id: int, integration_id: int, failures: int) -> None:
    """Disabled by the delivery worker (the server acts, not an admin)."""
    details = {"integrationId": integration_id, "consecutiveFailures": failures}
    await record(
        Action.WEBHOOK_SUBSCRIPTION_DISABLED,
        target_type=Target.WEBHOOK_SUBSCRIPTION,
        target_id=subscription_id,
        details=details,
        actor=SYSTEM,
    )
