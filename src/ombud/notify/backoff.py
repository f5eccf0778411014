"""When to try again: exponential backoff with jitter; pure, no database."""

from __future__ import annotations

from datetime import datetime, timedelta

MAX_DELAY_SECONDS = 6 * 3600.0


def retry_delay(attempts: int, base_seconds: float, jitter: float, cap_seconds: float = MAX_DELAY_SECONDS) -> float:
    """Seconds to wait after `attempts` failed attempts (1, 2, ...): base * 2**(attempts-1), capped, then
    scaled into [half, full] by `jitter` in [0, 1] so workers that failed together do not retry together."""
    if attempts < 1:
        raise ValueError("attempts counts from 1")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be within [0, 1]")
    exponent = min(attempts - 1, 62)  # beyond this the cap has long been reached
    full = min(cap_seconds, base_seconds * (2.0**exponent))
    return full * (0.5 + 0.5 * jitter)


def next_attempt(now: datetime, attempts: int, base_seconds: float, jitter: float) -> datetime:
    """The time of the next attempt after `attempts` failures."""
    return now + timedelta(seconds=retry_delay(attempts, base_seconds, jitter))
