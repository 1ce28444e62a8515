"""What did an integration do? Its last use, its calls per resource and per day, as ``auth.activity`` counted them.

Every read is one query for all the integrations a request shows (a DataLoader per kind, through the request's
registry), so the integrations grid with its "Last used" column costs one more statement per page, whatever
its size. Totals, resources and days cover the kept period (the store setting ``activity_retention_days``,
today included); the last use is kept however old it is. Days are UTC.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from auth.activity import REQUESTS
from auth.activity_flush import today
from errors import bad_user_input
from models.sql import fetch_all, placeholders
from models.values import as_date, as_datetime
from resolvers.loaders import get_loader

if TYPE_CHECKING:
    from schema.context import Context

#: GraphQL's Int is 32 bits: a count beyond it is shown as this.
MAX_COUNT = 2**31 - 1


def days_problem(days: int, retention_days: int) -> str | None:
    """Why ``days`` is not a period activity can answer for (None when it is)."""
    if 1 <= days <= retention_days:
        return None
    return f"days must be from 1 to {retention_days} (the days of activity kept: activityRetentionDays)."


def period_start(days: int) -> dt.date:
    """The first day of the last ``days`` days, today (UTC) included."""
    return today() - dt.timedelta(days=days - 1)


def count(value: Any) -> int:
    """A stored count (a Decimal from PostgreSQL's SUM), capped to GraphQL's Int."""
    return min(int(value or 0), MAX_COUNT)


@dataclasses.dataclass(frozen=True)
class LastUse:
    at: dt.datetime | None = None
    client: str | None = None


@dataclasses.dataclass(frozen=True)
class Totals:
    calls: int = 0
    denied: int = 0


@dataclasses.dataclass(frozen=True)
class ResourceUse:
    resource: str
    calls: int
    denied: int
    last_used_at: dt.datetime | None


@dataclasses.dataclass(frozen=True)
class Day:
    date: dt.date
    calls: int
    denied: int


_LAST_USE_SQL = (
    "SELECT a.integration_id, a.last_used_at, a.last_used_from FROM integration_activity a "
    "WHERE a.resource = ? AND a.integration_id IN ({ids}) AND a.day = (SELECT MAX(b.day) FROM integration_activity b "
    "WHERE b.integration_id = a.integration_id AND b.resource = a.resource)"
)
_TOTALS_SQL = (
    "SELECT integration_id, SUM(calls) AS calls, SUM(denied) AS denied FROM integration_activity "
    "WHERE resource = ? AND day >= ? AND integration_id IN ({ids}) GROUP BY integration_id"
)
_BY_RESOURCE_SQL = (
    "SELECT integration_id, resource, SUM(calls) AS calls, SUM(denied) AS denied, MAX(last_used_at) AS last_used_at "
    "FROM integration_activity WHERE resource <> ? AND day >= ? AND integration_id IN ({ids}) "
    "GROUP BY integration_id, resource ORDER BY resource"
)
_DAILY_SQL = (
    "SELECT integration_id, day, calls, denied FROM integration_activity "
    "WHERE resource = ? AND day >= ? AND integration_id IN ({ids})"
)
_USED_SQL = (
    "SELECT DISTINCT integration_id, resource FROM integration_activity "
    "WHERE resource <> ? AND calls > 0 AND day >= ? AND integration_id IN ({ids})"
)


async def _rows(sql: str, ids: Sequence[int], *before: Any) -> list[dict[str, Any]]:
    """``sql`` with its ``{ids}`` list filled in, run with the ``before`` parameters, then ``ids``."""
    return await fetch_all(sql.format(ids=placeholders(len(ids))), *before, *ids)


async def _last_uses(ids: list[int]) -> list[LastUse]:
    found = {
        row["integration_id"]: LastUse(as_datetime(row["last_used_at"]), row["last_used_from"])
        for row in await _rows(_LAST_USE_SQL, ids, REQUESTS)
        if row["last_used_at"] is not None
    }
    return [found.get(i, LastUse()) for i in ids]


async def _totals(start: dt.date, ids: list[int]) -> list[Totals]:
    rows = await _rows(_TOTALS_SQL, ids, REQUESTS, start)
    found = {row["integration_id"]: Totals(count(row["calls"]), count(row["denied"])) for row in rows}
    return [found.get(i, Totals()) for i in ids]


async def _by_resource(start: dt.date, ids: list[int]) -> list[list[ResourceUse]]:
    found: dict[int, list[ResourceUse]] = defaultdict(list)
    for row in await _rows(_BY_RESOURCE_SQL, ids, REQUESTS, start):
        last = as_datetime(row["last_used_at"]) if row["last_used_at"] is not None else None
        found[row["integration_id"]].append(
            ResourceUse(row["resource"], count(row["calls"]), count(row["denied"]), last)
        )
    return [found.get(i, []) for i in ids]


async def _daily(keys: list[tuple[int, int]]) -> list[list[Day]]:
    """For each (integration id, days): every day of the period, oldest first, zero where nothing was counted."""
    answers: dict[tuple[int, int], list[Day]] = {}
    for days, ids in _by_days(keys).items():
        start = period_start(days)
        stored: dict[tuple[int, dt.date], Day] = {}
        for row in await _rows(_DAILY_SQL, ids, REQUESTS, start):
            date = as_date(row["day"])
            stored[(row["integration_id"], date)] = Day(date, count(row["calls"]), count(row["denied"]))
        for i in ids:
            dates = [start + dt.timedelta(days=n) for n in range(days)]
            answers[(i, days)] = [stored.get((i, date), Day(date, 0, 0)) for date in dates]
    return [answers[key] for key in keys]


async def _used(keys: list[tuple[int, int]]) -> list[frozenset[str]]:
    """For each (integration id, days): the resources with an allowed call in the period."""
    answers: dict[tuple[int, int], set[str]] = defaultdict(set)
    for days, ids in _by_days(keys).items():
        for row in await _rows(_USED_SQL, ids, REQUESTS, period_start(days)):
            answers[(row["integration_id"], days)].add(row["resource"])
    return [frozenset(answers.get(key, ())) for key in keys]


def _by_days(keys: list[tuple[int, int]]) -> dict[int, list[int]]:
    grouped: dict[int, list[int]] = defaultdict(list)
    for integration_id, days in dict.fromkeys(keys):
        grouped[days].append(integration_id)
    return grouped


async def _kept_start(context: Context) -> dt.date:
    return period_start((await context.config()).activity_retention_days)


def _loader(context: Context, name: str, load: Callable[[list[Any]], Awaitable[Sequence[Any]]]) -> Any:
    return get_loader(context, f"integration.activity.{name}", lambda _context: load)


async def last_use(context: Context, integration_id: int) -> LastUse:
    result: LastUse = await _loader(context, "last_use", _last_uses).load(integration_id)
    return result


async def totals(context: Context, integration_id: int) -> Totals:
    start = await _kept_start(context)
    result: Totals = await _loader(context, "totals", lambda ids: _totals(start, ids)).load(integration_id)
    return result


async def by_resource(context: Context, integration_id: int) -> list[ResourceUse]:
    start = await _kept_start(context)
    result: list[ResourceUse] = await _loader(context, "by_resource", lambda ids: _by_resource(start, ids)).load(
        integration_id
    )
    return result


async def checked_days(context: Context, days: int) -> int:
    """``days`` when activity is kept that long; else a BAD_USER_INPUT error (the field is null)."""
    problem = days_problem(days, (await context.config()).activity_retention_days)
    if problem is not None:
        raise bad_user_input(problem)
    return days


async def daily(context: Context, integration_id: int, days: int) -> list[Day]:
    key: Hashable = (integration_id, await checked_days(context, days))
    result: list[Day] = await _loader(context, "daily", _daily).load(key)
    return result


async def used_resources(context: Context, integration_id: int, days: int) -> frozenset[str]:
    """The resources the integration called with success in the last ``days`` days (``days`` already checked)."""
    result: frozenset[str] = await _loader(context, "used", _used).load((integration_id, days))
    return result
