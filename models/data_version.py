"""The store's data version: one number that every write to catalog, CMS or store data (and every store setting)
moves on, in the writer's own transaction.

Cached answers (``schema.caching``) are keyed by it. It is a row of ``core_config_data``, so every request reads
it with the store's settings, in the statement it already makes (``auth.config.STORE_CONFIG_COLUMN``): a write
through one worker or host is seen by every other on its next request, with no extra query and no message between
processes. The bump is one atomic statement (an upsert that adds one), so concurrent writers never lose one;
called last in a transaction, it takes the row lock after the data rows, in the same order for every writer.

The same call notes what kind of data changed (cache tags), for the view to purge from HTTP caches once the
write is done (``CHANGED``, set per request by ``schema.view``).
"""

from __future__ import annotations

import contextvars
import datetime as dt

from tortoise.backends.base.client import BaseDBAsyncClient

from models.sql import execute

#: The config path of the data version (absent: 0).
DATA_VERSION_PATH = "graphql/cache/data_version"

#: The tag every cacheable answer carries: purging it empties HTTP caches of this store's answers.
EVERYTHING = "graphql"

_BUMP = (
    "INSERT INTO core_config_data (path, value, updated_at) VALUES (?, '1', ?) ON CONFLICT (path) DO UPDATE "
    "SET value = CAST(CAST(core_config_data.value AS BIGINT) + 1 AS TEXT), updated_at = excluded.updated_at"
)

#: The tags of the data written during this request; None outside a request that collects them.
CHANGED: contextvars.ContextVar[set[str] | None] = contextvars.ContextVar("changed_data", default=None)


def data_version(stored: str | None) -> int:
    """The version as stored (None or unreadable text: 0, the version of a store never written to)."""
    try:
        return int(stored or 0)
    except ValueError:
        return 0


async def data_changed(conn: BaseDBAsyncClient | None, *tags: str) -> None:
    """Call inside the transaction of a write, as its last statement: moves the data version on and notes the
    ``tags`` of what changed (the resource ids of the data; none: ``EVERYTHING``)."""
    await execute(_BUMP, DATA_VERSION_PATH, dt.datetime.now(dt.UTC), conn=conn)
    changed = CHANGED.get()
    if changed is not None:
        changed.update(tags or (EVERYTHING,))
