"""When is a failed delivery tried again? Exponential backoff with jitter, for 24 hours after the event.

After failed attempt *n* the next one waits 1 minute doubled *n - 1* times, at most 4 hours, times a random
factor between 0.8 and 1.2 (so that the deliveries of one outage do not all come back at once):

=========  ====  ====  ====  ====  =====  =====  =====  ======  ======================
attempt n  1     2     3     4     5      6      7      8       9 and later
wait       1 m   2 m   4 m   8 m   16 m   32 m   64 m   128 m   4 h
=========  ====  ====  ====  ====  =====  =====  =====  ======  ======================

(each wait +/- 20 %). About 13 attempts fit in the window; a retry that would fall more than 24 hours after the
event is not made, and the delivery is ``FAILED``. A redelivery (``redeliverWebhook``) is one more attempt at
once, retried only while the event's 24 hours last.
"""

from __future__ import annotations

import datetime as dt
import random

FIRST_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 4 * 3600
JITTER = 0.2
RETRY_WINDOW = dt.timedelta(hours=24)

_random = random.SystemRandom()


def base_wait(attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 is the first), before jitter."""
    return float(min(FIRST_WAIT_SECONDS * 2 ** min(attempt - 1, 30), MAX_WAIT_SECONDS))


def wait(attempt: int) -> float:
    """Seconds to wait after failed attempt ``attempt``, with jitter."""
    return base_wait(attempt) * _random.uniform(1 - JITTER, 1 + JITTER)


def next_attempt(occurred_at: dt.datetime, failed_attempt: int, now: dt.datetime) -> dt.datetime | None:
    """When to try again after ``failed_attempt`` failed at ``now``; None when that is past the retry window."""
    due = now + dt.timedelta(seconds=wait(failed_attempt))
    return due if due <= occurred_at + RETRY_WINDOW else None
