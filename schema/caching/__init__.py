"""Caching of GraphQL answers: HTTP caching for GET queries, an in-process response cache, persisted queries,
and purging HTTP caches by tag after writes (``docs/caching.md``).

- ``policy``: which answers may be cached and which callers may share one (caller classes).
- ``responses``: the in-process cache, keyed by document, operation, variables, caller class and data version.
- ``http``: ``Cache-Control``, ``ETag``, ``Vary``, ``304 Not Modified``.
- ``persisted``: Apollo's automatic persisted queries.
- ``purge``: ``PURGE`` requests with cache tags to the caches in front of the server.
- ``store``: the bounded LRU map the in-process parts keep their values in.

``schema.view.GraphQLView`` puts them together; the data version they rely on is ``models.data_version``.
"""

from __future__ import annotations

import dataclasses

from auth.enforcement import policy_of
from schema.caching.persisted import PersistedQueries
from schema.caching.policy import CachePolicy
from schema.caching.purge import Purger
from schema.caching.responses import ResponseCache
from settings import Settings


@dataclasses.dataclass(frozen=True, slots=True)
class Caching:
    """The view's caches."""

    responses: ResponseCache
    persisted: PersistedQueries
    purger: Purger


def caching_for(schema: object, settings: Settings) -> Caching:
    """The caches of a schema built with access control, sized by ``settings``."""
    policy = CachePolicy(policy_of(schema))
    return Caching(
        ResponseCache(policy, settings.response_cache_entries, settings.response_cache_bytes),
        PersistedQueries(settings.persisted_queries, settings.persisted_query_bytes),
        Purger(settings.cache_purge_urls),
    )
