"""What each integration uses: its calls per ACL resource, counted in this process's memory.

The access decision (``auth.enforcement.authorise``) already knows, once per request, which resources the
operation needs (from the cached analysis of its document) and which of them the caller lacks. For an
integration (OAuth 1.0a signed requests, OAuth 2.0 bearer tokens, access tokens used as bearers) it hands that
to ``ActivityCounter.record``: a few dictionary updates, no I/O and no await on the request's path. Admins and
guests are not counted.

What is a call: one GraphQL operation that needed the resource. An operation counts once per resource its
selected fields require, however many of its fields require it: in ``calls`` when the decision allowed the
resource, in ``denied`` when the resource was one the caller lacked (or guards a field for admins only). The
operations themselves are counted under ``REQUESTS`` (the empty resource): each once, in ``denied`` when any
field of it was denied. A request refused later for its cost or by throttling still counts: access allowed it.

Counts are kept per UTC day. ``auth.activity_flush`` adds them to the database every few seconds and at
shutdown; a process that crashes loses what it counted since its last flush.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from starlette.types import Scope

from auth.clock import clock
from auth.rules import Denial

#: The resource under which each operation is counted once (the integration's requests).
REQUESTS = ""
SECONDS_PER_DAY = 86_400

#: The longest client address stored (``integration_activity.last_used_from``): an IPv6 address is at most 45.
MAX_ADDRESS = 64

#: (integration id, resource, UTC day as days since 1970-01-01).
Key = tuple[int, str, int]


@dataclasses.dataclass(slots=True)
class Tally:
    """One integration's calls of one resource on one day, since the last flush."""

    calls: int = 0
    denied: int = 0
    #: The latest call's time (``auth.clock`` seconds) and client address.
    last_at: float = 0.0
    last_from: str | None = None

    def merge(self, other: Tally) -> None:
        self.calls += other.calls
        self.denied += other.denied
        if other.last_at >= self.last_at:
            self.last_at, self.last_from = other.last_at, other.last_from


def lacked_resources(denied: Mapping[str, Denial]) -> frozenset[str]:
    """The resources an operation's denials name: the missing ones, or all of a field's for admins only."""
    return frozenset(resource for denial in denied.values() for resource in (denial.missing or denial.required))


class ActivityCounter:
    """Calls per (integration, resource, day) since the last ``drain``; one per process (the app's)."""

    def __init__(self) -> None:
        self.tallies: dict[Key, Tally] = {}

    def record(
        self, integration_id: int, resources: Iterable[str], denied: Mapping[str, Denial] | None, scope: Scope
    ) -> None:
        """Count one operation of an integration: the resources it needed, and the denials it met."""
        now = clock.time()
        day = int(now // SECONDS_PER_DAY)
        client = scope.get("client")
        address = str(client[0])[:MAX_ADDRESS] if client else None
        lacked = lacked_resources(denied) if denied else frozenset()
        self._count(integration_id, REQUESTS, day, bool(denied), now, address)
        for resource in resources:
            self._count(integration_id, resource, day, resource in lacked, now, address)

    def _count(self, integration_id: int, resource: str, day: int, denied: bool, at: float, client: str | None) -> None:
        key = (integration_id, resource, day)
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        if denied:
            tally.denied += 1
        else:
            tally.calls += 1
        tally.last_at = at
        tally.last_from = client

    def drain(self) -> dict[Key, Tally]:
        """Everything counted so far; counting starts again from nothing (one swap: nothing is lost between)."""
        drained, self.tallies = self.tallies, {}
        return drained

    def restore(self, drained: Mapping[Key, Tally]) -> None:
        """Put counts back whose write failed, so that the next flush writes them with the new ones."""
        for key, tally in drained.items():
            current = self.tallies.get(key)
            if current is None:
                self.tallies[key] = tally
            else:
                current.merge(tally)
