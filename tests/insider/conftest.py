"""Insider test fixtures: API and browser clients acting as an employee of the test's store."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from ombud.staff import service as staff_service
from ombud.staff.models import Employee

HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.fixture(autouse=True)
def _real_outer_transaction(request):
    """Open the test's outer transaction before any savepoint (see tests/access/conftest.py for why)."""
    if {"connection", "session", "ctx"} & set(request.fixturenames):
        request.getfixturevalue("connection").exec_driver_sql("DELETE FROM access_daily_usage WHERE 1 = 0")
    yield


@pytest.fixture
def browser(app, session, settings) -> Callable[[Employee], tuple[TestClient, str]]:
    def _client(employee: Employee) -> tuple[TestClient, str]:
        started = staff_service.start_session(session, settings, employee, ip="127.0.0.1", user_agent="pytest")
        session.flush()
        client = TestClient(app, headers=HTML, follow_redirects=False)
        client.cookies.set("ombud_session", started.token)
        return client, started.record.csrf_token

    return _client
