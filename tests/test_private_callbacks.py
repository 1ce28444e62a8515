"""Private callbacks as a store setting: ``privateCallbackAllowList`` lets activation reach a host on the LAN (or
loopback) from the next request on, while link-local and cloud-metadata addresses stay out of reach."""

from __future__ import annotations

import ipaddress

import pytest

from resolvers.integrations.callback import (
    ForbiddenEntry,
    OutboundError,
    PrivateAllowList,
    allow_list_entry,
    resolve,
)
from tests.support.graphql import GraphQLClient
from tests.support.integrations import AUTHORIZE, YOUR_PASSWORD, create
from tests.support.oauth import CallbackServer

UPDATE = """mutation($input: UpdateOAuthConfigInput!) {
  updateOAuthConfig(input: $input) { oauth { privateCallbackAllowList } userErrors { field message code } }
}"""
READ = "{ config { oauth { privateCallbackAllowList usesSystemValue systemValue { privateCallbackAllowList } } } }"


@pytest.mark.once
@pytest.mark.parametrize(
    ("raw", "entry"),
    [
        ("127.0.0.1/32", "127.0.0.1"),
        (" 10.20.30.40/16 ", "10.20.0.0/16"),
        ("192.168.1.10", "192.168.1.10"),
        ("FD12:3456::/48", "fd12:3456::/48"),
        ("::1", "::1"),
        ("ERP.corp.example.", "erp.corp.example"),
        ("localhost", "localhost"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_allow_list_entries_are_normalised(raw: str, entry: str) -> None:
    assert allow_list_entry(raw) == entry


@pytest.mark.once
@pytest.mark.parametrize(
    "raw",
    [
        "169.254.169.254",
        "169.254.0.0/16",
        "169.0.0.0/8",
        "0.0.0.0/0",
        "fe80::1",
        "fd00::/8",  # holds fd00:ec2::254, AWS's metadata service over IPv6
        "fd00:ec2::254",
        "::ffff:169.254.169.254",
        "100.100.100.200",
        "metadata.google.internal",
        "Metadata.Google.Internal.",
        "instance-data",
    ],
)
def test_link_local_and_metadata_entries_are_refused(raw: str) -> None:
    with pytest.raises(ForbiddenEntry):
        allow_list_entry(raw)


@pytest.mark.once
@pytest.mark.parametrize("raw", ["", "erp corp", "10.0.0.0/33", "http://erp.example", "erp_1.example", "-erp", "bü.ch"])
def test_malformed_entries_are_refused(raw: str) -> None:
    with pytest.raises(ValueError) as refused:
        allow_list_entry(raw)
    assert not isinstance(refused.value, ForbiddenEntry)


@pytest.mark.once
async def test_the_guard_refuses_link_local_and_metadata_even_when_listed() -> None:
    # A list that got past the input checks (written into the database by hand, say).
    listed = PrivateAllowList(
        hosts=frozenset({"metadata.google.internal"}),
        networks=(ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")),
    )
    for url in ("http://169.254.169.254/latest", "http://[fe80::1]/", "http://100.100.100.200/"):
        with pytest.raises(OutboundError) as refused:
            await resolve(url, allow_private=False, allow_list=listed)
        assert "callbacks never go there" in refused.value.detail
    assert "never go there" in await refusal("http://metadata.google.internal/", listed, allow_private=True)
    assert (await resolve("http://127.0.0.1:9/", allow_private=False, allow_list=listed)).port == 9
    # Entries that are malformed or forbidden are skipped when the stored list is read.
    parsed = PrivateAllowList.parse(["169.254.0.0/16", "not a host", "10.0.0.0/8", "ERP.example"])
    assert parsed == PrivateAllowList(frozenset({"erp.example"}), (ipaddress.ip_network("10.0.0.0/8"),))


@pytest.mark.once
async def test_the_guard_checks_every_resolved_address_against_the_list() -> None:
    loopback_v4 = PrivateAllowList(networks=(ipaddress.ip_network("127.0.0.0/8"),))
    target = await resolve("http://127.0.0.2:8080/cb", allow_private=False, allow_list=loopback_v4)
    assert str(target.address) == "127.0.0.2" and target.pinned_url == "http://127.0.0.2:8080/cb"
    assert "privateCallbackAllowList" in await refusal("http://[::1]:8080/cb", loopback_v4)
    assert "privateCallbackAllowList" in await refusal(
        "http://[::ffff:10.1.2.3]/", loopback_v4
    )  # an IPv4-mapped address is that IPv4 host
    mapped = PrivateAllowList(networks=(ipaddress.ip_network("10.0.0.0/8"),))
    assert await resolve("http://[::ffff:10.1.2.3]/", allow_private=False, allow_list=mapped)
    by_name = PrivateAllowList(hosts=frozenset({"erp.internal"}))
    assert "privateCallbackAllowList" in await refusal("http://127.0.0.1/", by_name)  # the name is listed, not this


async def refusal(url: str, allow_list: PrivateAllowList, *, allow_private: bool = False) -> str:
    """Why the guard refuses ``url`` (what the server log says)."""
    with pytest.raises(OutboundError) as refused:
        await resolve(url, allow_private=allow_private, allow_list=allow_list)
    return refused.value.detail


async def authorize(admin: GraphQLClient, integration_id: str) -> dict[str, object]:
    return (await admin.data(AUTHORIZE, {"id": integration_id, **YOUR_PASSWORD}))["authorizeIntegration"]


async def test_the_allow_list_opens_a_loopback_callback_without_a_restart(
    admin: GraphQLClient, callback: CallbackServer
) -> None:
    erp = await create(admin, name="On-premise ERP", callbackUrl=callback.url(), identityLinkUrl="https://erp.test/")
    refused = await authorize(admin, erp["id"])
    assert [e["code"] for e in refused["userErrors"]] == ["CALLBACK_FAILED"]  # type: ignore[index]
    assert callback.received == []

    saved = (await admin.data(UPDATE, {"input": {"privateCallbackAllowList": ["127.0.0.1/32", "erp.corp.test"]}}))[
        "updateOAuthConfig"
    ]
    assert saved == {"oauth": {"privateCallbackAllowList": ["127.0.0.1", "erp.corp.test"]}, "userErrors": []}
    allowed = await authorize(admin, erp["id"])
    assert allowed["userErrors"] == [] and allowed["identityLinkUrl"]
    assert len(callback.received) == 1 and callback.received[0].form["oauth_consumer_key"]

    # Metadata and link-local entries are refused as input; nothing of that write is saved.
    body = await admin.query(UPDATE, {"input": {"privateCallbackAllowList": ["10.0.0.0/8", "169.254.169.254", "x y"]}})
    payload = body["data"]["updateOAuthConfig"]
    assert payload["oauth"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "privateCallbackAllowList"], "NOT_ALLOWED"),
        (["input", "privateCallbackAllowList"], "INVALID"),
    ]
    assert '"169.254.169.254"' in payload["userErrors"][0]["message"]
    current = (await admin.data(READ))["config"]["oauth"]
    assert current["privateCallbackAllowList"] == ["127.0.0.1", "erp.corp.test"]
    assert "privateCallbackAllowList" not in current["usesSystemValue"]
    assert current["systemValue"] == {"privateCallbackAllowList": []}

    # Back to the system value (empty): refused again, from the next request on.
    reset = await admin.data(UPDATE, {"input": {"useSystemValue": ["privateCallbackAllowList"]}})
    assert reset["updateOAuthConfig"]["oauth"] == {"privateCallbackAllowList": []}
    again = await authorize(admin, erp["id"])
    assert [e["code"] for e in again["userErrors"]] == ["CALLBACK_FAILED"]  # type: ignore[index]
    assert len(callback.received) == 1


async def test_too_many_entries_are_refused(admin: GraphQLClient) -> None:
    many = [f"10.0.{n // 250}.{n % 250}" for n in range(101)]
    payload = (await admin.data(UPDATE, {"input": {"privateCallbackAllowList": many}}))["updateOAuthConfig"]
    assert [e["code"] for e in payload["userErrors"]] == ["TOO_LONG"]
