"""Purge by tag: after a write, tell the HTTP caches in front of the server (``CACHE_PURGE_URLS``, e.g. Varnish
with the xkey module, ``docs/caching.md``) to drop every stored answer tagged with what changed.

One ``PURGE`` request per cache, with the tags in ``xkey-purge``, sent once the write has committed and before its
answer goes back, so the writer's next read through the cache is fresh. A cache that does not answer 2xx within
``TIMEOUT`` seconds is logged and skipped: the write stands, and the cache serves its copy until ``max-age`` ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import httpx

log = logging.getLogger(__name__)

#: Seconds a purge may take per cache.
TIMEOUT = 2.0
PURGE_HEADER = "xkey-purge"


class Purger:
    """Sends purges to the configured caches (none: does nothing)."""

    def __init__(self, urls: Iterable[str]) -> None:
        self.urls = tuple(urls)

    async def purge(self, tags: Iterable[str]) -> None:
        keys = " ".join(sorted(set(tags)))
        if not self.urls or not keys:
            return
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            for url in self.urls:
                try:
                    response = await client.request("PURGE", url, headers={PURGE_HEADER: keys})
                except httpx.HTTPError as failed:
                    log.warning("cache purge at %s failed: %s", url, type(failed).__name__)
                    continue
                if not response.is_success:
                    log.warning("cache purge at %s answered %s", url, response.status_code)
