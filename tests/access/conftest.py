"""Access test fixtures: the clock stands still at a weekday morning, so shift guards are predictable."""

from __future__ import annotations

import pytest
from accessutil import T0

from ombud.clock import FrozenClock, use_clock


@pytest.fixture
def frozen():
    clock = FrozenClock(T0)
    with use_clock(clock):
        yield clock
