"""Who sends the events, and how is none lost? The delivery worker that runs in every server process.

It is started and stopped with the app (``main.create_app``'s lifespan; ``WEBHOOK_DELIVERY=0`` leaves it out
of a process). It looks for due deliveries when this process commits events (``outbox.wake``), when one of
its deliveries ends, and at least every second (events other processes wrote); the look is one indexed
``SELECT MIN(next_attempt_at)``, and only due rows are claimed.

**Claiming.** One statement claims up to the free slots' worth of due rows: it adds one to their attempt
count and moves their ``next_attempt_at`` to the end of a lease (the delivery timeout plus a margin). On
PostgreSQL the rows are picked ``FOR UPDATE SKIP LOCKED``, so workers in other processes take other rows and
never wait on each other; on SQLite the single ``UPDATE ... RETURNING`` is atomic, as SQLite runs one write at
a time. A claimed row is not due again until its lease ends, so no two workers make the same attempt at the
same time; a worker killed between claim and acknowledgement leaves the row to be claimed again when the
lease ends (at least once: the receiver may see the event twice, with the same ``webhook-id``).

**Delivering.** The subscription, its integration and the integration's grant are read as they are now: a
disabled subscription, an integration that is not active or no longer holds the event's resources gets
nothing (the delivery is ``SKIPPED``). The payload is the subscription's document run as the integration
(``schema.webhook_documents``), at most 1 MiB; it is signed (``signing``) and POSTed (``transport``).

**Acknowledging.** The result is written only if the row still carries this claim's attempt number (a
compare-and-set), with the attempt's record, and the subscription's failure run (one more, or back to 0) in
the same transaction. A failed attempt is retried on the schedule (``schedule``) within 24 hours of the event,
then the delivery is ``FAILED``; a subscription whose attempts failed ``disableAfterFailures`` times in a row
is disabled. Finished deliveries older than ``deliveryRetentionDays`` are deleted, in batches, every hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import logging
import time
from typing import Any, Protocol

from tortoise.transactions import in_transaction

from auth import secret_box
from auth.clock import clock
from auth.config import ConfigSnapshot, load_config
from auth.grants import granted_resources
from auth.principal import Principal, integration_principal
from models import WebhookDeliveryAttempt
from models.availability import database_unavailable, log_unavailable
from models.integration import STATUS_ACTIVE
from models.sql import dialect, execute, fetch_all, fetch_one
from models.values import as_bool, as_datetime
from models.webhooks import DELIVERY_DELIVERED, DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_SKIPPED
from observability import events as counted
from observability.metrics import CURRENT, Metrics
from resolvers.integrations.callback import PrivateAllowList
from resolvers.webhooks import outbox, schedule, signing, transport
from resolvers.webhooks.events import CATALOGUE, WebhookEventType
from resolvers.webhooks.subscriptions import Disabled, count_failure, reset_failures
from settings import Settings

logger = logging.getLogger("integrations.webhooks")

#: Deliveries one process makes at the same time.
CONCURRENCY = 16
#: Seconds between looks for deliveries that other processes wrote or that came due.
POLL_SECONDS = 1.0
#: Seconds a claim's lease lasts beyond the delivery timeout (rendering, recording).
LEASE_MARGIN_SECONDS = 10
#: The largest payload sent; a larger one fails the delivery at once.
MAX_PAYLOAD_BYTES = 1 << 20
CLEANUP_EVERY_SECONDS = 3600
CLEANUP_BATCH = 1000
#: Seconds between two log lines about the database being away.
OUTAGE_LOG_SECONDS = 60


class Renderer(Protocol):
    """Makes a delivery's payload (``schema.webhook_documents.WebhookDocuments``)."""

    async def render(
        self,
        *,
        query: str,
        event: WebhookEventType,
        entity: dict[str, Any],
        occurred_at: object,
        principal: Principal,
    ) -> Any: ...


@dataclasses.dataclass(frozen=True, slots=True)
class Claim:
    """A delivery this worker holds for one attempt (``attempt`` is that attempt's number)."""

    id: int
    subscription_id: int
    event: WebhookEventType
    message_id: str
    payload: str
    attempt: int
    occurred_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """What became of one claim: the delivery's status after it, and the attempt's answer (None: not sent)."""

    delivery_id: int
    status: str
    attempt: int
    answer: transport.Answer | None = None
    #: False when the claim was lost (its lease ran out and another worker claimed it) or the row is gone.
    recorded: bool = True


_NEXT_DUE = "SELECT MIN(next_attempt_at) AS due FROM webhook_delivery WHERE status = ?"
_CLAIM = (
    "UPDATE webhook_delivery SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN ("
    "SELECT id FROM webhook_delivery WHERE status = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?{lock}"
    ") RETURNING id, subscription_id, event, message_id, payload, attempts, occurred_at"
)
_CLAIM_POSTGRES = _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED")
_CLAIM_SQLITE = _CLAIM.format(lock="")
_TARGET = (
    "SELECT s.target_url, s.query, s.secret, s.previous_secret, s.previous_secret_expires_at, s.is_active, "
    "i.id AS integration_id, i.name AS integration_name, i.status AS integration_status, "
    "g.all_resources, g.resources "
    "FROM webhook_subscription s JOIN integration i ON i.id = s.integration_id "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id WHERE s.id = ?"
)
_DELIVERED = (
    "UPDATE webhook_delivery SET status = ?, next_attempt_at = NULL, response_status = ?, latency_ms = ?, "
    "last_error = NULL, delivered_at = ? WHERE id = ? AND attempts = ?"
)
_FAILED = (
    "UPDATE webhook_delivery SET status = ?, next_attempt_at = ?, response_status = ?, latency_ms = ?, "
    "last_error = ? WHERE id = ? AND attempts = ?"
)
_SKIPPED = (
    "UPDATE webhook_delivery SET status = ?, next_attempt_at = NULL, attempts = attempts - 1, last_error = ? "
    "WHERE id = ? AND attempts = ?"
)
_CLEANUP = (
    "DELETE FROM webhook_delivery WHERE id IN (SELECT id FROM webhook_delivery "
    "WHERE status <> ? AND created_at < ? ORDER BY id LIMIT ?) RETURNING id"
)


async def next_due() -> dt.datetime | None:
    """When the earliest pending delivery is due (or its claim's lease ends); None when there is none."""
    row = await fetch_one(_NEXT_DUE, DELIVERY_PENDING)
    return as_datetime(row["due"]) if row is not None and row["due"] is not None else None


async def claim(limit: int, lease_seconds: float) -> list[Claim]:
    """Claim up to ``limit`` due deliveries for one attempt each (see the module docstring)."""
    now = clock.now()
    sql = _CLAIM_POSTGRES if dialect() == "postgres" else _CLAIM_SQLITE
    rows = await fetch_all(sql, now + dt.timedelta(seconds=lease_seconds), DELIVERY_PENDING, now, limit)
    return [
        Claim(
            id=int(row["id"]),
            subscription_id=int(row["subscription_id"]),
            event=WebhookEventType(row["event"]),
            message_id=row["message_id"],
            payload=row["payload"],
            attempt=int(row["attempts"]),
            occurred_at=as_datetime(row["occurred_at"]),
        )
        for row in rows
    ]


def lease_seconds(config: ConfigSnapshot) -> float:
    return float(config.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)


def _skip_reason(target: dict[str, Any], event: WebhookEventType, principal: Principal) -> str | None:
    """Why this delivery is not sent at all, or None."""
    if event is not WebhookEventType.WEBHOOK_TEST and not as_bool(target["is_active"]):
        return "The subscription is disabled."
    if int(target["integration_status"]) != STATUS_ACTIVE:
        return "The integration is not active."
    missing = principal.missing(tuple(str(r) for r in CATALOGUE[event].resources))
    if missing:
        return f"The integration no longer holds {', '.join(missing)}, which this event needs."
    return None


def _signing_secrets(target: dict[str, Any]) -> tuple[str, ...]:
    """The current secret, and the previous one while a rotation's overlap lasts."""
    secrets = [secret_box.decrypt(target["secret"])]
    expires = target["previous_secret_expires_at"]
    if target["previous_secret"] and expires is not None and clock.now() < as_datetime(expires):
        secrets.append(secret_box.decrypt(target["previous_secret"]))
    return tuple(secrets)


class DeliveryWorker:
    """Claims, renders, signs, sends and records deliveries (see the module docstring)."""

    def __init__(self, settings: Settings, renderer: Renderer, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.renderer = renderer
        self.metrics = metrics
        self._task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._cleaned_at = 0.0
        self._outage_logged_at = 0.0

    # ----------------------------------------------------------------------------------- one delivery

    async def deliver(self, claimed: Claim, config: ConfigSnapshot) -> Result:
        """Make the attempt ``claimed`` holds and record it."""
        target = await fetch_one(_TARGET, claimed.subscription_id)
        if target is None:  # the subscription was deleted, and its deliveries with it
            return Result(claimed.id, DELIVERY_SKIPPED, claimed.attempt, recorded=False)
        held = granted_resources(target["all_resources"], target["resources"])
        principal = integration_principal(int(target["integration_id"]), target["integration_name"], held)
        skipped = _skip_reason(target, claimed.event, principal)
        if skipped is not None:
            recorded = await execute(_SKIPPED, DELIVERY_SKIPPED, skipped, claimed.id, claimed.attempt)
            counted.webhook_attempt("skipped")
            return Result(claimed.id, DELIVERY_SKIPPED, claimed.attempt, recorded=bool(recorded))
        started_at = clock.now()
        body = await self._body(claimed, target["query"], principal)
        if isinstance(body, transport.Answer):
            answer = body
        else:
            answer = await transport.post(
                target["target_url"],
                body,
                signing.headers(claimed.message_id, body, _signing_secrets(target)),
                timeout_seconds=config.webhook_timeout_seconds,
                allow_private=self.settings.allow_private_callbacks,
                allow_list=PrivateAllowList.parse(config.private_callback_allow_list),
            )
        return await self._record(claimed, started_at, answer, config)

    async def _body(self, claimed: Claim, query: str, principal: Principal) -> bytes | transport.Answer:
        """The signed body's bytes, or the failed answer of a payload that cannot be sent."""
        try:
            rendered = await self.renderer.render(
                query=query,
                event=claimed.event,
                entity=json.loads(claimed.payload),
                occurred_at=claimed.occurred_at,
                principal=principal,
            )
        except Exception as error:
            if database_unavailable(error):
                raise
            logger.exception("The payload of webhook delivery %s could not be made", claimed.id)
            return transport.Answer(None, 0, "The payload could not be made; the server log says why.")
        body: bytes = rendered.encoded()
        if len(body) > MAX_PAYLOAD_BYTES:
            message = f"The payload has {len(body)} bytes, more than {MAX_PAYLOAD_BYTES}: select fewer fields."
            return transport.Answer(None, 0, message)
        return body

    async def _record(
        self, claimed: Claim, started_at: dt.datetime, answer: transport.Answer, config: ConfigSnapshot
    ) -> Result:
        """Write the attempt's result if the claim still holds (see the module docstring)."""
        now = clock.now()
        test = claimed.event is WebhookEventType.WEBHOOK_TEST
        due = None if answer.delivered or test else schedule.next_attempt(claimed.occurred_at, claimed.attempt, now)
        status = DELIVERY_DELIVERED if answer.delivered else DELIVERY_PENDING if due is not None else DELIVERY_FAILED
        disabled: Disabled | None = None
        async with in_transaction() as conn:
            if answer.delivered:
                sql, params = _DELIVERED, [status, answer.status, answer.latency_ms, now]
            else:
                sql, params = _FAILED, [status, due, answer.status, answer.latency_ms, answer.error]
            if not await execute(sql, *params, claimed.id, claimed.attempt, conn=conn):
                return Result(claimed.id, status, claimed.attempt, answer, recorded=False)
            await WebhookDeliveryAttempt.create(
                using_db=conn,
                delivery_id=claimed.id,
                number=claimed.attempt,
                started_at=started_at,
                response_status=answer.status,
                latency_ms=answer.latency_ms,
                error=answer.error,
                succeeded=answer.delivered,
            )
            if not test and answer.delivered:
                await reset_failures(claimed.subscription_id, conn)
            elif not test:
                disabled = await count_failure(claimed.subscription_id, config.webhook_disable_after_failures, conn)
        if disabled is not None:
            disabled.announce()
        if not answer.delivered:
            logger.info(
                "Webhook delivery %s (attempt %s) failed: %s%s",
                claimed.id,
                claimed.attempt,
                answer.error,
                f" Next attempt at {due.isoformat()}." if due is not None else " No more attempts.",
            )
        counted.webhook_attempt({DELIVERY_DELIVERED: "delivered", DELIVERY_PENDING: "retry"}.get(status, "failed"))
        return Result(claimed.id, status, claimed.attempt, answer)

    # ----------------------------------------------------------------------------------- many

    async def deliver_due(self) -> list[Result]:
        """Claim and deliver everything due now, until nothing is (tests drive the worker this way)."""
        results: list[Result] = []
        while True:
            config = await load_config()
            claims = await claim(CONCURRENCY, lease_seconds(config))
            if not claims:
                return results
            results += await asyncio.gather(*(self.deliver(c, config) for c in claims))

    async def cleanup(self, config: ConfigSnapshot) -> int:
        """Delete finished deliveries older than the retention setting (their attempts go with them)."""
        cutoff = clock.now() - dt.timedelta(days=config.webhook_retention_days)
        deleted = 0
        while True:
            # Counted by the rows returned: SQLite's change count would include the attempts deleted by cascade.
            count = len(await fetch_all(_CLEANUP, DELIVERY_PENDING, cutoff, CLEANUP_BATCH))
            deleted += count
            if count < CLEANUP_BATCH:
                return deleted

    # ----------------------------------------------------------------------------------- the loop

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="webhook-deliveries")

    async def stop(self) -> None:
        """Stop looking and cancel the deliveries in flight (their rows are claimed again when the lease ends)."""
        tasks = [t for t in (self._task, *self._in_flight) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._task = None

    async def _run(self) -> None:
        if self.metrics is not None:
            CURRENT.set(self.metrics)  # this task's own context: its events are counted in the app's metrics
        signal = outbox.listen()
        try:
            while True:
                wait = await self._look()
                if wait is None:
                    continue
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await signal.wait()
                signal.clear()
        finally:
            outbox.unlisten(signal)

    async def _look(self) -> float | None:
        """Start what is due in the free slots; seconds to wait before looking again (None: look again now)."""
        try:
            if time.monotonic() - self._cleaned_at >= CLEANUP_EVERY_SECONDS:
                self._cleaned_at = time.monotonic()
                await self.cleanup(await load_config())
            free = CONCURRENCY - len(self._in_flight)
            if free <= 0:
                return POLL_SECONDS
            due = await next_due()  # the one statement of an idle look
            now = clock.now()
            if due is None or due > now:
                return POLL_SECONDS if due is None else min(POLL_SECONDS, (due - now).total_seconds())
            config = await load_config()
            claims = await claim(free, lease_seconds(config))
        except Exception as error:
            self._log_failure(error)
            return POLL_SECONDS
        for claimed in claims:
            task = asyncio.create_task(self._deliver_logged(claimed, config))
            self._in_flight.add(task)
            task.add_done_callback(self._done)
        return None if len(claims) == free else POLL_SECONDS

    def _done(self, task: asyncio.Task[None]) -> None:
        self._in_flight.discard(task)
        outbox.wake()  # a slot is free: look again

    async def _deliver_logged(self, claimed: Claim, config: ConfigSnapshot) -> None:
        try:
            await self.deliver(claimed, config)
        except Exception as error:  # the row's lease ends and it is claimed again
            self._log_failure(error)

    def _log_failure(self, error: Exception) -> None:
        if database_unavailable(error):
            if time.monotonic() - self._outage_logged_at >= OUTAGE_LOG_SECONDS:
                self._outage_logged_at = time.monotonic()
                log_unavailable(error, "webhook deliveries")
            return
        logger.error("Webhook deliveries: unexpected error", exc_info=error)
