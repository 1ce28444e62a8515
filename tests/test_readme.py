"""The README's GraphQL examples, each run as it stands (pasted whole into GraphiQL), as the admin it signs in."""

from __future__ import annotations

import re

import pytest

from tests.support.graphql import GraphQLClient
from tests.support.principals import ADMIN_PASSWORD
from tests.support.servers import ROOT

BLOCKS = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_the_readme_has_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("document", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
async def test_each_readme_example_runs_when_pasted_as_it_is(admin: GraphQLClient, document: str) -> None:
    variables = {"username": "admin", "password": ADMIN_PASSWORD} if "$password" in document else None
    await admin.data(document, variables)  # no errors: one document, one operation (or named ones)
