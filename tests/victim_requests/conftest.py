"""Fixtures of the victim-requests tests: a frozen clock, staff, and a request made through the service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from requestutil import JANE, make_request

from ombud.clock import FrozenClock, use_clock
from ombud.staff.models import Role
from ombud.staff.testing import make_employee


@pytest.fixture
def frozen():
    """The clock, standing at 2026-11-02 15:00 UTC until a test moves it."""
    source = FrozenClock(datetime(2026, 11, 2, 15, 0, tzinfo=UTC))
    with use_clock(source):
        yield source


@pytest.fixture
def staff(session):
    """An agent of the requests team, a second agent, and two privacy officers."""
    return {
        "agent": make_employee(session, role=Role.agent, team="victim-requests"),
        "other_agent": make_employee(session, role=Role.agent, team="Support"),
        "officer": make_employee(session, role=Role.privacy_officer, team="Privacy"),
        "officer2": make_employee(session, role=Role.privacy_officer, team="Privacy"),
    }


@pytest.fixture
def request_(session, ctx, frozen):
    """Jane's request, received through the portal now."""
    return make_request(session, ctx, JANE).request
