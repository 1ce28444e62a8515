"""What an integration's grant and credentials are, read in one batch per request (no query per row).

Each loader is one query for all the integrations a request shows, through the request's loader registry
(``resolvers.loaders``); writes forget them (``forget_loaders``) so a payload shows what was written.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from auth import secret_box
from auth.oauth import tokens as oauth_tokens
from models import IntegrationDeclaration, IntegrationGrant, OAuthConsumer, OAuthToken
from resolvers.integrations import events
from resolvers.loaders import get_loader

if TYPE_CHECKING:
    from schema.context import Context


@dataclasses.dataclass(frozen=True)
class CredentialsView:
    """OAuth credentials as an admin sees them; the access token fields are None until activation."""

    consumer_key: str
    consumer_secret: str = dataclasses.field(repr=False)
    access_token: str | None = dataclasses.field(default=None, repr=False)
    access_token_secret: str | None = dataclasses.field(default=None, repr=False)


async def _grants(ids: list[int]) -> list[IntegrationGrant | None]:
    found = {g.integration_id: g for g in await IntegrationGrant.filter(integration_id__in=ids)}  # type: ignore[attr-defined]
    return [found.get(i) for i in ids]


async def _consumers(ids: list[int]) -> list[OAuthConsumer | None]:
    found = {c.integration_id: c for c in await OAuthConsumer.filter(integration_id__in=ids)}  # type: ignore[attr-defined]
    return [found.get(i) for i in ids]


async def _access_tokens(consumer_ids: list[int]) -> list[OAuthToken | None]:
    rows = await OAuthToken.filter(
        consumer_id__in=consumer_ids, user_type=oauth_tokens.USER_TYPE_INTEGRATION, type=oauth_tokens.TYPE_ACCESS
    )
    found = {t.consumer_id: t for t in rows}  # type: ignore[attr-defined]
    return [found.get(i) for i in consumer_ids]


async def load_grant(context: Context, integration_id: int) -> IntegrationGrant | None:
    return await get_loader(context, "integration.grant", lambda _context: _grants).load(integration_id)


async def load_consumer(context: Context, integration_id: int) -> OAuthConsumer | None:
    consumers = get_loader(context, "integration.consumer", lambda _context: _consumers)
    consumer: OAuthConsumer | None = await consumers.load(integration_id)
    return consumer


async def load_credentials(context: Context, integration_id: int) -> CredentialsView | None:
    consumer = await load_consumer(context, integration_id)
    if consumer is None:
        return None
    tokens = get_loader(context, "integration.access_token", lambda _context: _access_tokens)
    token: OAuthToken | None = await tokens.load(consumer.id)
    access = oauth_tokens.decrypt_token(token) if token is not None else None
    return CredentialsView(
        consumer_key=consumer.key,
        consumer_secret=secret_box.decrypt(consumer.secret),
        access_token=access.token if access else None,
        access_token_secret=access.secret if access else None,
    )


async def show_credentials(context: Context, integration_id: int, name: str) -> CredentialsView | None:
    """``Integration.credentials``: the credentials, and the audit event that an admin was shown them."""
    credentials = await load_credentials(context, integration_id)
    if credentials is not None:
        shown = [n for n, v in zip(events.OAUTH1_CREDENTIALS, _values(credentials), strict=True) if v is not None]
        await events.credentials_shown(integration_id, name, shown, "Integration.credentials")
    return credentials


def _values(credentials: CredentialsView) -> tuple[str | None, ...]:
    return (
        credentials.consumer_key,
        credentials.consumer_secret,
        credentials.access_token,
        credentials.access_token_secret,
    )


async def _declared(keys: list[str]) -> list[bool]:
    declared = set(await IntegrationDeclaration.filter(name_key__in=keys).values_list("name_key", flat=True))
    return [key in declared for key in keys]


async def is_declared(context: Context, name_key: str) -> bool:
    """Whether the integrations file (as last read) declares this name."""
    return bool(await get_loader(context, "integration.declared", lambda _context: _declared).load(name_key))


async def file_problems() -> list[str]:
    """What went wrong with the integrations file at the last start, for the admin."""
    rows = await IntegrationDeclaration.filter(problem__isnull=False).order_by("id").values_list("problem", flat=True)
    return [str(problem) for problem in rows]
