"""Hardening test fixtures: the access tests' factories, a frozen clock, and clients signed in by API token."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "access"))

import accessutil

from ombud.clock import FrozenClock, use_clock
from ombud.staff.models import Employee

_STORE_FIXTURES = {"connection", "session", "sessions", "ctx", "app", "api"}


@pytest.fixture(autouse=True)
def _real_outer_transaction(request):
    """As in the access tests: open the outer transaction for real so commits inside stay undoable (pysqlite)."""
    if _STORE_FIXTURES & set(request.fixturenames):
        request.getfixturevalue("connection").exec_driver_sql("DELETE FROM access_daily_usage WHERE 1 = 0")
        from ombud.audit.service import log_size

        accessutil.AUDIT_START[0] = log_size(request.getfixturevalue("session"))
    yield


@pytest.fixture
def frozen():
    with use_clock(FrozenClock(accessutil.T0)) as clock:
        yield clock


@pytest.fixture
def api(api) -> Callable[[Employee], TestClient]:
    """The shared token client, with server errors answered as 500s (the hardening tests look at them)."""
    return functools.partial(api, raise_server_exceptions=False)
