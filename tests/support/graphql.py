"""GraphQL over HTTP as one caller, after Strawberry's ``tests/http/clients/base.py``: the same calls
in-process (``httpx.ASGITransport``) and against a real server process (a base URL).

A client is a transport plus who is calling (a bearer token, or none for a guest). The fixtures ``guest``,
``admin`` and ``integration(...)`` in ``tests/conftest.py`` hand each test the callers it needs, so a test
says who is calling in one word. Tests of real server processes are synchronous (threads, several
processes, Playwright's sync API), so the client comes in two flavours with the same methods:
``GraphQLClient`` (``await``) and ``SyncGraphQLClient``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

PATH = "/graphql"
SIGN_IN = "mutation($u: String!, $p: String!) { generateAdminToken(username: $u, password: $p) { token } }"


class _Caller:
    """What both flavours share: the request a caller sends, and how its answer is read."""

    def __init__(self, token: str | None) -> None:
        #: The bearer token sent with every request (``None``: a guest).
        self.token = token

    def _request(self, document: str, variables: dict[str, Any] | None, headers: dict[str, str] | None) -> Any:
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {"json": {"query": document, "variables": variables or {}}, "headers": {**sent, **(headers or {})}}

    def _get_request(
        self,
        document: str | None,
        variables: dict[str, Any] | None,
        headers: dict[str, str] | None,
        extensions: dict[str, Any] | None,
    ) -> Any:
        """A GET request as Apollo Client sends one: the document, variables and extensions as query parameters."""
        sent = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params: dict[str, str] = {}
        if document is not None:
            params["query"] = document
        if variables:
            params["variables"] = json.dumps(variables)
        if extensions:
            params["extensions"] = json.dumps(extensions)
        return {"params": params, "headers": {**sent, **(headers or {})}}

    @staticmethod
    def _body(response: httpx.Response, expect_status: int | None) -> dict[str, Any]:
        if expect_status is not None:
            assert response.status_code == expect_status, response.text
        return response.json()

    @staticmethod
    def _data(body: dict[str, Any]) -> dict[str, Any]:
        assert not body.get("errors"), body
        return body["data"]

    @staticmethod
    def _issued_token(body: dict[str, Any]) -> str:
        assert body.get("errors") is None, body
        return body["data"]["generateAdminToken"]["token"]

    @staticmethod
    def user_errors(payload: dict[str, Any]) -> list[tuple[tuple[str, ...] | None, str]]:
        """``(field path, code)`` of each user error in a mutation's payload."""
        return [(tuple(e["field"]) if e["field"] else None, e["code"]) for e in payload["userErrors"]]

    @staticmethod
    def error_codes(body: dict[str, Any]) -> list[str]:
        """``extensions.code`` of each GraphQL error in a response body, in order."""
        return [error["extensions"]["code"] for error in body.get("errors") or []]

    @staticmethod
    def error_codes_by_path(body: dict[str, Any]) -> dict[str, str]:
        """``extensions.code`` of each GraphQL error, by its dotted path (``"widgets.0.owner"``)."""
        return {".".join(map(str, e["path"])): e["extensions"]["code"] for e in body.get("errors", [])}


class GraphQLClient(_Caller):
    """In-process: an ``httpx.AsyncClient`` over the app's ASGI transport (see :func:`asgi_client`)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        super().__init__(token)
        self.http = http

    def with_token(self, token: str | None) -> GraphQLClient:
        """The same transport, another caller."""
        return GraphQLClient(self.http, token)

    async def post(
        self, document: str, variables: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """The raw response, for tests of statuses and headers."""
        return await self.http.post(PATH, **self._request(document, variables, headers))

    async def query(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        expect_status: int | None = 200,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The JSON body, asserting the HTTP status (any, if ``expect_status`` is None)."""
        return self._body(await self.post(document, variables, headers=headers), expect_status)

    async def get(
        self,
        document: str | None,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """The raw response to the operation sent as a GET request (cacheable queries, persisted queries)."""
        return await self.http.get(PATH, **self._get_request(document, variables, headers, extensions))

    async def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of an operation that must succeed without a GraphQL error."""
        return self._data(await self.query(document, variables))

    async def sign_in(self, username: str, password: str) -> GraphQLClient:
        """A client for the admin that ``generateAdminToken`` signs in."""
        return self.with_token(self._issued_token(await self.query(SIGN_IN, {"u": username, "p": password})))


class SyncGraphQLClient(_Caller):
    """Against a real server at ``base_url``; each request on a connection of its own."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        super().__init__(token)
        self.base_url = base_url
        self.timeout = timeout

    def with_token(self, token: str | None) -> SyncGraphQLClient:
        return SyncGraphQLClient(self.base_url, token, timeout=self.timeout)

    def at(self, base_url: str) -> SyncGraphQLClient:
        """The same caller, at another server (of the same database)."""
        return SyncGraphQLClient(base_url, self.token, timeout=self.timeout)

    def post(
        self, document: str, variables: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return httpx.post(f"{self.base_url}{PATH}", timeout=self.timeout, **self._request(document, variables, headers))

    def query(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        *,
        expect_status: int | None = 200,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        return self._body(self.post(document, variables, headers=headers), expect_status)

    def get(
        self,
        document: str | None,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> httpx.Response:
        request = self._get_request(document, variables, headers, extensions)
        return httpx.get(f"{self.base_url}{PATH}", timeout=self.timeout, **request)

    def data(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._data(self.query(document, variables))

    def sign_in(self, username: str, password: str) -> SyncGraphQLClient:
        return self.with_token(self._issued_token(self.query(SIGN_IN, {"u": username, "p": password})))


@contextlib.asynccontextmanager
async def asgi_client(app: Any, **transport: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` that calls ``app`` in-process (``transport``: e.g. the client address)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, **transport), base_url="http://testserver"
    ) as c:
        yield c
