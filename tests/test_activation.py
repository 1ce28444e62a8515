"""Activate, Reauthorize and Delete of manual integrations, and secrets at rest, through HTTP."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from auth.tokens import hash_token
from resolvers.integrations import activation
from resolvers.integrations.callback import NOT_DELIVERED
from resolvers.problems import Outcome
from settings import Settings, sqlite_path
from tests.support.graphql import GraphQLClient
from tests.support.integrations import (
    AUTHORIZE,
    DELETE,
    GET,
    REAUTHORIZE,
    UPDATE,
    YOUR_PASSWORD,
    authorize,
    create,
    db_id,
)
from tests.support.oauth import find_token_row

TOKEN_FORMAT = re.compile(r"^[0-9a-z]{32}$")


async def test_authorize_generates_access_credentials_and_activates(admin: GraphQLClient) -> None:
    from models import OAuthToken

    integration = await create(admin, name="Manual", callbackUrl="https://cb.example/")
    payload = await authorize(admin, integration["id"])
    credentials = payload["credentials"]
    assert credentials["consumerKey"] == integration["credentials"]["consumerKey"]
    assert credentials["consumerSecret"] == integration["credentials"]["consumerSecret"]
    assert TOKEN_FORMAT.match(credentials["accessToken"])
    assert TOKEN_FORMAT.match(credentials["accessTokenSecret"])
    assert credentials["accessToken"] != credentials["accessTokenSecret"]
    assert payload["identityLinkUrl"] is None and payload["successCallbackUrl"] is None
    assert payload["integration"]["status"] == "ACTIVE"
    assert payload["integration"]["credentials"] == credentials

    rows = await OAuthToken.filter(consumer__integration_id=db_id(integration))
    assert len(rows) == 1
    row = rows[0]
    assert row.type == "access" and row.user_type == 1 and row.revoked is False
    assert row.token_hash == hash_token(credentials["accessToken"])
    assert credentials["accessToken"] not in (row.token_encrypted, row.secret)

    body = await admin.query(GET, {"id": integration["id"]})
    assert body["data"]["integration"]["credentials"] == credentials


async def test_authorizing_an_active_integration_is_refused(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Manual")
    first = await authorize(admin, integration["id"])
    body = await admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    payload = body["data"]["authorizeIntegration"]
    assert payload["credentials"] is None
    assert payload["userErrors"] == [
        {
            "field": ["id"],
            "message": "The integration 'Manual' is already active. Use reauthorizeIntegration to issue new tokens.",
            "code": "ALREADY_ACTIVE",
        }
    ]
    assert payload["integration"]["credentials"] == first["credentials"]


async def test_concurrent_authorizations_issue_one_access_token(admin: GraphQLClient) -> None:
    from models import OAuthToken

    integration = await create(admin, name="Manual")
    bodies = await asyncio.gather(
        *(admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD}) for _ in range(6))
    )
    payloads = [b["data"]["authorizeIntegration"] for b in bodies]
    winners = [p for p in payloads if p["credentials"] is not None]
    assert len(winners) == 1
    # The others overlapped the winner (IN_PROGRESS) or came after it (ALREADY_ACTIVE).
    losers = [admin.user_errors(p) for p in payloads if p is not winners[0]]
    assert all(c in ([(("id",), "IN_PROGRESS")], [(("id",), "ALREADY_ACTIVE")]) for c in losers), losers
    rows = await OAuthToken.filter(consumer__integration_id=db_id(integration))
    assert len(rows) == 1
    assert rows[0].token_hash == hash_token(winners[0]["credentials"]["accessToken"])


async def test_reauthorize_replaces_the_access_token_and_keeps_the_consumer(admin: GraphQLClient) -> None:
    from models import OAuthToken

    integration = await create(admin, name="Manual")
    first = (await authorize(admin, integration["id"]))["credentials"]
    body = await admin.query(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    payload = body["data"]["reauthorizeIntegration"]
    assert payload["userErrors"] == []
    second = payload["credentials"]
    assert (second["consumerKey"], second["consumerSecret"]) == (first["consumerKey"], first["consumerSecret"])
    assert second["accessToken"] != first["accessToken"]
    assert second["accessTokenSecret"] != first["accessTokenSecret"]
    assert payload["integration"]["status"] == "ACTIVE"
    # The old access token is gone at once; only the new one is stored.
    assert await find_token_row(first["accessToken"]) is None
    assert (await find_token_row(second["accessToken"], "access")) is not None
    assert await OAuthToken.filter(consumer__integration_id=db_id(integration)).count() == 1


async def test_reauthorize_needs_an_activated_integration(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Manual")
    body = await admin.query(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    payload = body["data"]["reauthorizeIntegration"]
    assert admin.user_errors(payload) == [(("id",), "NOT_ACTIVE")]
    assert payload["integration"]["status"] == "INACTIVE"


async def test_unknown_ids_are_not_found(admin: GraphQLClient) -> None:
    for document, field in ((AUTHORIZE, "authorizeIntegration"), (REAUTHORIZE, "reauthorizeIntegration")):
        body = await admin.query(document, {"id": "SW50ZWdyYXRpb246OTk5", **YOUR_PASSWORD})
        assert admin.user_errors(body["data"][field]) == [(("id",), "NOT_FOUND")]


async def test_a_callback_url_alone_means_manual_activation(admin: GraphQLClient) -> None:
    """Magento starts the token exchange only when both URLs are set (magento/magento2#31108)."""
    integration = await create(admin, name="Half", identityLinkUrl="https://id.example/")
    assert integration["isTokenExchange"] is False
    payload = await authorize(admin, integration["id"])
    assert payload["credentials"]["accessToken"]


async def test_token_exchange_integrations_go_through_the_seam(
    admin: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    from models import OAuthToken

    integration = await create(
        admin,
        name="Exchange",
        callbackUrl="http://127.0.0.1:9/callback",
        identityLinkUrl="http://127.0.0.1:9/login",
    )
    assert integration["isTokenExchange"] is True
    body = await admin.query(AUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    payload = body["data"]["authorizeIntegration"]
    # Loopback callbacks are refused unless ALLOW_PRIVATE_CALLBACKS=1 (tests/test_oauth_token_exchange.py).
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(["id"], "CALLBACK_FAILED")]
    assert payload["userErrors"][0]["message"] == NOT_DELIVERED  # what happened is in the log only
    assert "private or loopback address" in caplog.text
    assert payload["credentials"] is None
    assert payload["integration"]["status"] == "INACTIVE"
    assert not await OAuthToken.exists(consumer__integration_id=db_id(integration))


async def test_the_seam_receives_the_integration_and_its_outcome_is_the_payload(
    admin: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool]] = []

    async def fake_exchange(row: Any, context: Any, *, reauthorize: bool) -> Outcome[activation.Activation]:
        calls.append((row.name, reauthorize))
        return Outcome(
            activation.Activation(
                integration=row,
                identity_link_url=f"{row.identity_link_url}?oauth_consumer_key=k",
                success_callback_url="https://store.test/back",
            )
        )

    monkeypatch.setattr(activation, "activate_by_token_exchange", fake_exchange)
    integration = await create(
        admin, name="Exchange", callbackUrl="https://a.example/cb", identityLinkUrl="https://a.example/id"
    )
    payload = await authorize(admin, integration["id"])
    assert calls == [("Exchange", False)]
    assert payload["identityLinkUrl"] == "https://a.example/id?oauth_consumer_key=k"
    assert payload["successCallbackUrl"] == "https://store.test/back"
    assert payload["credentials"] is None


async def test_deleting_an_active_integration_removes_its_access_token(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Manual")
    credentials = (await authorize(admin, integration["id"]))["credentials"]
    assert await find_token_row(credentials["accessToken"]) is not None
    body = await admin.query(DELETE, {"id": integration["id"], **YOUR_PASSWORD})
    assert body["data"]["deleteIntegration"]["userErrors"] == []
    assert await find_token_row(credentials["accessToken"]) is None


async def test_editing_an_active_integration_keeps_it_working(admin: GraphQLClient) -> None:
    integration = await create(admin, name="Manual")
    credentials = (await authorize(admin, integration["id"]))["credentials"]
    await admin.query(UPDATE, {"input": {**YOUR_PASSWORD, "id": integration["id"], "email": "x@y.example"}})
    assert await find_token_row(credentials["accessToken"], "access") is not None


# ------------------------------------------------------------------------------------ secrets at rest


async def _dump_database() -> str:
    """Every row of every table, as text (what a database dump would contain)."""
    from models.sql import dialect, fetch_all

    if dialect() == "sqlite":
        tables = [r["name"] for r in await fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")]
    else:
        tables = [
            r["tablename"] for r in await fetch_all("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
    dump = []
    for table in tables:
        for row in await fetch_all(f'SELECT * FROM "{table}"'):
            dump.append(repr(row))
    return "\n".join(dump)


def _database_files(settings: Settings) -> bytes:
    path = sqlite_path(settings.database_url)
    assert path is not None
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


async def test_no_secret_is_stored_or_logged_in_clear(
    admin: GraphQLClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    integration = await create(admin, name="Secretive", resources=["Magento_Cms::page"])
    first = (await authorize(admin, integration["id"]))["credentials"]
    body = await admin.query(REAUTHORIZE, {"id": integration["id"], **YOUR_PASSWORD})
    second = body["data"]["reauthorizeIntegration"]["credentials"]
    await admin.query(GET, {"id": integration["id"]})

    secrets = {
        "consumer secret": second["consumerSecret"],
        "access token": second["accessToken"],
        "access token secret": second["accessTokenSecret"],
        "old access token": first["accessToken"],
        "old access token secret": first["accessTokenSecret"],
    }
    dump = await _dump_database()
    assert second["consumerKey"] in dump  # the dump is real: the (public) consumer key is there
    files = _database_files(settings) if settings.is_sqlite else second["consumerKey"].encode()
    assert second["consumerKey"].encode() in files  # the files are real too
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "oauth_token" in logged  # SQL statements were captured
    for label, secret in secrets.items():
        assert secret not in dump, label
        assert secret.encode() not in files, label
        assert secret not in logged, label
