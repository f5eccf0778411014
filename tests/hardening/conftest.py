"""Hardening test fixtures: the access tests' factories, a frozen clock, and clients signed in by API token."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "access"))

import accessutil

from ombud.app import create_app
from ombud.clock import FrozenClock, use_clock
from ombud.staff import service as staff_service
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
def app(ctx):
    return create_app(ctx=ctx)


@pytest.fixture
def api(app, session) -> Callable[[Employee], TestClient]:
    """A JSON client acting as the employee through an API token (server errors become 500 answers)."""

    def _client(employee: Employee) -> TestClient:
        token = staff_service.create_api_token(session, employee, name="test tool").token
        session.flush()
        return TestClient(app, headers={"authorization": f"Bearer {token}"}, raise_server_exceptions=False)

    return _client
