"""What HTTP caches are told about a GraphQL GET answer: ``Cache-Control``, ``ETag``, ``Vary``, cache tags, and
when a conditional request is answered ``304 Not Modified``.

- A shareable answer for the ``GUEST`` class (``schema.caching.policy``): ``Cache-Control: public, max-age=N,
  stale-while-revalidate=M`` (the store settings ``publicMaxAge``, ``staleWhileRevalidate``), a strong ``ETag``
  (a hash of the body and its media type: the two media types are two representations), and ``xkey`` with its
  cache tags for Varnish's purge by tag.
- Every other answer: ``Cache-Control: private, no-store``.
- Always ``Vary: Authorization, Accept``: who asks decides which answer it gets, and ``Accept`` decides its media
  type (and, for errors, its status and shape).
"""

from __future__ import annotations

import hashlib

from auth.config import ConfigSnapshot
from media import GRAPHQL_RESPONSE_JSON

PRIVATE = "private, no-store"
VARY = "Authorization, Accept"
#: The header Varnish's xkey module reads the cache tags from (space-separated).
TAGS_HEADER = "xkey"


def public_cache_control(config: ConfigSnapshot) -> str:
    return (
        f"public, max-age={config.public_max_age_seconds}, "
        f"stale-while-revalidate={config.stale_while_revalidate_seconds}"
    )


def body_digest(body: bytes) -> str:
    """The part of the ``ETag`` that the body decides (computed once per cached answer)."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def entity_tag(digest: str, media_type: str) -> str:
    """A strong ``ETag`` for a body digest in one media type."""
    return f'"{digest}-g"' if media_type == GRAPHQL_RESPONSE_JSON else f'"{digest}"'


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (or is ``*``): RFC 9110's weak comparison, as it prescribes here."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
