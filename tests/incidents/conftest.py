"""Incident test fixtures: an empty audit log per test, a clock standing still, the access factories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The access tests' factories (staff, customers with every kind of record, cases) are ours too.
for _folder in ("access", "audit"):
    _path = str(Path(__file__).parent.parent / _folder)
    if _path not in sys.path:
        sys.path.append(_path)

from accessutil import T0  # noqa: E402
from auditutil import empty_log  # noqa: E402

from ombud.clock import FrozenClock, use_clock  # noqa: E402


@pytest.fixture
def session(connection, sessions):
    """The test's session over an empty audit log (scoping verifies the whole log against this test's key)."""
    empty_log(connection)
    with sessions() as session:
        yield session


@pytest.fixture
def frozen():
    clock = FrozenClock(T0)
    with use_clock(clock):
        yield clock
