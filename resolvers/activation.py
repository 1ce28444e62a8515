"""Activating integrations: Activate and Reauthorize (reference §3.2-3.4).

Which flow runs is Magento's rule: an integration with both a callback URL and an identity link URL
does the OAuth 1.0a token exchange (``start_token_exchange``); any other is a manual integration whose
access token and secret are generated here and shown to the admin at once.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from auth import secret_box
from auth.clock import clock
from auth.oauth import tokens as oauth_tokens
from models import Integration as IntegrationRow
from models import OAuthConsumer
from models.integration import STATUS_ACTIVE, STATUS_INACTIVE, STATUS_RESET
from resolvers.integrations import (
    Credentials,
    Problem,
    check_manage_permission,
    find_for_mutation,
    forget_loaders,
    is_token_exchange,
    problem,
)

if TYPE_CHECKING:
    from schema.context import Context

logger = logging.getLogger("integrations.activation")


@dataclasses.dataclass
class ActivationOutcome:
    """What ``authorizeIntegration``/``reauthorizeIntegration`` answer (``AuthorizeIntegrationPayload``).

    Manual integrations fill ``credentials``; token-exchange integrations fill the two URLs the admin's
    browser needs (the identity link to open and the URL it returns to).
    """

    integration: IntegrationRow | None = None
    credentials: Credentials | None = None
    identity_link_url: str | None = None
    success_callback_url: str | None = None
    user_errors: list[Problem] = dataclasses.field(default_factory=list)


def already_active_message(name: str) -> str:
    return f"The integration '{name}' is already active. Use reauthorizeIntegration to issue new tokens."


def not_active_message(name: str) -> str:
    return f"The integration '{name}' has not been activated yet. Use authorizeIntegration."


async def authorize_integration(context: Context, value: str) -> ActivationOutcome:
    """Activate: an active integration is refused (ALREADY_ACTIVE) rather than silently re-issued."""
    return await _activate(context, value, reauthorize=False)


async def reauthorize_integration(context: Context, value: str) -> ActivationOutcome:
    """Issue new tokens for an active (or config-reset) integration; the consumer key and secret stay."""
    return await _activate(context, value, reauthorize=True)


async def _activate(context: Context, value: str, *, reauthorize: bool) -> ActivationOutcome:
    row, errors = await find_for_mutation(value, ["id"])
    if row is None:
        return ActivationOutcome(user_errors=errors)
    errors = await check_manage_permission(context.principal, row, ["id"])
    if errors:
        return ActivationOutcome(integration=row, user_errors=errors)
    refusal = _status_refusal(row, reauthorize=reauthorize)
    if refusal is not None:
        return ActivationOutcome(integration=row, user_errors=[refusal])
    if is_token_exchange(row):
        outcome = await start_token_exchange(row, context, reauthorize=reauthorize)
    else:
        outcome = await activate_manually(row, reauthorize=reauthorize)
    forget_loaders(context)
    return outcome


def _status_refusal(row: IntegrationRow, *, reauthorize: bool) -> Problem | None:
    if not reauthorize and row.status == STATUS_ACTIVE:
        return problem(["id"], already_active_message(row.name), "ALREADY_ACTIVE")
    if reauthorize and row.status == STATUS_INACTIVE:
        return problem(["id"], not_active_message(row.name), "NOT_ACTIVE")
    return None


class _StatusChanged(Exception):
    """The integration's status changed (or it vanished) between the check and the write."""


async def activate_manually(row: IntegrationRow, *, reauthorize: bool) -> ActivationOutcome:
    """Generate the access token and secret server-side and mark the integration active.

    The status change is a conditional update in the same transaction as the token write, so two
    concurrent activations produce exactly one access token: the second finds the status already
    changed and gets ALREADY_ACTIVE. On reauthorize the token row is replaced in place, so the old
    access token stops working at once; the consumer key and secret are kept.
    """
    from_statuses = (STATUS_ACTIVE, STATUS_RESET) if reauthorize else (STATUS_INACTIVE, STATUS_RESET)
    try:
        async with in_transaction() as conn:
            changed = (
                await IntegrationRow.filter(id=row.id, status__in=from_statuses)
                .using_db(conn)
                .update(status=STATUS_ACTIVE, updated_at=clock.now())
            )
            if not changed:
                raise _StatusChanged
            consumer = await OAuthConsumer.filter(integration_id=row.id).using_db(conn).first()
            if consumer is None:
                raise _StatusChanged
            issued = await oauth_tokens.issue_access_token(consumer.id, conn=conn)
    except _StatusChanged:
        current = await IntegrationRow.get_or_none(id=row.id)
        refusal = _status_refusal(current, reauthorize=reauthorize) if current is not None else None
        return ActivationOutcome(
            integration=current,
            user_errors=[refusal or problem(["id"], "The integration changed meanwhile. Please try again.", "INVALID")],
        )
    logger.info("Integration %s %s", row.id, "re-authorized" if reauthorize else "activated")
    credentials = Credentials(
        consumer_key=consumer.key,
        consumer_secret=secret_box.decrypt(consumer.secret),
        access_token=issued.token,
        access_token_secret=issued.secret,
    )
    return ActivationOutcome(integration=await IntegrationRow.get_or_none(id=row.id), credentials=credentials)


async def start_token_exchange(
    integration: IntegrationRow, context: Context, *, reauthorize: bool
) -> ActivationOutcome:
    """Token-exchange activation: POST the consumer credentials to the callback URL, then let the admin's
    browser open the identity link; the third party finishes through the OAuth token endpoints.

    Called for integrations with both URLs set, after the existence, permission and status checks
    (authorize: not ACTIVE; reauthorize: ACTIVE or RESET). Either way the old token is dropped and the
    integration is ``INACTIVE`` until ``/oauth/token/access`` succeeds. When the callback does not answer
    2xx the payload carries ``CALLBACK_FAILED`` saying what happened, and nothing half-made stays behind.
    """
    from resolvers import token_exchange

    try:
        started = await token_exchange.start_token_exchange(integration.id, context.settings, await context.config())
    except token_exchange.TokenExchangeFailed as failure:
        return ActivationOutcome(
            integration=await IntegrationRow.get_or_none(id=integration.id),
            user_errors=[problem(["id"], failure.message, "CALLBACK_FAILED")],
        )
    logger.info("Integration %s sent for %s", integration.id, "re-authorization" if reauthorize else "activation")
    return ActivationOutcome(
        integration=await IntegrationRow.get_or_none(id=integration.id),
        identity_link_url=started.identity_link_url,
        success_callback_url=started.success_callback_url,
    )
