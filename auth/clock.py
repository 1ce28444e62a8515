"""The one clock the server reads, so that tests can move time instead of sleeping."""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    def __init__(self) -> None:
        self.offset = 0.0
        #: When frozen, the wall time it stopped at: time then moves only by ``advance``.
        self.frozen_at: float | None = None

    def time(self) -> float:
        return (time.time() if self.frozen_at is None else self.frozen_at) + self.offset

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.time(), tz=dt.UTC)

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def freeze(self) -> None:
        """Stop time where it is (tests whose numbers would otherwise drift with a slow machine)."""
        self.frozen_at = time.time()

    def reset(self) -> None:
        self.offset = 0.0
        self.frozen_at = None


clock = Clock()
