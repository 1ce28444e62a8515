"""How does an integration get its access token? Activate and Reauthorize (reference §3.2-3.4).

An integration limited to OAuth 2.0 client credentials (``Integration.authMethods``) skips both flows: it is
made active and its client id and secret are shown to the admin, or POSTed to its callback URL when it has
one (``activate_for_oauth2``). Otherwise, which flow runs is
Magento's rule: an integration with both a callback URL and an identity link URL does
the OAuth 1.0a token exchange (``activate_by_token_exchange``); any other is a manual integration whose
access token and secret are generated here and shown to the admin at once (``activate_manually``).

The token exchange is Magento's ``OauthService::postToConsumer``: the consumer-key expiration window starts,
a verifier token is made, and ``oauth_consumer_key``, ``oauth_consumer_secret``, ``store_base_url`` and
``oauth_verifier`` are POSTed, form-encoded, to the callback URL. The admin's browser then opens the identity
link, where the third party completes the exchange through ``/oauth/token/request`` and
``/oauth/token/access``. As in Magento a 3xx answer counts as delivered (a POST/redirect/GET handler answers
303 after storing); stricter than Magento, a 4xx, 5xx or transport error fails the activation, and then
nothing half-made stays behind (no exchange token, no running expiration window), so the admin can retry.

Every activation is a compare-and-set, so of overlapping ones exactly one wins and the others get the
userError ``IN_PROGRESS``: manual activation changes the status and replaces exactly the access token row
it read, in one transaction; a token exchange, which waits on the third party, first claims the integration
(one conditional update of ``OAuthConsumer.activation_started_at``, released when done), so the consumer
secret is POSTed once. A reauthorization by token exchange keeps the old access token working
until the new exchange completes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from audit import Action, Target, record
from audit.diff import safe_url
from auth import secret_box
from auth.clock import clock
from auth.config import ConfigSnapshot
from auth.oauth import tokens as oauth_tokens
from auth.oauth.endpoints import SUCCESS_CALLBACK_PATH
from auth.oauth2 import tokens as oauth2_tokens
from auth.oauth2.endpoints import TOKEN_PATH as OAUTH2_TOKEN_PATH
from errors import Refusal
from models import Integration as IntegrationRow
from models import OAuthConsumer
from models.integration import STATUS_ACTIVE, STATUS_INACTIVE, STATUS_RESET
from observability import events as security_events
from resolvers.integrations import events
from resolvers.integrations.callback import OutboundError, PrivateAllowList, post_form
from resolvers.integrations.grants import check_manage_permission
from resolvers.integrations.loaders import CredentialsView
from resolvers.integrations.service import find_for_mutation, is_token_exchange
from resolvers.loaders import forget_loaders
from resolvers.problems import Outcome, Problem, UserErrorCode
from resolvers.webhooks import outbox
from resolvers.your_password import current_password_problems
from settings import Settings

if TYPE_CHECKING:
    from schema.context import Context

logger = logging.getLogger("integrations.activation")


@dataclasses.dataclass(frozen=True)
class Activation:
    """What ``authorizeIntegration``/``reauthorizeIntegration`` answer (``AuthorizeIntegrationPayload``).

    Manual integrations fill ``credentials``; token-exchange integrations fill the two URLs the admin's
    browser needs (the identity link to open and the URL it returns to). A refused activation shows the
    integration as it is.
    """

    integration: IntegrationRow | None = None
    credentials: CredentialsView | None = None
    identity_link_url: str | None = None
    success_callback_url: str | None = None


def already_active_message(name: str) -> str:
    return f"The integration '{name}' is already active. Use reauthorizeIntegration to issue new tokens."


def not_active_message(name: str) -> str:
    return f"The integration '{name}' has not been activated yet. Use authorizeIntegration."


async def authorize_integration(context: Context, value: str, current_password: str | None) -> Outcome[Activation]:
    """Activate: an active integration is refused (ALREADY_ACTIVE) rather than silently re-issued."""
    return await _activate(context, value, current_password, reauthorize=False)


async def reauthorize_integration(context: Context, value: str, current_password: str | None) -> Outcome[Activation]:
    """Issue new tokens for an active (or config-reset) integration; the consumer key and secret stay."""
    return await _activate(context, value, current_password, reauthorize=True)


async def _activate(
    context: Context, value: str, current_password: str | None, *, reauthorize: bool
) -> Outcome[Activation]:
    """Your Password, then the activation. The password is checked inside the per-process guard, so a
    request arriving while another activation of the same integration checks its password is told
    IN_PROGRESS at once rather than queueing behind it and activating a second time."""
    if value in _running_here:
        current = await find_for_mutation(value, ("id",))
        return Outcome(Activation(current.value), [Problem(("id",), IN_PROGRESS, UserErrorCode.IN_PROGRESS)])
    _running_here.add(value)
    try:
        problems = await current_password_problems(context, current_password, ("current_password",))
        if problems:
            return Outcome(problems=problems)
        return await _activate_once(context, value, reauthorize=reauthorize)
    finally:
        _running_here.discard(value)


async def _activate_once(context: Context, value: str, *, reauthorize: bool) -> Outcome[Activation]:
    found = await find_for_mutation(value, ("id",))
    row = found.value
    if row is None:
        return Outcome(problems=found.problems)
    problems = await check_manage_permission(context.principal, row, ("id",)) or _status_refusal(
        row, reauthorize=reauthorize
    )
    if problems:
        return Outcome(Activation(row), problems)
    if not row.allow_oauth1:
        outcome = await activate_for_oauth2(row, context, reauthorize=reauthorize)
    elif is_token_exchange(row.endpoint, row.identity_link_url):
        outcome = await activate_by_token_exchange(row, context, reauthorize=reauthorize)
    else:
        outcome = await activate_manually(row, reauthorize=reauthorize)
    if reauthorize and not outcome.problems:
        # New credentials are the point of reauthorizing: OAuth 2.0 tokens issued before stop working now.
        await oauth2_tokens.delete_integration_tokens(row.id)
    forget_loaders(context)
    return outcome


#: Activations running in this process, by the id they were asked for, checked before any database access.
#: One process serves SQLite, whose driver runs one statement or transaction at a time, so a request that
#: arrives while another activation runs would otherwise queue behind it, read its result, and win too.
#: Across processes (PostgreSQL) the transaction's compare-and-set and the exchange claim decide.
_running_here: set[str] = set()


IN_PROGRESS = "Another activation of this integration is running right now. Please reload it and try again."
#: A claim older than the longest delivery (the callback's post timeout) plus this margin was left by a
#: crashed process.
CLAIM_MARGIN_SECONDS = 5


async def _claim(integration_id: int, config: ConfigSnapshot) -> dt.datetime | None:
    """Claim the integration's token exchange with one conditional update; None while another one runs."""
    now = clock.now()
    stale = now - dt.timedelta(seconds=config.post_timeout_seconds + CLAIM_MARGIN_SECONDS)
    free = Q(activation_started_at=None) | Q(activation_started_at__lt=stale)
    claimed = await OAuthConsumer.filter(free, integration_id=integration_id).update(activation_started_at=now)
    return now if claimed else None


def _status_refusal(row: IntegrationRow, *, reauthorize: bool) -> list[Problem]:
    """Why the integration's status rules this out, if it does."""
    if not reauthorize and row.status == STATUS_ACTIVE:
        return [Problem(("id",), already_active_message(row.name), UserErrorCode.ALREADY_ACTIVE)]
    if reauthorize and row.status == STATUS_INACTIVE:
        return [Problem(("id",), not_active_message(row.name), UserErrorCode.NOT_ACTIVE)]
    return []


# --------------------------------------------------------------------------------------- manual


class _StatusChanged(Exception):
    """The integration's status or access token changed (or it vanished) between the check and the write."""


CHANGED_MEANWHILE = "The integration was changed by another request meanwhile. Please reload it and try again."


async def activate_manually(row: IntegrationRow, *, reauthorize: bool) -> Outcome[Activation]:
    """Generate the access token and secret server-side and mark the integration active.

    One transaction changes the status conditionally and replaces exactly the access token row read before
    it (a unique index stops two inserts), so of concurrent activations or reauthorizations exactly one
    issues a token and the others are refused; the consumer key and secret are kept.
    """
    from_statuses = (STATUS_ACTIVE, STATUS_RESET) if reauthorize else (STATUS_INACTIVE, STATUS_RESET)
    consumer = await OAuthConsumer.filter(integration_id=row.id).first()
    previous = await oauth_tokens.access_token_row(consumer.id) if consumer is not None else None
    try:
        async with outbox.transaction() as pending:
            conn = pending.conn
            changed = (
                await IntegrationRow.filter(id=row.id, status__in=from_statuses)
                .using_db(conn)
                .update(status=STATUS_ACTIVE, updated_at=clock.now())
            )
            if not changed or consumer is None:
                raise _StatusChanged
            issued = await oauth_tokens.replace_access_token(
                consumer.id, previous.id if previous is not None else None, conn=conn
            )
            if issued is None:
                raise _StatusChanged
            await events.activated(row, "manual", reauthorize=reauthorize)
            await events.credentials_shown(row.id, row.name, events.OAUTH1_CREDENTIALS, _via(reauthorize))
            if reauthorize:
                await outbox.integration_updated(pending, row.id, outbox.REAUTHORIZED)
    except (_StatusChanged, IntegrityError):
        current = await IntegrationRow.get_or_none(id=row.id)
        refusal = _status_refusal(current, reauthorize=reauthorize) if current is not None else []
        meanwhile = Problem(("id",), CHANGED_MEANWHILE, UserErrorCode.IN_PROGRESS)
        return Outcome(Activation(current), refusal or [meanwhile])
    logger.info("Integration %s %s", row.id, "re-authorized" if reauthorize else "activated")
    credentials = CredentialsView(
        consumer_key=consumer.key,
        consumer_secret=secret_box.decrypt(consumer.secret),
        access_token=issued.token,
        access_token_secret=issued.secret,
    )
    return Outcome(Activation(await IntegrationRow.get_or_none(id=row.id), credentials))


def _via(reauthorize: bool) -> str:
    """The mutation that shows the credentials, as ``integration.credentials_shown`` names it."""
    return "reauthorizeIntegration" if reauthorize else "authorizeIntegration"


# --------------------------------------------------------------------------------------- OAuth 2.0 only


async def activate_for_oauth2(row: IntegrationRow, context: Context, *, reauthorize: bool) -> Outcome[Activation]:
    """An integration limited to OAuth 2.0 client credentials: no token exchange and no OAuth 1.0a token.

    Without a callback URL the admin is shown its client id and secret (consumer key and secret), which
    obtain tokens at ``/oauth2/token``. With one, they are POSTed there instead, as the token exchange
    delivers its credentials (``client_id``, ``client_secret``, ``token_endpoint``, ``store_base_url``, and
    Magento's ``oauth_consumer_key``/``oauth_consumer_secret`` for receivers written for those), under the
    same claim, so of overlapping activations one delivers; a callback that does not accept them is
    ``CALLBACK_FAILED`` and nothing changes. It becomes ``ACTIVE`` by one conditional update.
    """
    consumer = await OAuthConsumer.filter(integration_id=row.id).first()
    if consumer is None:
        return Outcome(Activation(row), [Problem(("id",), CHANGED_MEANWHILE, UserErrorCode.IN_PROGRESS)])
    if not row.endpoint:
        return await _mark_active_for_oauth2(row, consumer, reauthorize=reauthorize, delivered=False)
    config = await context.config()
    claimed_at = await _claim(row.id, config)
    if claimed_at is None:
        return Outcome(Activation(row), [Problem(("id",), IN_PROGRESS, UserErrorCode.IN_PROGRESS)])
    try:
        secret = secret_box.decrypt(consumer.secret)
        base = context.settings.store_base_url
        form = {
            "client_id": consumer.key,
            "client_secret": secret,
            "token_endpoint": base.rstrip("/") + OAUTH2_TOKEN_PATH,
            "store_base_url": base,
            "oauth_consumer_key": consumer.key,
            "oauth_consumer_secret": secret,
        }
        try:
            await deliver_credentials(row, form, context.settings, config)
        except TokenExchangeFailed as failure:
            current = await IntegrationRow.get_or_none(id=row.id)
            return Outcome(Activation(current), [Problem(("id",), failure.message, UserErrorCode.CALLBACK_FAILED)])
        return await _mark_active_for_oauth2(row, consumer, reauthorize=reauthorize, delivered=True)
    finally:
        await OAuthConsumer.filter(integration_id=row.id, activation_started_at=claimed_at).update(
            activation_started_at=None
        )


async def _mark_active_for_oauth2(
    row: IntegrationRow, consumer: OAuthConsumer, *, reauthorize: bool, delivered: bool
) -> Outcome[Activation]:
    """The status change (a compare-and-set), its events, and the credentials unless the callback has them."""
    from_statuses = (STATUS_ACTIVE, STATUS_RESET) if reauthorize else (STATUS_INACTIVE, STATUS_RESET)
    async with outbox.transaction() as pending:
        changed = (
            await IntegrationRow.filter(id=row.id, status__in=from_statuses)
            .using_db(pending.conn)
            .update(status=STATUS_ACTIVE, updated_at=clock.now())
        )
        if changed:
            await events.activated(row, "oauth2", reauthorize=reauthorize)
            if not delivered:
                await events.credentials_shown(row.id, row.name, events.CLIENT_CREDENTIALS, _via(reauthorize))
        if changed and reauthorize:
            await outbox.integration_updated(pending, row.id, outbox.REAUTHORIZED)
    current = await IntegrationRow.get_or_none(id=row.id)
    if not changed:
        refusal = _status_refusal(current, reauthorize=reauthorize) if current is not None else []
        return Outcome(Activation(current), refusal or [Problem(("id",), CHANGED_MEANWHILE, UserErrorCode.IN_PROGRESS)])
    logger.info("Integration %s %s for OAuth 2.0", row.id, "re-authorized" if reauthorize else "activated")
    if delivered:
        return Outcome(Activation(current))
    credentials = CredentialsView(consumer_key=consumer.key, consumer_secret=secret_box.decrypt(consumer.secret))
    return Outcome(Activation(current, credentials))


# --------------------------------------------------------------------------------------- token exchange


class TokenExchangeFailed(Refusal):
    """The credentials could not be delivered: ``message`` for the caller, ``detail`` (what happened) for the log."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail or message


@dataclasses.dataclass(frozen=True)
class TokenExchangeStarted:
    #: The identity link with ``oauth_consumer_key`` and ``success_call_back`` added, for the admin's popup.
    identity_link_url: str
    #: Our page that closes the popup when the third party sends the admin back.
    success_callback_url: str


async def activate_by_token_exchange(
    integration: IntegrationRow, context: Context, *, reauthorize: bool
) -> Outcome[Activation]:
    """Token-exchange activation: deliver the credentials, then let the admin's browser open the identity link.

    Called for integrations with both URLs set, after the existence, permission and status checks
    (authorize: not ACTIVE; reauthorize: ACTIVE or RESET). The status and the access token are left as they
    are: ``/oauth/token/access`` makes the integration ``ACTIVE`` with its new token. When the callback does
    not accept the credentials the outcome is ``CALLBACK_FAILED``; while another exchange is being started
    (the claim on the integration is taken), ``IN_PROGRESS``.
    """
    config = await context.config()
    claimed_at = await _claim(integration.id, config)
    if claimed_at is None:
        return Outcome(Activation(integration), [Problem(("id",), IN_PROGRESS, UserErrorCode.IN_PROGRESS)])
    try:
        started = await start_token_exchange(integration.id, context.settings, config)
    except TokenExchangeFailed as failure:
        current = await IntegrationRow.get_or_none(id=integration.id)
        return Outcome(Activation(current), [Problem(("id",), failure.message, UserErrorCode.CALLBACK_FAILED)])
    finally:
        await OAuthConsumer.filter(integration_id=integration.id, activation_started_at=claimed_at).update(
            activation_started_at=None
        )
    logger.info("Integration %s sent for %s", integration.id, "re-authorization" if reauthorize else "activation")
    return Outcome(
        Activation(
            await IntegrationRow.get_or_none(id=integration.id),
            identity_link_url=started.identity_link_url,
            success_callback_url=started.success_callback_url,
        )
    )


async def start_token_exchange(integration_id: int, settings: Settings, config: ConfigSnapshot) -> TokenExchangeStarted:
    """Make a verifier token, start the expiration window, and deliver the credentials to the callback URL.

    Used for activation and reauthorization alike (under the caller's claim on the integration). Raises
    ``TokenExchangeFailed`` when the callback does not accept the credentials; then the exchange token and
    window are gone again, and an access token the integration had keeps working.
    """
    integration = await IntegrationRow.get(id=integration_id)
    consumer = await OAuthConsumer.get(integration_id=integration_id)
    if not integration.endpoint or not integration.identity_link_url:
        raise TokenExchangeFailed("The integration needs both a callback URL and an identity link URL.")
    verifier = secret_box.generate_token()
    await oauth_tokens.start_exchange_token(consumer.id, verifier)
    await OAuthConsumer.filter(id=consumer.id).update(exchange_started_at=clock.now())
    form = {
        "oauth_consumer_key": consumer.key,
        "oauth_consumer_secret": secret_box.decrypt(consumer.secret),
        "store_base_url": settings.store_base_url,
        "oauth_verifier": verifier,
    }

    async def undo() -> None:
        await oauth_tokens.drop_exchange_token(consumer.id)
        await OAuthConsumer.filter(id=consumer.id).update(exchange_started_at=None)

    await deliver_credentials(integration, form, settings, config, undo=undo)
    callback = success_callback_url(settings)
    return TokenExchangeStarted(
        identity_link_url=add_query_parameters(
            integration.identity_link_url,
            {"oauth_consumer_key": consumer.key, "success_call_back": callback},
        ),
        success_callback_url=callback,
    )


async def deliver_credentials(
    integration: IntegrationRow,
    form: dict[str, str],
    settings: Settings,
    config: ConfigSnapshot,
    *,
    undo: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """POST ``form`` to the integration's callback URL through the guarded client, and record the result.

    On failure ``undo`` runs in the transaction that records the failure, and ``TokenExchangeFailed`` tells
    the caller only that it failed (the detail goes to the log and the audit trail, never the form: it
    carries the consumer secret).
    """
    assert integration.endpoint
    delivery = {"name": integration.name, "callbackUrl": safe_url(integration.endpoint)}
    try:
        await post_form(
            integration.endpoint,
            form,
            timeout_seconds=config.post_timeout_seconds,
            max_redirects=config.post_max_redirects,
            allow_private=settings.allow_private_callbacks,
            allow_list=PrivateAllowList.parse(config.private_callback_allow_list),
        )
    except OutboundError as error:
        security_events.callback_failed(integration.id, error.kind, error.detail)
        async with in_transaction():
            if undo is not None:
                await undo()
            # What happened, but not a malformed URL's own text (it might hold a password the URL parser missed).
            detail = None if error.kind == "invalid_url" else error.detail
            details = {**delivery, "reason": error.kind, "detail": detail}
            await record(
                Action.INTEGRATION_CALLBACK_FAILED,
                target_type=Target.INTEGRATION,
                target_id=integration.id,
                details=details,
            )
        raise TokenExchangeFailed(error.message, error.detail) from None
    logger.info("Credentials for integration %s were delivered to its callback URL", integration.id)
    security_events.callback_delivered()
    await record(
        Action.INTEGRATION_CALLBACK_DELIVERED,
        target_type=Target.INTEGRATION,
        target_id=integration.id,
        details=delivery,
    )


def add_query_parameters(url: str, parameters: dict[str, str]) -> str:
    """``url`` with ``parameters`` added to its query (replacing same-named ones), fragment kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in parameters]
    query.extend(parameters.items())
    return parts._replace(query=urlencode(query)).geturl()


def success_callback_url(settings: Settings) -> str:
    return settings.store_base_url.rstrip("/") + SUCCESS_CALLBACK_PATH
