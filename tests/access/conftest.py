"""Access test fixtures: a clock standing still on a weekday morning, and clients signed in as an employee."""

from __future__ import annotations

from collections.abc import Callable

import accessutil
import pytest
from accessutil import T0
from fastapi.testclient import TestClient

from ombud.clock import FrozenClock, use_clock
from ombud.staff import service as staff_service
from ombud.staff.models import Employee

HTML = {"accept": "text/html,application/xhtml+xml"}


_STORE_FIXTURES = {"connection", "session", "sessions", "ctx", "app", "api", "browser"}


@pytest.fixture(autouse=True)
def _real_outer_transaction(request):
    """Make the test's outer transaction real before any savepoint, so commits inside stay undoable.

    pysqlite begins a transaction only before data-changing statements; a SAVEPOINT issued outside one starts
    its own, and releasing it (what a session commit does in the test's savepoint mode) commits for good. A
    no-op DELETE first makes pysqlite open the outer transaction, which the fixture then rolls back.
    """
    if _STORE_FIXTURES & set(request.fixturenames):
        request.getfixturevalue("connection").exec_driver_sql("DELETE FROM access_daily_usage WHERE 1 = 0")
    yield


@pytest.fixture(autouse=True)
def _audit_start(_real_outer_transaction, request):
    if "session" in request.fixturenames:
        from ombud.audit.service import log_size

        accessutil.AUDIT_START[0] = log_size(request.getfixturevalue("session"))
    yield


@pytest.fixture
def frozen():
    clock = FrozenClock(T0)
    with use_clock(clock):
        yield clock


@pytest.fixture
def browser(app, session, settings) -> Callable[[Employee], tuple[TestClient, str]]:
    """A browser-like client signed in as the employee, and the session's CSRF token."""

    def _client(employee: Employee) -> tuple[TestClient, str]:
        started = staff_service.start_session(session, settings, employee, ip="127.0.0.1", user_agent="pytest")
        session.flush()
        client = TestClient(app, headers=HTML, follow_redirects=False)
        client.cookies.set("ombud_session", started.token)
        return client, started.record.csrf_token

    return _client
