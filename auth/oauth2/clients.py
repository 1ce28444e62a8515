"""Who the OAuth 2.0 client says it is (HTTP Basic or ``client_secret_post``), and what the database knows of it.

The client id is the integration's consumer key and the client secret its consumer secret, so an integration
needs no second set of credentials. Everything a token, revocation or introspection request needs comes from
one indexed lookup (consumer, integration, grant, the token lifetime setting), read before oauthlib runs.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
from collections.abc import Mapping
from urllib.parse import unquote_plus

from auth.config import STORE_CONFIG_COLUMN, snapshot_of
from auth.grants import granted_resources
from auth.oauth.credentials import decrypt_or_dummy, overlap_secret, same
from models.integration import STATUS_ACTIVE
from models.sql import fetch_one
from models.values import as_bool, as_datetime


class ClientAuthenticationMalformed(Exception):
    """The request authenticates the client in a way that cannot be read, or in two ways at once."""


@dataclasses.dataclass(frozen=True, slots=True)
class PresentedClient:
    """The client credentials of one request; ``method`` is ``client_secret_basic`` or ``client_secret_post``."""

    client_id: str
    secret: str = dataclasses.field(repr=False)
    method: str


def presented_client(authorization: str | None, form: Mapping[str, str]) -> PresentedClient | None:
    """The client credentials a request carries (RFC 6749 section 2.3.1), or None when it carries none.

    HTTP Basic carries the form-urlencoded id and secret; ``client_secret_post`` puts them in the body. Using
    both at once is refused (the RFC says a client MUST NOT use more than one method).
    """
    basic = None
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "basic":
            raise ClientAuthenticationMalformed("Authenticate the client with HTTP Basic or client_secret_post.")
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise ClientAuthenticationMalformed("The HTTP Basic credentials could not be read.") from None
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise ClientAuthenticationMalformed("The HTTP Basic credentials could not be read.")
        basic = PresentedClient(unquote_plus(client_id), unquote_plus(secret), "client_secret_basic")
    if "client_secret" in form:
        if basic is not None:
            raise ClientAuthenticationMalformed("Use one client authentication method, not two.")
        return PresentedClient(form.get("client_id", ""), form["client_secret"], "client_secret_post")
    return basic


_CLIENT_SQL = (
    "SELECT c.key AS consumer_key, c.secret AS secret, c.previous_secret AS previous_secret, "
    "c.previous_secret_expires_at AS previous_secret_expires_at, "
    "i.id AS integration_id, i.name AS integration_name, i.status AS integration_status, "
    "i.allow_oauth2 AS allow_oauth2, g.all_resources AS all_resources, g.resources AS resources, "
    "g.selected AS selected, "
    f"{STORE_CONFIG_COLUMN} AS store_config "
    "FROM (SELECT 1 AS one) AS q "
    "LEFT JOIN oauth_consumer c ON c.key = ? "
    "LEFT JOIN integration i ON i.id = c.integration_id "
    "LEFT JOIN integration_grant g ON g.integration_id = i.id"
)


@dataclasses.dataclass(frozen=True, slots=True)
class ClientRecord:
    """What the database knows about a client id (``integration_id`` None: no such client)."""

    client_id: str
    integration_id: int | None
    integration_name: str
    active: bool
    allow_oauth2: bool
    #: What the integration's grant holds (``Magento_Backend::all`` for All).
    grant: frozenset[str]
    #: What the admin ticked: the scope a token gets when the client asks for none.
    default_scopes: tuple[str, ...]
    token_lifetime_seconds: int
    secret: str | None = dataclasses.field(repr=False)
    previous_secret: str | None = dataclasses.field(repr=False)
    previous_secret_expires_at: dt.datetime | None

    def secret_matches(self, presented: str) -> bool:
        """Constant-time check against the current secret and, during a rotation's overlap, the previous one.

        An unknown client is checked against a dummy secret, so that it takes as long as a known one.
        """
        matches = same(decrypt_or_dummy(self.secret), presented)
        previous = overlap_secret(self.previous_secret, self.previous_secret_expires_at)
        if previous is not None:
            matches = same(previous, presented) or matches
        return matches and self.integration_id is not None


def _scopes(all_resources: object, selected: object) -> tuple[str, ...]:
    held = granted_resources(all_resources, selected)
    return tuple(sorted(held))


async def fetch_client(client_id: str) -> ClientRecord:
    """The client's record; a record with ``integration_id`` None when the id is unknown."""
    row = await fetch_one(_CLIENT_SQL, client_id)
    assert row is not None
    lifetime = snapshot_of(row["store_config"]).oauth2_token_lifetime_seconds
    expires = row["previous_secret_expires_at"]
    return ClientRecord(
        client_id=client_id,
        integration_id=row["integration_id"],
        integration_name=row["integration_name"] or "",
        active=row["integration_status"] == STATUS_ACTIVE,
        allow_oauth2=as_bool(row["allow_oauth2"]) if row["allow_oauth2"] is not None else False,
        grant=granted_resources(row["all_resources"], row["resources"]),
        default_scopes=_scopes(row["all_resources"], row["selected"]),
        token_lifetime_seconds=lifetime,
        secret=row["secret"],
        previous_secret=row["previous_secret"],
        previous_secret_expires_at=as_datetime(expires) if expires else None,
    )
