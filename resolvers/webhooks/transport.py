"""How is a delivery sent? One POST through the same SSRF guard as activation callbacks.

A target URL is typed in by an admin and called by the server, so it gets what callback URLs get
(``resolvers.integrations.callback``): every address its host resolves to is checked (link-local and
cloud-metadata never, loopback and private ones only when ``privateCallbackAllowList`` or
``ALLOW_PRIVATE_CALLBACKS`` allows them), and the connection goes to the checked address. Redirects are not
followed: only a 2xx answer counts as delivered (a 3xx is a failure, as the Standard Webhooks specification
says). One deadline covers resolving, connecting, sending and the answer's headers; the answer's body is
never read. What went wrong is said in words for the delivery log, never with the payload.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ssl
import time

import httpx

from resolvers.integrations.callback import OutboundError, PrivateAllowList, resolve

USER_AGENT = "integrations-graphql/webhooks"

#: What the delivery log says for each of the guard's refusals (``OutboundError.kind``).
GUARD_REFUSALS = {
    "unreachable": "The target host is a cloud-metadata service, which webhooks never reach.",
    "invalid_url": "The target URL must be an http:// or https:// URL with a host, without a user name or password.",
    "unresolvable": "The target host could not be resolved.",
    "forbidden_address": "The target host is, or resolves to, a link-local, cloud-metadata or reserved address, "
    "which webhooks never reach.",
    "private_address": "The target host resolves to a private or loopback address: webhooks go there only when the "
    "host or its network is in Stores > Configuration > OAuth > Private callback allow-list "
    "(privateCallbackAllowList), or the server runs with ALLOW_PRIVATE_CALLBACKS=1.",
}


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got: the HTTP status (None: no answer) and the time it took, or what went wrong."""

    status: int | None
    latency_ms: int
    error: str | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@functools.cache
def _tls() -> ssl.SSLContext:
    """The TLS settings of every delivery, made once: building them (loading the CA bundle) takes longer than a
    delivery on loopback, and a new client for each delivery would do it each time."""
    return httpx.create_ssl_context()


def _describe(error: Exception, timeout: float) -> str:
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return f"No answer within {timeout:g} s (the delivery timeout)."
    if isinstance(error, httpx.ConnectError):
        return "The connection was refused or could not be made."
    if isinstance(error, httpx.RemoteProtocolError):
        return "The target did not answer with a valid HTTP response."
    return f"The target could not be reached ({type(error).__name__})."


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout_seconds: float,
    allow_private: bool,
    allow_list: PrivateAllowList,
) -> Answer:
    """POST ``body`` (JSON) to ``url`` with ``headers``; never raises for what the target or the network does."""
    started = time.perf_counter()

    def took() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(timeout_seconds):
            target = await resolve(url, allow_private=allow_private, allow_list=allow_list)
            async with httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # an environment proxy would bypass the address checks
                timeout=httpx.Timeout(timeout_seconds),
                verify=_tls(),
            ) as client:
                request = client.build_request(
                    "POST",
                    target.pinned_url,
                    content=body,
                    headers={
                        **headers,
                        "Host": target.host_header,
                        "Content-Type": "application/json",
                        "User-Agent": USER_AGENT,
                    },
                    extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
                )
                response = await client.send(request, stream=True)
                await response.aclose()
    except OutboundError as refused:
        return Answer(None, took(), GUARD_REFUSALS.get(refused.kind, "The target URL was refused."))
    except (httpx.HTTPError, OSError, TimeoutError) as error:
        return Answer(None, took(), _describe(error, timeout_seconds))
    status = response.status_code
    if 200 <= status < 300:
        return Answer(status, took())
    return Answer(status, took(), f"The target answered HTTP {status}; only 2xx counts as delivered.")
