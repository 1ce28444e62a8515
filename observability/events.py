"""Security events: one named log line each on the ``security`` logger, and its count in the metrics.

Each event has one function, called from the one place where it happens. The fields are what an operator
needs to act (who, from where, what was missing), never a secret: no password, token, signature, consumer
secret or Authorization header is ever passed here. Free text from clients (a user name) is cut short.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from observability.metrics import current

logger = logging.getLogger("security")

#: Longest user name written to the log (an attacker chooses it).
MAX_NAME_LENGTH = 64


def _emit(level: int, event: str, message: str, **fields: object) -> None:
    logger.log(level, message, extra={"fields": {"event": event, **fields}})


def admin_sign_in_failed(username: str, reason: str, client: str | None) -> None:
    """A refused ``generateAdminToken``; ``reason`` is for operators only (the caller's message never says)."""
    _emit(
        logging.WARNING,
        "admin_sign_in_failed",
        "Admin sign-in refused",
        username=username[:MAX_NAME_LENGTH],
        reason=reason,
        client=client,
    )
    if metrics := current():
        metrics.sign_in_failures.labels(reason).inc()


def admin_locked(username: str, until: str) -> None:
    """An admin account locked after too many failed sign-ins or "Your Password" checks."""
    _emit(logging.WARNING, "admin_locked", "Admin account locked", username=username[:MAX_NAME_LENGTH], until=until)
    if metrics := current():
        metrics.lockouts.inc()


def access_denied(
    principal_kind: str, principal_id: int | None, operation: str | None, missing: Iterable[str], fields: Iterable[str]
) -> None:
    """Fields of an operation refused to its caller (before any resolver ran)."""
    missing = sorted(set(missing))
    _emit(
        logging.INFO,
        "access_denied",
        "Access denied",
        principal=principal_kind,
        principal_id=principal_id,
        operation=(operation or "anonymous")[:MAX_NAME_LENGTH],
        missing_resources=missing,
        fields=list(fields),
    )
    if metrics := current():
        for resource in missing or ["admin_only"]:
            metrics.denials.labels(resource).inc()


def oauth_failed(problem: str, where: str, client: str | None) -> None:
    """A refused OAuth request (a token step or a signed API call); ``problem`` is a fixed kind."""
    _emit(logging.WARNING, "oauth_failed", "OAuth request refused", oauth_problem=problem, where=where, client=client)
    if metrics := current():
        metrics.oauth_failures.labels(problem).inc()


def callback_failed(integration_id: int, reason: str, detail: str) -> None:
    """Credentials not delivered to an integration's callback URL (``detail`` names the URL, never the data)."""
    message = f"Credentials for integration {integration_id} were not delivered: {detail}"
    _emit(logging.WARNING, "callback_failed", message, integration_id=integration_id, reason=reason)
    if metrics := current():
        metrics.callbacks.labels(reason).inc()


def callback_delivered() -> None:
    """Counted only: delivery is not a security event (``resolvers.integrations.activation`` logs it)."""
    if metrics := current():
        metrics.callbacks.labels("delivered").inc()


def database_error() -> None:
    """Counted where an outage is logged (``models.availability.log_unavailable``)."""
    if metrics := current():
        metrics.database_errors.inc()


def rate_limit_store_failed() -> None:
    """Counted only: ``auth.buckets`` logs an outage of the shared store once a minute, not per request."""
    if metrics := current():
        metrics.rate_limit_store_failures.inc()


def webhook_subscription_disabled(subscription_id: int, integration_id: int, failures: int) -> None:
    """A webhook subscription disabled after ``failures`` failed delivery attempts in a row."""
    message = f"Webhook subscription {subscription_id} of integration {integration_id} was disabled after {failures}"
    _emit(
        logging.WARNING,
        "webhook_subscription_disabled",
        message + " failed delivery attempts in a row",
        subscription_id=subscription_id,
        integration_id=integration_id,
        failures=failures,
    )
    if metrics := current():
        metrics.webhook_deliveries.labels("disabled").inc()


def webhook_attempt(result: str) -> None:
    """Counted only: a delivery attempt's result (``delivered``, ``retry``, ``failed``, ``skipped``); the
    delivery log has each one."""
    if metrics := current():
        metrics.webhook_deliveries.labels(result).inc()
