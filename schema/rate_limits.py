"""The caller's own rate limit (GitHub's ``rateLimit`` query), from the same report as ``extensions.cost``."""

from __future__ import annotations

import datetime as dt

import strawberry

from schema.directives import public


@strawberry.type(description="Your throttling bucket after this request (see `extensions.cost` for the same figures).")
class RateLimit:
    cost: int = strawberry.field(description="What this request costs, in points.")
    limit: int = strawberry.field(description="Points your bucket holds when full.")
    remaining: int = strawberry.field(description="Points left in your bucket after this request.")
    reset_at: dt.datetime = strawberry.field(description="When your bucket is full again if you send nothing more.")
    restore_rate: int = strawberry.field(description="Points your bucket gets back per second.")


@strawberry.type
class RateLimitQuery:
    @strawberry.field(
        extensions=[public()],
        description="Your own rate limit: one bucket per integration, per admin user, per guest client address. "
        "While throttling is off nothing is taken and `remaining` equals `limit`.",
    )
    def rate_limit(self, info: strawberry.Info) -> RateLimit | None:
        report = info.context.cost
        if report is None:
            return None
        return RateLimit(
            cost=report.requested,
            limit=report.bucket.size,
            remaining=report.remaining,
            reset_at=report.reset_at,
            restore_rate=report.bucket.rate,
        )
