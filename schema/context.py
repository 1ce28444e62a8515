"""The per-request context every resolver receives."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from auth.activity import ActivityCounter
from auth.buckets import BucketStore
from auth.config import ConfigSnapshot, load_config
from auth.principal import Principal
from auth.rate_limits import CostReport
from auth.rules import Denial
from settings import Settings


@dataclasses.dataclass(slots=True)
class Context:
    request: Request
    response: Response | None
    principal: Principal
    settings: Settings
    #: Field coordinates denied for this operation (set by ``auth.enforcement.authorise``).
    denied: dict[str, Denial] | None = None
    #: Per-request DataLoaders, created on first use.
    loaders: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: The rate-limit buckets (``auth.buckets``); None: no throttling (a schema served without the view).
    buckets: BucketStore | None = None
    #: What this operation cost and what the caller's bucket holds (set by ``auth.rate_limits.charge``).
    cost: CostReport | None = None
    #: Where integrations' calls are counted (``auth.activity``); None: not counted (ACTIVITY_TRACKING=0).
    activity: ActivityCounter | None = None
    #: The store's settings for this request: read with the caller's credentials when it sent any (in the same
    #: statement, ``Principal.store_config``), else on first use.
    _config: ConfigSnapshot | None = None

    async def config(self) -> ConfigSnapshot:
        """The store configuration, read once per request (never cached across requests)."""
        if self._config is None:
            self._config = await load_config()
        return self._config

    async def guest_access_allowed(self) -> bool:
        return (await self.config()).allow_guest_access

    def forget_config(self) -> None:
        """After a config write, so the rest of the request reads the new values."""
        self._config = None
