"""Who gets which events, where? An integration's webhook subscriptions: create, update, delete, rotate.

Subscriptions are managed by admins only, as the integration itself is: each write asks for Your Password
first, and the escalation guard applies (an admin may not manage the subscriptions of an integration that
holds resources the admin does not). The document is checked against the schema and the integration's grant
when it is saved (``documents``: see ``schema.webhook_documents``); the target URL must be an http(s) URL,
and the SSRF guard of callbacks checks every address it resolves to when a delivery is made.

The signing secret (``whsec_...``) is shown once, by ``createWebhookSubscription`` and
``rotateWebhookSecret``, and stored encrypted. A rotation may keep the previous secret signing for an overlap
(both signatures in ``webhook-signature``), so receivers can switch without losing a delivery.

Each state change happens in one function here, named for it, so it is found in one place:
``create_subscription`` (created), ``update_subscription`` (updated; enabling a disabled one clears its
failure count), ``delete_subscription`` (deleted), ``rotate_secret`` (secret rotated) and
``disable_after_failures`` (disabled by the delivery worker).
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime as dt
import ipaddress
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from strawberry import UNSET
from strawberry.relay import GlobalID
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from auth import secret_box
from auth.clock import clock
from auth.grants import granted_resources
from models import Integration as IntegrationRow
from models import IntegrationGrant, WebhookSubscription, WebhookSubscriptionEvent
from models.sql import execute, fetch_one
from models.values import as_bool
from observability import events as security_events
from resolvers.integrations.callback import FORBIDDEN, METADATA_HOSTNAMES, classify
from resolvers.integrations.grants import check_manage_permission
from resolvers.integrations.service import find_for_mutation
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.webhooks import history, signing
from resolvers.webhooks.events import CATALOGUE, WebhookEventType
from resolvers.your_password import current_password_problems

if TYPE_CHECKING:
    from schema.context import Context

logger = logging.getLogger("integrations.webhooks")

NODE_TYPE = "WebhookSubscription"
MAX_URL = 2048
#: The longest overlap a rotation may keep the previous secret signing: 30 days.
MAX_OVERLAP_SECONDS = 30 * 86_400

URL_MESSAGE = (
    "Enter an absolute http:// or https:// URL with a host (no user name or password), at most 2048 characters."
)
FORBIDDEN_URL_MESSAGE = "Webhooks never go to link-local or cloud-metadata addresses."
EVENTS_REQUIRED = "Choose at least one event."
OVERLAP_OUT_OF_RANGE = f"The overlap must be between 0 and {MAX_OVERLAP_SECONDS} seconds (30 days)."


def not_found_message(value: str) -> str:
    return f'The webhook subscription with ID "{value}" doesn\'t exist.'


class DocumentChecker(Protocol):
    """Checks a subscription document against the schema and a grant (``schema.webhook_documents``)."""

    def check(
        self, query: str, events: list[WebhookEventType], held: frozenset[str]
    ) -> tuple[list[Problem], tuple[str, ...]]: ...


@dataclasses.dataclass
class SubscriptionInput:
    """What create and update accept; ``UNSET`` means "not given" (update keeps the stored value)."""

    integration_id: Any = UNSET
    events: Any = UNSET
    target_url: Any = UNSET
    query: Any = UNSET
    is_active: Any = UNSET


@dataclasses.dataclass(frozen=True)
class Subscription:
    """A subscription as the API shows it; ``secret`` only right after it was made or rotated."""

    row: WebhookSubscription
    events: tuple[WebhookEventType, ...]
    secret: str | None = None


# --------------------------------------------------------------------------------------- ids and reads


def global_id(subscription_id: int) -> str:
    return str(GlobalID(NODE_TYPE, str(subscription_id)))


def parse_global_id(value: str, node_type: str = NODE_TYPE) -> int | None:
    """The database id behind a global id of ``node_type``, or None when it is not one."""
    try:
        gid = GlobalID.from_id(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if gid.type_name != node_type or not gid.node_id.isdigit():
        return None
    number = int(gid.node_id)
    return number if 0 < number < 2**31 else None


async def events_of(subscription_ids: Sequence[int]) -> dict[int, tuple[WebhookEventType, ...]]:
    """Each subscription's events, in catalogue order."""
    order = list(CATALOGUE)
    found: dict[int, list[WebhookEventType]] = {i: [] for i in subscription_ids}
    rows = await WebhookSubscriptionEvent.filter(subscription_id__in=list(subscription_ids)).values_list(
        "subscription_id", "event"
    )
    for subscription_id, event in rows:
        found[subscription_id].append(WebhookEventType(event))
    return {i: tuple(sorted(events, key=order.index)) for i, events in found.items()}


async def subscriptions_of(integration_id: int) -> list[Subscription]:
    rows = await WebhookSubscription.filter(integration_id=integration_id).order_by("id")
    events = await events_of([r.id for r in rows])
    return [Subscription(row, events[row.id]) for row in rows]


async def get_subscription(value: str) -> Subscription | None:
    subscription_id = parse_global_id(value)
    row = await WebhookSubscription.get_or_none(id=subscription_id) if subscription_id is not None else None
    if row is None:
        return None
    return Subscription(row, (await events_of([row.id]))[row.id])


async def held_by(integration_id: int) -> frozenset[str]:
    """What the integration's stored grant holds now."""
    grant = await IntegrationGrant.get_or_none(integration_id=integration_id)
    return granted_resources(grant.all_resources, grant.resources) if grant is not None else frozenset()


# --------------------------------------------------------------------------------------- input checks


def target_url_problem(url: str) -> tuple[str, UserErrorCode] | None:
    """What is wrong with a target URL as typed (its host's addresses are checked when delivering)."""
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        return URL_MESSAGE, UserErrorCode.INVALID_URL
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return URL_MESSAGE, UserErrorCode.INVALID_URL
    if parts.scheme.lower() not in {"http", "https"} or not host or parts.username or parts.password:
        return URL_MESSAGE, UserErrorCode.INVALID_URL
    if host.rstrip(".") in METADATA_HOSTNAMES:
        return FORBIDDEN_URL_MESSAGE, UserErrorCode.NOT_ALLOWED
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if classify(address) == FORBIDDEN:
        return FORBIDDEN_URL_MESSAGE, UserErrorCode.NOT_ALLOWED
    return None


def _checked_events(values: Any, problems: list[Problem]) -> list[WebhookEventType]:
    chosen = list(dict.fromkeys(values or ()))
    if not chosen:
        problems.append(Problem(("input", "events"), EVENTS_REQUIRED, UserErrorCode.REQUIRED))
    for event in chosen:
        if not CATALOGUE[event].subscribable:
            message = f"{event.value} is sent only by sendTestWebhook; it cannot be subscribed to."
            problems.append(Problem(("input", "events"), message, UserErrorCode.INVALID))
    return chosen


def _checked_url(value: Any, problems: list[Problem]) -> str:
    url = (value or "").strip() if isinstance(value, str) or value is None else ""
    problem = target_url_problem(url) if url else ("Enter the target URL.", UserErrorCode.REQUIRED)
    if problem is not None:
        problems.append(Problem(("input", "target_url"), *problem))
    return url


# --------------------------------------------------------------------------------------- writes


async def create_subscription(
    context: Context, data: SubscriptionInput, current_password: str | None, documents: DocumentChecker
) -> Outcome[Subscription]:
    """``createWebhookSubscription``: Your Password, the integration, the input, then one transaction."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    found = await find_for_mutation(str(data.integration_id), ("input", "integration_id"))
    integration = found.value
    if integration is None:
        return Outcome(problems=found.problems)
    problems = await check_manage_permission(context.principal, integration, ("input", "integration_id"))
    if problems:
        return Outcome(problems=problems)
    events = _checked_events(data.events, problems)
    url = _checked_url(data.target_url, problems)
    query = data.query if isinstance(data.query, str) else ""
    if not query.strip():
        problems.append(Problem(("input", "query"), "Enter the subscription document.", UserErrorCode.REQUIRED))
    if problems:
        return Outcome(problems=problems)
    problems, _needed = documents.check(query, events, await held_by(integration.id))
    if problems:
        return Outcome(problems=problems)
    secret = signing.generate_secret()
    async with in_transaction() as conn:
        row = await WebhookSubscription.create(
            using_db=conn,
            integration_id=integration.id,
            target_url=url,
            query=query,
            secret=secret_box.encrypt(secret),
            is_active=data.is_active is not False,
        )
        await _save_events(row.id, events, conn)
        await history.created(row.id, integration.id, [e.value for e in events], url, row.is_active)
    logger.info("Webhook subscription %s created for integration %s", row.id, integration.id)
    return Outcome(Subscription(row, tuple(events), secret))


async def _save_events(subscription_id: int, events: Sequence[WebhookEventType], conn: BaseDBAsyncClient) -> None:
    await WebhookSubscriptionEvent.filter(subscription_id=subscription_id).using_db(conn).delete()
    await WebhookSubscriptionEvent.bulk_create(
        [WebhookSubscriptionEvent(subscription_id=subscription_id, event=e.value) for e in events], using_db=conn
    )


async def _found(context: Context, value: str, field: tuple[str, ...]) -> Outcome[Subscription]:
    """The subscription, if it exists and the caller may manage its integration."""
    subscription = await get_subscription(value)
    if subscription is None:
        return Outcome.refused(field, not_found_message(value), UserErrorCode.NOT_FOUND)
    integration = await IntegrationRow.get_or_none(id=subscription.row.integration_id)  # type: ignore[attr-defined]
    if integration is None:
        return Outcome.refused(field, not_found_message(value), UserErrorCode.NOT_FOUND)
    problems = await check_manage_permission(context.principal, integration, field)
    return Outcome(subscription, problems)


async def update_subscription(
    context: Context, value: str, data: SubscriptionInput, current_password: str | None, documents: DocumentChecker
) -> Outcome[Subscription]:
    """``updateWebhookSubscription``: fields left out keep their values; the document is checked again with the
    events it will have (and the grant as it is now) whenever either changes. Enabling clears the failure run."""
    problems = await current_password_problems(context, current_password, ("input", "current_password"))
    if problems:
        return Outcome(problems=problems)
    found = await _found(context, value, ("input", "id"))
    if found.value is None or found.problems:
        return Outcome(problems=found.problems)
    current = found.value
    row = current.row
    changes: dict[str, Any] = {}
    events = list(current.events)
    if data.events is not UNSET:
        events = _checked_events(data.events, problems)
    if data.target_url is not UNSET:
        changes["target_url"] = _checked_url(data.target_url, problems)
    query = row.query
    if data.query is not UNSET:
        query = data.query if isinstance(data.query, str) else ""
        if not query.strip():
            problems.append(Problem(("input", "query"), "Enter the subscription document.", UserErrorCode.REQUIRED))
        changes["query"] = query
    if problems:
        return Outcome(problems=problems)
    if data.events is not UNSET or data.query is not UNSET:
        problems, _needed = documents.check(query, events, await held_by(row.integration_id))  # type: ignore[attr-defined]
        if problems:
            return Outcome(problems=problems)
    if data.is_active is not UNSET and data.is_active is not None:
        changes["is_active"] = bool(data.is_active)
        if data.is_active and not row.is_active:
            changes.update(consecutive_failures=0, disabled_at=None, disabled_reason=None)
    old = {
        "events": [e.value for e in current.events],
        "target_url": row.target_url,
        "is_active": row.is_active,
        "query": row.query,
    }
    new = {**old, **{k: v for k, v in changes.items() if k in old}, "events": [e.value for e in events]}
    async with in_transaction() as conn:
        updated = await WebhookSubscription.filter(id=row.id).using_db(conn).update(**changes, updated_at=clock.now())
        if updated and data.events is not UNSET:
            await _save_events(row.id, events, conn)
        if updated:
            await history.updated(row.id, row.integration_id, old, new)  # type: ignore[attr-defined]
    if not updated:
        return Outcome.refused(("input", "id"), not_found_message(value), UserErrorCode.NOT_FOUND)
    logger.info("Webhook subscription %s updated", row.id)
    refreshed = await get_subscription(value)
    return Outcome(refreshed) if refreshed is not None else Outcome()


async def delete_subscription(context: Context, value: str, current_password: str | None) -> Outcome[str]:
    """``deleteWebhookSubscription``: its pending deliveries go with it (nothing more is sent)."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await _found(context, value, ("id",))
    if found.value is None or found.problems:
        return Outcome(problems=found.problems)
    row = found.value.row
    async with in_transaction():
        if not await WebhookSubscription.filter(id=row.id).delete():
            return Outcome.refused(("id",), not_found_message(value), UserErrorCode.NOT_FOUND)
        await history.deleted(row.id, row.integration_id, row.target_url)  # type: ignore[attr-defined]
    logger.info("Webhook subscription %s deleted", found.value.row.id)
    return Outcome(global_id(found.value.row.id))


async def rotate_secret(
    context: Context, value: str, overlap_seconds: int, current_password: str | None
) -> Outcome[Subscription]:
    """``rotateWebhookSecret``: a new secret, shown once; the previous one keeps signing (a second signature)
    for ``overlap_seconds``. A compare-and-set on the stored secret, so of two rotations one wins."""
    problems = await current_password_problems(context, current_password, ("current_password",))
    if problems:
        return Outcome(problems=problems)
    found = await _found(context, value, ("id",))
    if found.value is None or found.problems:
        return Outcome(problems=found.problems)
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        return Outcome.refused(("overlap_seconds",), OVERLAP_OUT_OF_RANGE, UserErrorCode.OUT_OF_RANGE)
    row = found.value.row
    now = clock.now()
    secret = signing.generate_secret()
    async with in_transaction():
        rotated = await WebhookSubscription.filter(id=row.id, secret=row.secret).update(
            secret=secret_box.encrypt(secret),
            previous_secret=row.secret if overlap_seconds else None,
            previous_secret_expires_at=now + dt.timedelta(seconds=overlap_seconds) if overlap_seconds else None,
            secret_rotated_at=now,
            updated_at=now,
        )
        if rotated:
            await history.secret_rotated(row.id, row.integration_id, overlap_seconds)  # type: ignore[attr-defined]
    if not rotated:
        message = "The secret was rotated by another request meanwhile. Please reload the subscription."
        return Outcome.refused(("id",), message, UserErrorCode.IN_PROGRESS)
    logger.info("The secret of webhook subscription %s was rotated with an overlap of %s s", row.id, overlap_seconds)
    refreshed = await get_subscription(value)
    return Outcome(dataclasses.replace(refreshed, secret=secret)) if refreshed is not None else Outcome()


# --------------------------------------------------------------------------------------- by the worker

_COUNT_FAILURE = (
    "UPDATE webhook_subscription SET consecutive_failures = consecutive_failures + 1 WHERE id = ? "
    "RETURNING consecutive_failures, is_active, integration_id"
)
_DISABLE = (
    "UPDATE webhook_subscription SET is_active = ?, disabled_at = ?, disabled_reason = ?, updated_at = ? "
    "WHERE id = ? AND is_active = ?"
)


@dataclasses.dataclass(frozen=True, slots=True)
class Disabled:
    """A subscription the worker disabled: what to say about it once the transaction has committed."""

    subscription_id: int
    integration_id: int
    failures: int

    def announce(self) -> None:
        security_events.webhook_subscription_disabled(self.subscription_id, self.integration_id, self.failures)


async def count_failure(subscription_id: int, limit: int, conn: BaseDBAsyncClient) -> Disabled | None:
    """Count one more failed attempt in a row; when that reaches ``limit`` (0: never), disable the subscription
    (what to announce, then; else None)."""
    row = await fetch_one(_COUNT_FAILURE, subscription_id, conn=conn)
    if row is None or not limit or row["consecutive_failures"] < limit or not as_bool(row["is_active"]):
        return None
    failures = int(row["consecutive_failures"])
    if not await disable_after_failures(subscription_id, failures, conn):
        return None
    await history.disabled(subscription_id, int(row["integration_id"]), failures)
    return Disabled(subscription_id, int(row["integration_id"]), failures)


async def disable_after_failures(subscription_id: int, failures: int, conn: BaseDBAsyncClient) -> bool:
    """Disable a subscription whose deliveries failed ``failures`` times in a row (once, if still active)."""
    now = clock.now()
    reason = f"Disabled after {failures} failed delivery attempts in a row."
    return bool(await execute(_DISABLE, False, now, reason, now, subscription_id, True, conn=conn))


async def reset_failures(subscription_id: int, conn: BaseDBAsyncClient) -> None:
    """A delivered attempt ends the failure run."""
    await execute(
        "UPDATE webhook_subscription SET consecutive_failures = 0 WHERE id = ? AND consecutive_failures <> 0",
        subscription_id,
        conn=conn,
    )
