"""Cost limits and throttling of GraphQL operations, decided after access control and before execution.

Each operation's cost comes from the cached analysis of its document (``auth.cost``, evaluated with the
request's variables). A document costlier than ``maxQueryCost`` (or than the caller's whole bucket) is refused
with ``MAX_COST_EXCEEDED``. While throttling is on, the cost is taken from the caller's leaky bucket
(``auth.buckets``): one per integration (whatever way it authenticates), one per admin user (shared by its
tokens) and one per guest client address (the one ``auth.proxy`` settled on); a request its bucket cannot pay
for is refused with ``THROTTLED`` (HTTP 429 with ``Retry-After``). Every executed or refused operation
reports ``extensions.cost`` in Shopify's shape, and ``rateLimit`` reads the same report.

Points are taken before execution and never given back: ``actualQueryCost`` is what was taken (the requested
cost, or 0 for a refused request).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from graphql import ExecutionResult
from strawberry.types import ExecutionContext

from auth.buckets import Bucket, BucketStore
from auth.clock import clock
from auth.config import ConfigSnapshot
from auth.enforcement import DocumentAccess
from auth.principal import Principal, PrincipalKind
from auth.throttle import client_address
from errors import ErrorCode, graphql_error
from models.sql import fetch_one


@dataclasses.dataclass(frozen=True, slots=True)
class CostReport:
    """What one operation cost and what the caller's bucket holds afterwards."""

    requested: int
    #: Points charged: the requested cost when the operation ran (taken from the bucket while throttling is on),
    #: 0 when it was refused.
    actual: int
    bucket: Bucket
    available: float
    #: When the bucket was read (``auth.clock`` time).
    at: float

    @property
    def remaining(self) -> int:
        return max(0, math.floor(self.available))

    @property
    def reset_at(self) -> dt.datetime:
        """When the bucket is full again, if nothing more is taken."""
        seconds = max(0.0, self.bucket.size - self.available) / self.bucket.rate
        return dt.datetime.fromtimestamp(self.at + seconds, tz=dt.UTC)

    def extension(self) -> dict[str, Any]:
        """``extensions.cost``, in Shopify's shape."""
        return {
            "requestedQueryCost": self.requested,
            "actualQueryCost": self.actual,
            "throttleStatus": {
                "maximumAvailable": self.bucket.size,
                "currentlyAvailable": self.remaining,
                "restoreRate": self.bucket.rate,
            },
        }


_OVERRIDE_SQL = "SELECT rate_limit_bucket_size, rate_limit_restore_rate FROM integration WHERE id = ?"


async def integration_override(principal: Principal) -> tuple[int | None, int | None]:
    """The integration's own bucket size and restore rate (None: the store's), read with its credentials when
    the authenticator did (``Principal.bucket_override``), else by its id."""
    if principal.bucket_override is not None:
        return principal.bucket_override
    row = await fetch_one(_OVERRIDE_SQL, principal.integration_id)
    if row is None:
        return None, None
    return row["rate_limit_bucket_size"], row["rate_limit_restore_rate"]


async def bucket_of(principal: Principal, scope: Any, config: ConfigSnapshot) -> Bucket:
    """The caller's bucket: its integration's, its admin user's, or its client address's as a guest."""
    if principal.kind is PrincipalKind.INTEGRATION and principal.integration_id is not None:
        size, rate = await integration_override(principal)
        return Bucket(
            f"integration:{principal.integration_id}",
            size or config.integration_bucket_size,
            rate or config.integration_restore_rate,
        )
    if principal.kind is PrincipalKind.ADMIN and principal.admin_id is not None:
        return Bucket(f"admin:{principal.admin_id}", config.admin_bucket_size, config.admin_restore_rate)
    return Bucket(f"guest:{client_address(scope)}", config.guest_bucket_size, config.guest_restore_rate)


def cost_exceeded(cost: int, maximum: int) -> Any:
    return graphql_error(
        f"The query's cost is {cost} points, more than the maximum of {maximum}: ask for fewer items per page "
        "or fewer fields.",
        ErrorCode.MAX_COST_EXCEEDED,
        cost=cost,
        maxCost=maximum,
    )


def throttled(cost: int, report: CostReport) -> Any:
    retry_after = max(1, math.ceil((cost - report.available) / report.bucket.rate))
    return graphql_error(
        f"Throttled: this query costs {cost} points and {report.remaining} are available; "
        f"{report.bucket.rate} points come back per second. Retry in {retry_after} s.",
        ErrorCode.THROTTLED,
        retryAfter=retry_after,
        cost=cost,
    )


async def charge(execution: ExecutionContext, access: DocumentAccess) -> None:
    """Refuse an operation that costs too much or that the caller's bucket cannot pay for, before it runs, and
    record its ``CostReport`` for ``extensions.cost`` (``auth.control`` calls it after access control: a denied
    mutation takes nothing). ``access`` is the document's cached analysis, which carries its cost."""
    context = execution.context
    store: BucketStore | None = getattr(context, "buckets", None)
    if store is None:
        return
    cost = access.cost.evaluate(execution.variables)
    config: ConfigSnapshot = await context.config()
    bucket = await bucket_of(context.principal, context.request.scope, config)
    on = config.throttling_enabled
    maximum = min(config.max_query_cost, bucket.size) if on else config.max_query_cost
    refused = execution.result is not None  # denied by access control
    if not refused and cost > maximum:
        execution.result = ExecutionResult(data=None, errors=[cost_exceeded(cost, maximum)])
        refused = True
    if not on:
        context.cost = CostReport(cost, 0 if refused else cost, bucket, bucket.size, clock.time())
        return
    taken = await store.take(bucket, 0 if refused else cost)
    context.cost = CostReport(cost, 0 if refused else cost, bucket, taken.available, taken.at)
    if not taken.allowed:
        context.cost = dataclasses.replace(context.cost, actual=0)
        execution.result = ExecutionResult(data=None, errors=[throttled(cost, context.cost)])


def cost_extension(execution: ExecutionContext) -> dict[str, Any]:
    """The response's ``extensions``: ``cost`` when the operation was charged."""
    report: CostReport | None = getattr(execution.context, "cost", None)
    return {"cost": report.extension()} if report is not None else {}
