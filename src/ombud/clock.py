"""The one source of the current time: aware UTC, replaceable so tests can move time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return _source()


def ensure_utc(value: datetime) -> datetime:
    """The same instant as an aware UTC datetime; naive values are taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class FrozenClock:
    """A clock that stands still until moved; for tests and simulations."""

    def __init__(self, start: datetime) -> None:
        self.current = ensure_utc(start)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward and return the new time."""
        self.current += delta
        return self.current


@contextmanager
def use_clock(source: Callable[[], datetime]) -> Iterator[Callable[[], datetime]]:
    """Replace the clock for the duration of a block."""
    global _source
    previous = _source
    _source = source
    try:
        yield source
    finally:
        _source = previous
