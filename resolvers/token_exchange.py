"""Activation of a token-exchange integration (callback URL and identity link URL both set).

As Magento's ``OauthService::postToConsumer``: the consumer-key expiration window starts, a verifier token is
made, and ``oauth_consumer_key``, ``oauth_consumer_secret``, ``store_base_url`` and ``oauth_verifier`` are POSTed,
form-encoded, to the callback URL. The admin's browser then opens the identity link, where the third party
completes the exchange through ``/oauth/token/request`` and ``/oauth/token/access``.

Stricter than Magento: only a 2xx answer counts as delivered, and when delivery fails nothing half-made stays
behind (no verifier token, no running expiration window, status ``INACTIVE``), so the admin can simply retry.
"""

from __future__ import annotations

import dataclasses
import logging
from urllib.parse import parse_qsl, urlencode, urlsplit

from tortoise.exceptions import IntegrityError

from auth import secret_box
from auth.clock import clock
from auth.config import StoreConfig
from auth.oauth import tokens as oauth_tokens
from auth.oauth.endpoints import SUCCESS_CALLBACK_PATH
from models import Integration, OAuthConsumer
from models.integration import STATUS_INACTIVE
from resolvers.outbound import OutboundError, post_form
from settings import Settings

logger = logging.getLogger("integrations.activation")


class TokenExchangeFailed(Exception):
    """The credentials could not be delivered to the callback URL; ``message`` says what happened."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class TokenExchangeStarted:
    #: The identity link with ``oauth_consumer_key`` and ``success_call_back`` added, for the admin's popup.
    identity_link_url: str
    #: Our page that closes the popup when the third party sends the admin back.
    success_callback_url: str


def add_query_parameters(url: str, parameters: dict[str, str]) -> str:
    """``url`` with ``parameters`` added to its query (replacing same-named ones), fragment kept."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in parameters]
    query.extend(parameters.items())
    return parts._replace(query=urlencode(query)).geturl()


def success_callback_url(settings: Settings) -> str:
    return settings.store_base_url.rstrip("/") + SUCCESS_CALLBACK_PATH


async def _new_verifier_token(consumer_id: int) -> str:
    """Turn the consumer's integration token into a fresh verifier token (any other token stops working)."""
    verifier = secret_box.generate_token()
    try:
        await oauth_tokens.put_token_row(consumer_id, oauth_tokens.TYPE_VERIFIER, verifier=verifier)
    except IntegrityError:  # a concurrent activation created the row first: take it over
        await oauth_tokens.put_token_row(consumer_id, oauth_tokens.TYPE_VERIFIER, verifier=verifier)
    return verifier


async def start_token_exchange(integration_id: int, settings: Settings, config: StoreConfig) -> TokenExchangeStarted:
    """Drop any token, set ``INACTIVE``, deliver fresh credentials to the callback URL.

    Used for activation and reauthorization alike: either way the third party has to complete a new exchange
    before the integration is ``ACTIVE`` again. Raises ``TokenExchangeFailed`` when the callback is not delivered.
    """
    integration = await Integration.get(id=integration_id)
    consumer = await OAuthConsumer.get(integration_id=integration_id)
    if not integration.endpoint or not integration.identity_link_url:
        raise TokenExchangeFailed("The integration needs both a callback URL and an identity link URL.")
    await Integration.filter(id=integration_id).update(status=STATUS_INACTIVE, updated_at=clock.now())
    verifier = await _new_verifier_token(consumer.id)
    await OAuthConsumer.filter(id=consumer.id).update(exchange_started_at=clock.now())
    form = {
        "oauth_consumer_key": consumer.key,
        "oauth_consumer_secret": secret_box.decrypt(consumer.secret),
        "store_base_url": settings.store_base_url,
        "oauth_verifier": verifier,
    }
    try:
        await post_form(
            integration.endpoint,
            form,
            timeout_seconds=config.post_timeout_seconds,
            max_redirects=config.post_max_redirects,
            allow_private=settings.allow_private_callbacks,
        )
    except OutboundError as error:
        logger.warning("Credentials for integration %s were not delivered: %s", integration_id, error.message)
        await oauth_tokens.delete_token_row(consumer.id)
        await OAuthConsumer.filter(id=consumer.id).update(exchange_started_at=None)
        await Integration.filter(id=integration_id).update(status=STATUS_INACTIVE)
        raise TokenExchangeFailed(error.message) from None
    logger.info("Credentials for integration %s were delivered to its callback URL", integration_id)
    callback = success_callback_url(settings)
    return TokenExchangeStarted(
        identity_link_url=add_query_parameters(
            integration.identity_link_url,
            {"oauth_consumer_key": consumer.key, "success_call_back": callback},
        ),
        success_callback_url=callback,
    )
