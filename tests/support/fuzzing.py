"""Fuzzing a running server: GraphQL operations generated from its schema (schemathesis), and random or
malformed HTTP requests against ``/graphql`` and the OAuth token endpoints.

Shared by the short runs in ``tests/test_fuzz.py`` and the long run ``python bench/fuzz.py``. The bar is
the same for both: never an HTTP 5xx, never ``INTERNAL_SERVER_ERROR``, never a stack trace in a body.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import random
import re
import secrets
import select
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from tests.support import leaks
from tests.support.graphql import SyncGraphQLClient
from tests.support.leaks import LeakCheck
from tests.support.oauth import signer

PATHS = (
    "/graphql",
    "/oauth/token/request",
    "/oauth/token/access",
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
)

#: Root fields that are slow by design (argon2 password hashing, or signing in again after revoking the
#: token in use): they get a smaller share of the budget.
SLOW_OPERATIONS = {"Mutation.generateAdminToken": 0.15, "Mutation.revokeAdminToken": 0.15}

_TRACE_MARKERS = ("Traceback (most recent call last)", 'File "/', "site-packages")


@dataclasses.dataclass
class Problem:
    """A response that breaks the bar, with what reproduces it."""

    what: str
    status: int
    request: str
    body: str

    def __str__(self) -> str:
        return f"{self.what}: HTTP {self.status} for {self.request}\n    -> {self.body[:300]}"


@dataclasses.dataclass
class FuzzReport:
    """Counts per label (operation or probe kind) and every problem found."""

    operations: int = 0
    #: Generated operations not sent (a URL argument that could not be made safe).
    skipped: int = 0
    #: Answers checked for fields the caller may not read (the narrow caller's).
    leak_checked: int = 0
    statuses: collections.Counter[int] = dataclasses.field(default_factory=collections.Counter)
    codes: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    per_label: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    problems: list[Problem] = dataclasses.field(default_factory=list)

    def merge(self, other: FuzzReport) -> None:
        self.operations += other.operations
        self.skipped += other.skipped
        self.leak_checked += other.leak_checked
        self.statuses.update(other.statuses)
        self.codes.update(other.codes)
        self.per_label.update(other.per_label)
        self.problems.extend(other.problems)

    def summary(self) -> str:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        codes = ", ".join(f"{k}: {v}" for k, v in self.codes.most_common())
        checked = f"; {self.leak_checked} checked for leaks" if self.leak_checked else ""
        return (
            f"{self.operations} requests; HTTP {{{statuses}}}; error codes {{{codes}}}{checked}; "
            f"{len(self.problems)} problems"
        )


def error_codes_in_text(text: str) -> list[str]:
    """``extensions.code`` of every GraphQL error in a JSON body (empty when the body is not GraphQL JSON)."""
    try:
        body = json.loads(text)
    except ValueError:
        return []
    results = body if isinstance(body, list) else [body]
    codes = []
    for result in results:
        if isinstance(result, dict):
            for error in result.get("errors") or ():
                if isinstance(error, dict):
                    codes.append(str((error.get("extensions") or {}).get("code")))
    return codes


def judge(report: FuzzReport, label: str, status: int, text: str, request: str) -> None:
    """Count one response and record it if it breaks the bar."""
    report.operations += 1
    report.per_label[label] += 1
    report.statuses[status] += 1
    codes = error_codes_in_text(text)
    report.codes.update(codes)
    if status >= 500:
        report.problems.append(Problem(f"HTTP {status} in {label}", status, request, text))
    elif "INTERNAL_SERVER_ERROR" in codes:
        report.problems.append(Problem(f"INTERNAL_SERVER_ERROR in {label}", status, request, text))
    elif any(marker in text for marker in _TRACE_MARKERS):
        report.problems.append(Problem(f"stack trace in {label}", status, request, text))


def check_leaks(report: FuzzReport, check: LeakCheck, label: str, document: str, text: str, request: str) -> None:
    """Record any field in the answer that the caller may not read (``tests/support/leaks.py``)."""
    try:
        body = json.loads(text)
    except ValueError:
        return
    report.leak_checked += 1
    for leak in check.leaks(document, body) if isinstance(body, dict) else []:
        report.problems.append(Problem(f"{leak} leaked in {label}", 200, request, text))


# ------------------------------------------------------------------------------- schemathesis


class Caller:
    """Who the generated operations run as: headers or a requests auth, renewed after a 401 if it can be."""

    def __init__(
        self,
        name: str,
        headers: dict[str, str] | None = None,
        auth: Any = None,
        password: str | None = None,
        renew: Callable[[], dict[str, str]] | None = None,
        leak_check: LeakCheck | None = None,
    ) -> None:
        self.name = name
        self.headers = dict(headers or {})
        self.auth = auth
        #: An admin's own password: generated ``currentPassword`` arguments are replaced by it.
        self.password = password
        #: When set, every response is checked to carry no field this caller may not read.
        self.leak_check = leak_check
        self._renew = renew
        self.renewals = 0

    def renew(self) -> bool:
        """After a 401 (the fuzzer revoked its own token, say): fresh credentials, if this caller has a way."""
        if self._renew is None:
            return False
        self.headers = self._renew()
        self.renewals += 1
        return True


#: Both take Your Password (``currentPassword``), in the input or as a variable.
CREATE_INTEGRATION = """
mutation($input: CreateIntegrationInput!) {
  createIntegration(input: $input) { integration { id } userErrors { code message } }
}"""
AUTHORIZE_INTEGRATION = """
mutation($id: ID!, $currentPassword: String) {
  authorizeIntegration(id: $id, currentPassword: $currentPassword) {
    credentials { consumerKey consumerSecret accessToken accessTokenSecret }
    userErrors { code }
  }
}"""
INTEGRATION_IDS = "{ integrations(first: 100) { edges { node { id } } } }"

#: What ``seed_integrations`` creates: a Custom grant, All, a token-exchange one (its loopback callback is
#: refused) and one activated manually.
SEED_INTEGRATIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "fuzz custom",
        "email": "custom@example.com",
        "resourceAccess": "CUSTOM",
        "resources": ["Magento_Catalog::catalog", "Magento_Cms::page"],
    },
    {"name": "fuzz all", "resourceAccess": "ALL"},
    {
        "name": "fuzz exchange",
        "resourceAccess": "ALL",
        "callbackUrl": "http://127.0.0.1:9/callback",
        "identityLinkUrl": "http://127.0.0.1:9/identity",
    },
    {"name": "fuzz active", "resourceAccess": "CUSTOM", "resources": ["Magento_Sales::sales"]},
)


def seed_integrations(admin: SyncGraphQLClient, password: str) -> list[str]:
    """Create the seed integrations (activating the last one) as ``admin``, whose password is ``password``;
    their global ids."""
    ids = []
    for fields in SEED_INTEGRATIONS:
        payload = admin.query(CREATE_INTEGRATION, {"input": {**fields, "currentPassword": password}})
        assert not payload["data"]["createIntegration"]["userErrors"], payload
        ids.append(payload["data"]["createIntegration"]["integration"]["id"])
    admin.query(AUTHORIZE_INTEGRATION, {"id": ids[-1], "currentPassword": password})
    return ids


def allow_guest_access(admin: SyncGraphQLClient, allow: bool = True) -> None:
    """Guests may then read catalog, CMS and store data, so their generated queries run resolvers.

    Off for callers whose leak check must cover guest fields too: while it is on they are open to everyone.
    """
    body = admin.query("mutation($a: Boolean!) { setGuestAccess(allow: $a) { userErrors { code } } }", {"a": allow})
    assert body["data"]["setGuestAccess"]["userErrors"] == [], body


#: Allow Anonymous Guest Access while each caller is fuzzed: on, so guests reach resolvers, except for the
#: narrow grant, whose leak check then covers the guest fields (catalog, CMS, stores) as well.
GUEST_ACCESS_FOR = {
    "guest": True,
    "admin": True,
    "integration": True,
    "oauth2": True,
    "narrow": False,
    "restricted": False,
}


def integration_ids(admin: SyncGraphQLClient) -> list[str]:
    body = admin.query(INTEGRATION_IDS)
    edges = ((body.get("data") or {}).get("integrations") or {}).get("edges") or []
    return [edge["node"]["id"] for edge in edges]


#: The callers ``make_caller`` knows.
CALLERS = ("guest", "admin", "integration", "oauth2", "narrow", "restricted")

#: The Custom grant the fuzzed integration holds: some store data, not customers, config or integrations.
FUZZ_GRANT = ["Magento_Catalog::catalog", "Magento_Cms::page", "Magento_Sales::sales"]
#: The narrow grant whose every answer is checked for data of resources it does not hold.
NARROW_GRANT = ["Magento_Catalog::products"]
#: The role of the restricted admin, whose every answer is checked too: sales, products and integration
#: management (so the escalation guard is exercised), not customers, users, roles or settings.
RESTRICTED_ROLE = ["Magento_Sales::sales", "Magento_Catalog::products", "Magento_Integration::integrations"]


def integration_oauth(
    admin: SyncGraphQLClient, password: str, name: str = "fuzz signer", grant: list[str] = FUZZ_GRANT
) -> Any:
    """An integration with a Custom grant, activated manually by ``admin`` (whose password is ``password``):
    an OAuth 1.0a signer for its requests."""
    fields = {"name": name, "resourceAccess": "CUSTOM", "resources": grant, "currentPassword": password}
    created = admin.query(CREATE_INTEGRATION, {"input": fields})["data"]["createIntegration"]
    assert not created["userErrors"], created
    authorized = admin.query(AUTHORIZE_INTEGRATION, {"id": created["integration"]["id"], "currentPassword": password})
    return signer(authorized["data"]["authorizeIntegration"]["credentials"])


def integration_oauth2(
    admin: SyncGraphQLClient, password: str, name: str = "fuzz bearer", grant: list[str] = FUZZ_GRANT
) -> Callable[[], dict[str, str]]:
    """An OAuth 2.0-only integration with a Custom grant, activated by ``admin``: a function that obtains a
    fresh bearer token at ``/oauth2/token`` (client credentials, HTTP Basic) and answers its headers."""
    fields = {
        "name": name,
        "resourceAccess": "CUSTOM",
        "resources": grant,
        "authMethods": ["OAUTH2_CLIENT_CREDENTIALS"],
        "currentPassword": password,
    }
    created = admin.query(CREATE_INTEGRATION, {"input": fields})["data"]["createIntegration"]
    assert not created["userErrors"], created
    authorized = admin.query(AUTHORIZE_INTEGRATION, {"id": created["integration"]["id"], "currentPassword": password})
    credentials = authorized["data"]["authorizeIntegration"]["credentials"]

    def bearer() -> dict[str, str]:
        response = httpx.post(
            f"{admin.base_url}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(credentials["consumerKey"], credentials["consumerSecret"]),
            timeout=admin.timeout,
        )
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return bearer


def make_caller(name: str, admin: SyncGraphQLClient, admin_login: tuple[str, str]) -> Caller:
    """A caller by name; the admin signs in again whenever the fuzzer revoked its token."""
    if name == "guest":
        return Caller("guest")
    if name == "admin":

        def sign() -> dict[str, str]:
            return {"Authorization": f"Bearer {admin.with_token(None).sign_in(*admin_login).token}"}

        return Caller("admin", {"Authorization": f"Bearer {admin.token}"}, renew=sign, password=admin_login[1])
    if name == "integration":
        return Caller("integration", auth=integration_oauth(admin, admin_login[1]))
    if name == "oauth2":
        bearer = integration_oauth2(admin, admin_login[1])
        return Caller("oauth2", bearer(), renew=bearer)
    if name == "narrow":
        from auth.acl import TREE

        held, _partial = TREE.expand_selection(NARROW_GRANT)
        signer = integration_oauth(admin, admin_login[1], "fuzz narrow", NARROW_GRANT)
        return Caller("narrow", auth=signer, leak_check=leaks.for_grant(held, guest_access=GUEST_ACCESS_FOR[name]))
    if name == "restricted":
        from auth.acl import TREE
        from tests.support.admin_users import USER_PASSWORD, restricted_admin_on_server

        username = f"fuzz-restricted-{secrets.token_hex(4)}"
        restricted = restricted_admin_on_server(
            admin, *RESTRICTED_ROLE, username=username, current_password=admin_login[1]
        )

        def sign_restricted() -> dict[str, str]:
            return {"Authorization": f"Bearer {restricted.with_token(None).sign_in(username, USER_PASSWORD).token}"}

        held, _partial = TREE.expand_selection(RESTRICTED_ROLE)
        check = leaks.for_grant(held, admin=True, guest_access=GUEST_ACCESS_FOR[name])
        headers = {"Authorization": f"Bearer {restricted.token}"}
        return Caller("restricted", headers, renew=sign_restricted, password=USER_PASSWORD, leak_check=check)
    raise ValueError(f"unknown caller {name!r}; known: {', '.join(CALLERS)}")


def _budgets(labels: list[str], total: int) -> dict[str, int]:
    weights = {label: SLOW_OPERATIONS.get(label, 1.0) for label in labels}
    scale = total / sum(weights.values())
    return {label: max(1, round(weight * scale)) for label, weight in weights.items()}


#: An ``id:`` argument written inline, as the generator writes them.
_ID_LITERAL = re.compile(r'(\bid\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d+)')


#: URL arguments the server may fetch (the activation callback) or send a browser to. Generated values are
#: replaced by these, so the server under test never reaches for a host beyond loopback (nothing listens
#: on port 9, and loopback callbacks are refused anyway unless ALLOW_PRIVATE_CALLBACKS=1).
SAFE_URLS = (
    "http://127.0.0.1:9/callback",
    "https://127.0.0.1:9/identity?x=1#y",
    "http://localhost:9/",
    "http://[::1]:9/",
    "http://user:pw@127.0.0.1:9/",
    "ftp://127.0.0.1:9/",
    "javascript:alert(1)",
    "not a url",
    "",
)
_URL_ARGUMENT = re.compile(r'(\b(?:callbackUrl|identityLinkUrl|endpoint)\s*:\s*)("""(?:.|\n)*?"""|"(?:[^"\\]|\\.)*")')
_ANY_URL_ARGUMENT = re.compile(r"\b(?:callbackUrl|identityLinkUrl|endpoint)\s*:\s*")
_SAFE_VALUES = {json.dumps(url) for url in SAFE_URLS}


def only_loopback_urls(document: str, rng: random.Random) -> str | None:
    """``document`` with every URL argument replaced by a loopback one, or None if one cannot be replaced."""
    document = _URL_ARGUMENT.sub(lambda m: m.group(1) + json.dumps(rng.choice(SAFE_URLS)), document)
    for match in _ANY_URL_ARGUMENT.finditer(document):
        at = match.end()
        if not any(document.startswith(allowed, at) for allowed in ("null", "$", *_SAFE_VALUES)):
            return None
    return document


_PASSWORD_ARGUMENT = re.compile(r'(\bcurrentPassword\s*:\s*)("""(?:.|\n)*?"""|"(?:[^"\\]|\\.)*")')


def own_password(document: str, password: str) -> str:
    """``document`` with every ``currentPassword`` string argument replaced by the caller's password.

    So generated writes get past Your Password and reach their resolvers. Generated wrong passwords would
    also count toward the fuzzing admin's lock-out, which then signs it out for good; the wrong-password
    path has tests of its own (``tests/test_your_password.py``). A missing or null password stays as it is.
    """
    return _PASSWORD_ARGUMENT.sub(lambda m: m.group(1) + json.dumps(password), document)


class KnownIds:
    """IDs of objects that exist, so that generated operations reach real objects, not only "not found"."""

    def __init__(self, fetch: Callable[[], list[str]], refresh_every: int = 25) -> None:
        self._fetch = fetch
        self._refresh_every = refresh_every
        self._uses = 0
        self._ids: list[str] = []

    def pick(self, rng: random.Random) -> str | None:
        if self._uses % self._refresh_every == 0:
            self._ids = self._fetch()
        self._uses += 1
        return rng.choice(self._ids) if self._ids else None

    def rewrite(self, document: str, rng: random.Random) -> str:
        """Point about half of the ``id:`` arguments at existing objects (global ids of integrations, or
        small Int ids of store rows)."""

        def replace(match: re.Match[str]) -> str:
            if rng.random() < 0.5:
                return match.group(0)
            if not match.group(2).startswith('"'):  # an Int id (store rows): one of the first few rows
                return f"{match.group(1)}{rng.randint(1, 40)}"
            known = self.pick(rng)
            return match.group(1) + json.dumps(known) if known else match.group(0)

        return _ID_LITERAL.sub(replace, document)


def fuzz_graphql(
    graphql_url: str,
    caller: Caller,
    total: int,
    *,
    seed: int | None = None,
    negative_share: float = 0.3,
    max_rounds: int = 5,
    known_ids: KnownIds | None = None,
) -> FuzzReport:
    """At least ``total`` generated operations (spread over the root fields the caller can see in the
    schema, positive and negative inputs), each checked against the bar."""
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode

    schema = schemathesis.graphql.from_url(graphql_url, headers=caller.headers, auth=caller.auth)
    operations = {result.ok().label: result.ok() for result in schema.get_all_operations()}
    report = FuzzReport()
    session = requests.Session()
    session.auth = caller.auth
    rng = random.Random(seed)

    def run(operation: Any, mode: Any, examples: int) -> None:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
            print_blob=False,
        )
        @hypothesis_seed(rng.randrange(1 << 32))
        def case_runs(case: Any) -> None:
            if not isinstance(case.body, str):  # the generated document
                return
            document = only_loopback_urls(case.body, rng)
            if document is None:
                report.skipped += 1
                return
            if known_ids is not None:
                document = known_ids.rewrite(document, rng)
            if caller.password is not None:
                document = own_password(document, caller.password)
            if caller.leak_check is not None:
                document = caller.leak_check.prepare(document) or document
            case.body = document
            response = case.call(session=session, headers=caller.headers, timeout=30)
            if response.status_code == 401 and caller.renew():
                response = case.call(session=session, headers=caller.headers, timeout=30)
            request = json.dumps(case.body)[:500] if case.body is not None else operation.label
            label = f"{caller.name} {operation.label}"
            judge(report, label, response.status_code, response.text, request)
            if caller.leak_check is not None:
                check_leaks(report, caller.leak_check, label, document, response.text, request)

        case_runs()

    for _round in range(max_rounds):
        missing = total - report.operations
        if missing <= 0:
            break
        for label, examples in _budgets(list(operations), missing).items():
            negative = int(examples * negative_share)
            run(operations[label], GenerationMode.POSITIVE, max(1, examples - negative))
            if negative:
                run(operations[label], GenerationMode.NEGATIVE, negative)
    return report


# ------------------------------------------------------------------------------- malformed HTTP


@dataclasses.dataclass(frozen=True)
class Probe:
    """One raw HTTP request."""

    label: str
    method: str
    path: str
    headers: tuple[tuple[str, bytes], ...] = ()
    body: bytes = b""
    #: For the named corpus: the request is malformed, so only a 4xx is right (random probes may get 200).
    expect_4xx: bool = False

    def describe(self) -> str:
        headers = {k: v[:80] for k, v in self.headers}
        return f"{self.method} {self.path[:120]} headers={headers} body={self.body[:120]!r} ({len(self.body)} bytes)"


JSON = (("content-type", b"application/json"),)
FORM = (("content-type", b"application/x-www-form-urlencoded"),)
QUERY = b'{"query": "{ viewer { kind } }"}'

#: Broken ``Authorization`` headers (sent as raw bytes).
BROKEN_AUTHORIZATION: tuple[bytes, ...] = (
    b"OAuth",
    b"OAuth ",
    b"OAuth garbage",
    b"OAuth ,,,,",
    b"OAuth ===",
    b'OAuth oauth_consumer_key="',
    b'OAuth oauth_consumer_key="abc',
    b'OAuth oauth_consumer_key="abc", oauth_signature="',
    b'OAuth realm="x", oauth_consumer_key=abc, oauth_nonce="n", oauth_signature_method="HMAC-SHA256"',
    b'OAuth oauth_consumer_key="\xe9\xff\xfe", oauth_token="\xc3\x28"',
    b'OAuth oauth_consumer_key="%zz%", oauth_signature="%E0%A4%A"',
    b'OAuth oauth_timestamp="99999999999999999999", oauth_nonce="x", oauth_consumer_key="a"',
    b'OAuth oauth_consumer_key="a", oauth_consumer_key="b"',
    b'OAuth oauth_version="2.0", oauth_signature_method="PLAINTEXT", oauth_signature="&"',
    b"OAuth " + b"a=" * 2000,
    b"Bearer",
    b"Bearer ",
    b"Bearer a b",
    b"Bearer  spaced  token",
    b"Bearer \xff\xfe\xe9",
    b"Bearer " + b"x" * 8000,
    b"bearer lowercase",
    b"Basic Zm9vOmJhcg==",
    b"Digest username=x",
    b"\xe9\xff",
    b"NoSpace",
)


def named_probes(max_body_bytes: int = 1 << 20) -> list[Probe]:
    """The malformed requests the issue names, for every path: each must get a clean 4xx."""
    bodies: list[tuple[str, tuple[tuple[str, bytes], ...], bytes]] = [
        ("bad JSON", JSON, b"{"),
        ("truncated JSON", JSON, b'{"query": "{ viewer'),
        ("invalid UTF-8 in JSON", JSON, b'{"query": "{ viewer { kind } }\xff\xfe"}'),
        ("UTF-16 BOM", JSON, b"\xff\xfe{\x00}\x00"),
        ("JSON null", JSON, b"null"),
        ("JSON string", JSON, b'"{ viewer { kind } }"'),
        ("JSON number", JSON, b"12"),
        ("deep JSON nesting", JSON, b"[" * 100_000),
        ("deep JSON object nesting", JSON, b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("batch array", JSON, b"[" + b",".join([QUERY] * 3) + b"]"),
        ("empty batch", JSON, b"[]"),
        ("batch of junk", JSON, b'[1, null, "x"]'),
        ("null query", JSON, b'{"query": null}'),
        ("numeric query", JSON, b'{"query": 5}'),
        ("list query", JSON, b'{"query": ["{ viewer { kind } }"]}'),
        ("variables not an object", JSON, b'{"query": "{ viewer { kind } }", "variables": [1]}'),
        ("extensions not an object", JSON, b'{"query": "{ viewer { kind } }", "extensions": "x"}'),
        ("empty body", JSON, b""),
        ("wrong content type", (("content-type", b"text/plain"),), QUERY),
        ("XML content type", (("content-type", b"application/xml"),), b"<query/>"),
        ("no content type", (), QUERY),
        ("broken content type", (("content-type", b";;;===\xff"),), QUERY),
        ("multipart without boundary", (("content-type", b"multipart/form-data"),), b"garbage"),
        (
            "multipart garbage",
            (("content-type", b"multipart/form-data; boundary=xx"),),
            b'--xx\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{',
        ),
        ("form with invalid UTF-8", FORM, b"\xff\xfe=%%%&oauth_token=\xe9"),
        ("form with broken escapes", FORM, b"oauth_verifier=%E0%A4%A&oauth_token=%zz"),
        ("random bytes", JSON, bytes(range(256)) * 4),
        ("huge body", JSON, b'{"query": "' + b"x" * (max_body_bytes + 10) + b'"}'),
    ]
    probes = [
        Probe(f"{label} -> {path}", "POST", path, headers, body, expect_4xx=True)
        for path in PATHS
        for label, headers, body in bodies
    ]
    for path in PATHS:
        for value in BROKEN_AUTHORIZATION:
            probes.append(
                Probe(
                    f"Authorization {value[:24]!r} -> {path}",
                    "POST",
                    path,
                    (*JSON, ("authorization", value)) if path == "/graphql" else (*FORM, ("authorization", value)),
                    QUERY if path == "/graphql" else b"",
                    expect_4xx=True,
                )
            )
    for path in PATHS:
        for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
            probes.append(Probe(f"{method} -> {path}", method, path, JSON, QUERY, expect_4xx=True))
        probes.append(Probe(f"GET -> {path} with a body", "GET", path, JSON, QUERY * 100))
    probes.append(Probe("GET with a bad query string", "GET", "/graphql?%%%&&==&query", expect_4xx=True))
    for query in (
        "variables=notjson&query=%7Bviewer%7Bkind%7D%7D",
        "variables=%5B1%5D&query=%7Bviewer%7Bkind%7D%7D",
        "variables=" + "%5B" * 10_000 + "&query=%7Bviewer%7Bkind%7D%7D",
        "extensions=1&query=%7Bviewer%7Bkind%7D%7D",
        "query=mutation%7BrevokeAdminToken%7BuserErrors%7Bcode%7D%7D%7D",
        "variables=%FF%FE&query=%7Bviewer%7Bkind%7D%7D",
        "variables=%7B%7D&query=",
    ):
        probes.append(Probe(f"GET ?{query[:40]}", "GET", f"/graphql?{query}", expect_4xx=True))
    return probes


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 2**63, 1e308, rng.randrange(-(10**6), 10**6)])
    if kind in (3, 4):
        return _random_text(rng, 40)
    if kind == 5:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["query", "variables", "operationName", "extensions", "id", "oauth_token", _random_text(rng, 8)]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


_ALPHABET = "abcdefghijklmnopqrstuvwxyz{}()[]:$!@#\"'\\ ,=&%\n\t\u00e9\u4e2d\U0001f600\x00"
_DOCUMENT_PARTS = (
    "{",
    "}",
    "query",
    "mutation",
    "subscription",
    "viewer",
    "kind",
    "config",
    "oauth",
    "resourceTree",
    "children",
    "... on",
    "fragment F on Query",
    "...F",
    "@skip(if: true)",
    "@include(if: $x)",
    "__typename",
    "__schema { types { name } }",
    "(first: -1)",
    "($x: Boolean!)",
    "setGuestAccess(allow: true) { userErrors { code } }",
    'generateAdminToken(username: "admin", password: "x") { token }',
    'requiredResources(query: "{ viewer { kind } }")',
    'integration(id: "\\u0000")',
    "integrations(first: 1000000)",
    "a: viewer { kind }",
)


def _random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(length + 1)))


def _random_document(rng: random.Random) -> str:
    return " ".join(rng.choice(_DOCUMENT_PARTS) for _ in range(rng.randrange(1, 25)))


def random_probes(rng: random.Random, count: int) -> Iterator[Probe]:
    """Random mixes of path, content type, Authorization header, query string and body."""
    content_types = [
        b"application/json",
        b"application/json; charset=latin-1",
        b"application/x-www-form-urlencoded",
        b"text/plain",
        b"multipart/form-data; boundary=b",
        b"application/graphql",
        b"",
    ]
    for index in range(count):
        path = rng.choice(PATHS)
        method = rng.choice(["POST", "POST", "POST", "GET"])
        kind = rng.randrange(7)
        if kind == 0:
            body = rng.randbytes(rng.randrange(1, 512))
        elif kind == 1:
            body = json.dumps(_random_json(rng)).encode()
        elif kind == 2:
            body = json.dumps({"query": _random_document(rng), "variables": _random_json(rng)}).encode()
        elif kind == 3:
            body = json.dumps({"query": _random_document(rng)}).encode()[:-2] + rng.randbytes(3)
        elif kind == 4:
            body = "&".join(
                f"{rng.choice(['oauth_token', 'oauth_verifier', 'oauth_consumer_key', 'query', 'x'])}="
                f"{_random_text(rng, 20)}"
                for _ in range(rng.randrange(5))
            ).encode("utf-8", "surrogatepass")
        elif kind == 5:
            body = json.dumps([{"query": _random_document(rng)} for _ in range(rng.randrange(5))]).encode()
        else:
            body = b""
        headers: list[tuple[str, bytes]] = []
        content_type = rng.choice(content_types)
        if content_type:
            headers.append(("content-type", content_type))
        if rng.random() < 0.5:
            headers.append(("authorization", rng.choice(BROKEN_AUTHORIZATION)))
        target = path
        if method == "GET":
            params = {"query": _random_document(rng)}
            if rng.random() < 0.5:
                params["variables"] = rng.choice(["{", "null", "[]", '{"x": 1}', _random_text(rng, 10)])
            if rng.random() < 0.3:
                params["operationName"] = _random_text(rng, 10)
            target = f"{path}?{httpx.QueryParams(params)}"
            body = b""
        yield Probe(f"random #{index}", method, target, tuple(headers), body)


def raw_request(
    base_url: str, method: str, target: str, headers: tuple[tuple[str, bytes], ...], body: bytes, timeout: float = 30.0
) -> tuple[int, bytes]:
    """One HTTP/1.1 request written byte for byte (HTTP clients refuse to send some of these headers)."""
    url = httpx.URL(base_url)
    lines = [f"{method} {target} HTTP/1.1".encode(), f"Host: {url.host}:{url.port}".encode(), b"Connection: close"]
    lines += [name.encode() + b": " + value for name, value in headers]
    if method != "GET" or body:
        lines.append(f"Content-Length: {len(body)}".encode())
    with socket.create_connection((url.host, url.port), timeout=timeout) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n")
        view, sent = memoryview(body), 0
        while sent < len(body):  # stop sending as soon as the server answers (a 413 before the end, say)
            readable, writable, _ = select.select([sock], [sock], [], timeout)
            if readable:
                break
            if writable:
                try:
                    sent += sock.send(view[sent : sent + 65536])
                except OSError:
                    break
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    raw = b"".join(chunks)
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    status = int(status_line.split()[1])
    if any(line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower() for line in header_lines):
        payload = _dechunk(payload)
    return status, payload


def _dechunk(payload: bytes) -> bytes:
    out = []
    while payload:
        size_line, _, rest = payload.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        payload = rest[size + 2 :]
    return b"".join(out)


def send_probes(base_url: str, probes: list[Probe] | Iterator[Probe], *, timeout: float = 30.0) -> FuzzReport:
    """Send each probe on its own connection and judge the answer (a 4xx where the probe demands it)."""
    report = FuzzReport()
    for probe in probes:
        try:
            status, payload = raw_request(base_url, probe.method, probe.path, probe.headers, probe.body, timeout)
        except (OSError, ValueError, IndexError) as exc:
            report.operations += 1
            report.problems.append(Problem(f"no HTTP answer to {probe.label}", 0, probe.describe(), repr(exc)))
            continue
        text = payload.decode("utf-8", "replace")
        judge(report, probe.label.split(" #")[0], status, text, probe.describe())
        if probe.expect_4xx and not 400 <= status < 500 and status < 500:
            report.problems.append(Problem(f"expected a 4xx for {probe.label}", status, probe.describe(), text))
    return report
