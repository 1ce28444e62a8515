"""The callback guard's address rules and the identity-link URL builder (pure functions, no traffic)."""

from __future__ import annotations

import ipaddress

import pytest

from resolvers.integrations.activation import add_query_parameters
from resolvers.integrations.callback import FORBIDDEN, PRIVATE, PUBLIC, classify


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("169.254.169.254", FORBIDDEN),  # AWS/GCP/Azure metadata (link-local)
        ("169.254.0.1", FORBIDDEN),
        ("fe80::1", FORBIDDEN),
        ("100.100.100.200", FORBIDDEN),  # Alibaba metadata
        ("fd00:ec2::254", FORBIDDEN),  # AWS IMDS over IPv6
        ("::ffff:169.254.169.254", FORBIDDEN),  # IPv4-mapped
        ("64:ff9b::a9fe:a9fe", FORBIDDEN),  # NAT64 of 169.254.169.254
        ("2002:a9fe:a9fe::1", FORBIDDEN),  # 6to4 of 169.254.169.254
        ("0.0.0.0", FORBIDDEN),  # noqa: S104
        ("::", FORBIDDEN),
        ("224.0.0.1", FORBIDDEN),
        ("255.255.255.255", FORBIDDEN),
        ("240.0.0.1", FORBIDDEN),
        ("127.0.0.1", PRIVATE),
        ("::1", PRIVATE),
        ("::ffff:127.0.0.1", PRIVATE),
        ("10.1.2.3", PRIVATE),
        ("172.16.0.1", PRIVATE),
        ("192.168.1.10", PRIVATE),
        ("100.64.0.1", PRIVATE),
        ("fd12:3456::1", PRIVATE),
        ("93.184.215.14", PUBLIC),
        ("2606:4700::1111", PUBLIC),
    ],
)
def test_address_classes(address: str, kind: str) -> None:
    assert classify(ipaddress.ip_address(address)) == kind


def test_identity_link_parameters_are_added_to_an_existing_query() -> None:
    back = "http://store.test/admin/integration/success-callback"
    params = {"oauth_consumer_key": "k" * 32, "success_call_back": back}
    assert add_query_parameters("https://app.example/link", params) == (
        "https://app.example/link?oauth_consumer_key=" + "k" * 32 + "&success_call_back=http%3A%2F%2Fstore.test"
        "%2Fadmin%2Fintegration%2Fsuccess-callback"
    )
    assert add_query_parameters("https://app.example/link?a=1&b=&oauth_consumer_key=old#frag", params) == (
        "https://app.example/link?a=1&b=&oauth_consumer_key=" + "k" * 32 + "&success_call_back=http%3A%2F%2Fstore"
        ".test%2Fadmin%2Fintegration%2Fsuccess-callback#frag"
    )
